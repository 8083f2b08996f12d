import { frozenSize } from '../frozen-size.js';
import type { ReadCacheStats } from '../store.js';
import { ScopedKeys, type WriteScope } from '../read-cache-scope.js';

/**
 * What a read found, and other records the same statement found with it, by their cache keys, each with the secret
 * it belongs to (its scope: read-cache-scope.ts), if any.
 */
export type ReadWithAlongside<T> = { value: T | undefined; alongside?: ReadonlyArray<readonly [key: string, value: object, scope?: string]> };

export type TimedReadCacheLimits = {
  maxEntries: number;
  maxBytes: number;
  maxAgeMs: number;
  /** How long an entry may be served while the node is told of other nodes' writes (heardAllWritesBefore); default maxAgeMs. */
  maxLifetimeMs?: number;
};

/**
 * The results of the store's hot point reads (a secret by name or ARN, a version, a KMS key, an access key, an
 * IAM identity): what keeps GetSecretValue and Decrypt from paying a database round trip for each of them. How
 * fresh, by two rules:
 *
 * - this node's own writes: every transaction that writes empties the cache when it ends (committed or not), or
 *   only the entries of the secrets it names (invalidateScope), and a read that overlapped such an end is returned
 *   but not kept when that write could have changed it (all of the cache, or the read's secret): it may have read
 *   the row before the write committed. So a call sees every write this node acknowledged before it.
 * - other nodes' writes: an entry is served only while one of these holds, so a change made through another node
 *   is seen here within `maxAgeMs` of its answer (the bound is one second):
 *   - its read began less than `maxAgeMs` ago: needs nothing from the database beyond reads, so it holds on the
 *     distributed engines too;
 *   - the node heard, less than `maxAgeMs` ago, every write committed up to then (heardAllWritesBefore, told by
 *     read-cache-notifications.ts, which empties the cache, or the written secrets' entries, on each such write),
 *     and the entry is younger than
 *     `maxLifetimeMs`: the bound on how long a change the node cannot hear of (made with psql, say) stays unseen.
 *
 * Records are frozen before they are shared, and the cache holds at most `maxEntries` records and about
 * `maxBytes` of them, the oldest leaving first (as the SQLite backend's cache).
 */
export class TimedReadCache {
  readonly #limits: TimedReadCacheLimits;
  readonly #now: () => number;
  #entries = new Map<string, { value: unknown; bytes: number; readAt: number; scope: string | undefined }>();
  #scopedKeys = new ScopedKeys();
  #bytes = 0;
  /** Counts invalidations, whole or scoped: a read remembers the count it began at. */
  #generation = 0;
  /** The generation of the last whole invalidation. */
  #emptiedAt = 0;
  /** Scoped invalidations while reads were in flight: secret ARN → generation, oldest first. */
  #scopesEmptiedAt = new Map<string, number>();
  /** The reads in flight (a number each) → the generation each began at, oldest first. */
  #readsInFlight = new Map<number, number>();
  #nextRead = 0;
  #heardAllBefore = Number.NEGATIVE_INFINITY;
  #hits = 0;
  #misses = 0;

  constructor(limits: TimedReadCacheLimits, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
  }

  /**
   * The cached result for `key` while fresh, else `read()`'s, kept when it found something that `keep` accepts.
   * `scopeOf` names the secret a record belongs to, so that a write of that secret alone drops it (invalidateScope).
   */
  get<T extends object>(key: string, read: () => Promise<T | undefined>, keep?: (value: T) => boolean, scopeOf?: (value: T) => string): Promise<T | undefined> {
    return this.getWith(key, async () => ({ value: await read() }), keep, scopeOf);
  }

