import type Database from 'better-sqlite3';
import { cacheEntryOverhead, frozenSize } from '../frozen-size.js';
import type { ReadCacheStats } from '../store.js';
import { ScopedKeys, type WriteScope } from '../read-cache-scope.js';

/**
 * The results of the store's hot point reads (a secret by name or ARN, a version, a KMS key, an access key, an
 * IAM identity), kept between requests: on GetSecretValue and Decrypt these statements were a quarter of the
 * request thread's time (bench/RESULTS.md). Never stale, by three rules:
 *
 * - any write of this connection empties the cache: every statement that is not a plain SELECT is fetched
 *   through the store's prepare function just before it runs, and fetching one calls `invalidate()`, or, inside a
 *   method that names the secrets it writes (read-cache-scope.ts), `invalidateScope()`: that secret's entries only;
 * - nothing is cached while a transaction is open (a read after a write inside it could still roll back);
 * - other connections' writes (other processes of a cluster) change SQLite's `PRAGMA data_version`, which is
 *   read at the first cached read of each turn of the event loop. A request is read from its socket before
 *   the turn that serves it begins, so it sees every write acknowledged before it was sent.
 *
 * Records are frozen before they are shared: a caller that tried to change one would throw, not poison the cache.
 * Values are what the store returns anyway (sealed values and key material stay sealed).
 *
 * It holds at most `maxBytes` of memory, the oldest entry leaving first. The bound is in bytes, not entries, because
 * what a record costs varies 60-fold (a KMS key against a 64 KB secret version), and the bytes are what the
 * process's resident memory is made of: each entry is counted as V8 and Node lay it out (frozen-size.ts: the
 * record's objects, strings and buffers, and the entry's key and Map slots).
 */
export type ReadCacheLimits = { maxBytes: number };

export class ReadCache {
  readonly #db: Database.Database;
  readonly #dataVersion: Database.Statement;
  readonly #limits: ReadCacheLimits;
  #entries = new Map<string, { value: unknown; bytes: number; scope: string | undefined }>();
  #scopedKeys = new ScopedKeys();
  #bytes = 0;
  #knownDataVersion = -1;
  #checkedThisTurn = false;
  #hits = 0;
  #misses = 0;

  constructor(db: Database.Database, limits: ReadCacheLimits) {
    this.#db = db;
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#limits = limits;
  }

  /**
   * The cached result for `key`, or `read()`'s, kept when it found something. `scopeOf` names the secret a record
   * belongs to, so that a write of that secret alone drops it (invalidateScope).
   */
  get<T extends object>(key: string, read: () => T | undefined, scopeOf?: (value: T) => string): T | undefined {
    if (this.#db.inTransaction) {
      this.#misses += 1;
      return read();
    }
    this.#checkOtherWriters();
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      this.#hits += 1;
      return cached.value as T;
    }
    this.#misses += 1;
    const value = read();
    if (value === undefined) return undefined;
    const bytes = frozenSize(value) + cacheEntryOverhead(key);
    if (bytes > this.#limits.maxBytes) return value;
    while (this.#bytes + bytes > this.#limits.maxBytes) this.#evictOldest();
    const scope = scopeOf?.(value);
    this.#entries.set(key, { value, bytes, scope });
    if (scope !== undefined) this.#scopedKeys.add(scope, key);
    this.#bytes += bytes;
    return value;
  }

  invalidate(): void {
    if (this.#entries.size > 0) this.#entries = new Map();
    this.#scopedKeys.clear();
    this.#bytes = 0;
  }

  /** A write of these secrets alone: their entries go, every other entry stays. */
  invalidateScope(scope: WriteScope): void {
    for (const arn of scope.secretArns) {
      for (const key of this.#scopedKeys.take(arn)) this.#delete(key);
    }
  }

  /** What the cache holds now (tests). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** Reads answered from the cache and reads passed to the database so far, and what it holds now (metrics). */
  stats(): ReadCacheStats {
    return { hits: this.#hits, misses: this.#misses, ...this.size };
  }

  #evictOldest(): void {
    const [key, oldest] = this.#entries.entries().next().value!;
    this.#entries.delete(key);
    this.#bytes -= oldest.bytes;
    if (oldest.scope !== undefined) this.#scopedKeys.remove(oldest.scope, key);
  }

  /** Drops an entry the scope index has already forgotten. */
  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  #checkOtherWriters(): void {
    if (this.#checkedThisTurn) return;
    this.#checkedThisTurn = true;
    setImmediate(() => (this.#checkedThisTurn = false)).unref();
    const version = this.#dataVersion.get() as number;
    if (version !== this.#knownDataVersion) {
      this.#knownDataVersion = version;
      this.invalidate();
    }
  }
}