  /**
   * As get, for a read that found more than it was asked: the records in `alongside` (other keys, read in the same
   * statement, so from the same snapshot) are kept as if each had been read at the same moment.
   */
  async getWith<T extends object>(
    key: string,
    read: () => Promise<ReadWithAlongside<T>>,
    keep?: (value: T) => boolean,
    scopeOf?: (value: T) => string,
  ): Promise<T | undefined> {
    const readAt = this.#now();
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      if (this.#fresh(cached.readAt, readAt)) {
        this.#hits += 1;
        return cached.value as T;
      }
      this.#delete(key, cached);
    }
    this.#misses += 1;
    const began = this.#generation;
    const readNumber = this.#nextRead++;
    this.#readsInFlight.set(readNumber, began);
    let found: ReadWithAlongside<T>;
    try {
      found = await read();
    } finally {
      this.#readsInFlight.delete(readNumber);
    }
    const { value, alongside = [] } = found;
    if (value === undefined || this.#limits.maxAgeMs <= 0 || (keep && !keep(value))) return this.#forgetScopesDone(value);
    const scope = scopeOf?.(value);
    if (this.#unchangedSince(began, scope)) {
      this.#keep(key, value, readAt, scope);
      for (const [otherKey, other, otherScope] of alongside) if (this.#unchangedSince(began, otherScope)) this.#keep(otherKey, other, readAt, otherScope);
    }
    return this.#forgetScopesDone(value);
  }

  /**
   * Whether no invalidation since generation `began` could have changed a record of `scope`: no whole one, and no
   * write of that secret (a record of no secret, a key say, is changed only by writes that empty everything).
   */
  #unchangedSince(began: number, scope: string | undefined): boolean {
    if (this.#emptiedAt > began) return false;
    return scope === undefined || (this.#scopesEmptiedAt.get(scope) ?? Number.NEGATIVE_INFINITY) <= began;
  }

  /** Drops the scoped invalidations no read in flight began before: no read can be kept against them any more. */
  #forgetScopesDone<V>(value: V): V {
    const oldestInFlight = this.#readsInFlight.values().next();
    const horizon = oldestInFlight.done ? this.#generation : oldestInFlight.value;
    for (const [scope, at] of this.#scopesEmptiedAt) {
      if (at > horizon) break;
      this.#scopesEmptiedAt.delete(scope);
    }
    return value;
  }

  #keep(key: string, value: object, readAt: number, scope: string | undefined): void {
    const bytes = frozenSize(value);
    if (bytes > this.#limits.maxBytes) return;
    const previous = this.#entries.get(key);
    if (previous) this.#delete(key, previous);
    while (this.#entries.size > 0 && (this.#entries.size >= this.#limits.maxEntries || this.#bytes + bytes > this.#limits.maxBytes)) this.#evictOldest();
    this.#entries.set(key, { value, bytes, readAt, scope });
    if (scope !== undefined) this.#scopedKeys.add(scope, key);
    this.#bytes += bytes;
  }

  /**
   * Every write committed before `at` (this cache's clock) has been heard of, and emptied the cache: entries may be
   * served up to `maxAgeMs` past `at` (read-cache-notifications.ts).
   */
  heardAllWritesBefore(at: number): void {
    if (at > this.#heardAllBefore) this.#heardAllBefore = at;
  }

  #fresh(entryReadAt: number, now: number): boolean {
    const age = now - entryReadAt;
    return age < this.#limits.maxAgeMs || (age < (this.#limits.maxLifetimeMs ?? 0) && now - this.#heardAllBefore < this.#limits.maxAgeMs);
  }

  /** A write of this node (or, told by read-cache-notifications.ts, of another) ended: nothing read before it may be served after it. */
  invalidate(): void {
    this.#generation += 1;
    this.#emptiedAt = this.#generation;
    if (this.#entries.size > 0) this.#entries = new Map();
    this.#scopedKeys.clear();
    if (this.#scopesEmptiedAt.size > 0) this.#scopesEmptiedAt = new Map();
    this.#bytes = 0;
  }

  /**
   * A write of these secrets alone (this node's, or another's as read-cache-notifications.ts hears it) ended:
   * their entries go, and a read of them that overlapped the write is not kept; every other entry stays.
   */
  invalidateScope(scope: WriteScope): void {
    this.#generation += 1;
    for (const arn of scope.secretArns) {
      for (const key of this.#scopedKeys.take(arn)) {
        const entry = this.#entries.get(key);
        if (entry) this.#deleteEntry(key, entry);
      }
      if (this.#readsInFlight.size === 0) continue;
      // Kept in the order of their generations, so the oldest are forgotten first (#forgetScopesDone).
      this.#scopesEmptiedAt.delete(arn);
      this.#scopesEmptiedAt.set(arn, this.#generation);
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

  #delete(key: string, entry: { bytes: number; scope: string | undefined }): void {
    this.#deleteEntry(key, entry);
    if (entry.scope !== undefined) this.#scopedKeys.remove(entry.scope, key);
  }

  /** Drops an entry, leaving the scope index alone. */
  #deleteEntry(key: string, entry: { bytes: number }): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  #evictOldest(): void {
    const [key, oldest] = this.#entries.entries().next().value!;
    this.#delete(key, oldest);
  }
}
