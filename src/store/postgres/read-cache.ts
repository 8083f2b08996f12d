import { frozenSize } from '../frozen-size.js';
import type { ReadCacheStats } from '../store.js';

/** What a read found, and other records the same statement found with it, by their cache keys. */
export type ReadWithAlongside<T> = { value: T | undefined; alongside?: ReadonlyArray<readonly [string, object]> };

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
 * - this node's own writes: every transaction that writes bumps the generation when it ends (committed or not),
 *   which empties the cache, and a read that overlapped a generation change is returned but not kept (it may
 *   have read the row before the write committed). So a call sees every write this node acknowledged before it.
 * - other nodes' writes: an entry is served only while one of these holds, so a change made through another node
 *   is seen here within `maxAgeMs` of its answer (the issue's bound is one second):
 *   - its read began less than `maxAgeMs` ago: needs nothing from the database beyond reads, so it holds on the
 *     distributed engines too;
 *   - the node heard, less than `maxAgeMs` ago, every write committed up to then (heardAllWritesBefore, told by
 *     read-cache-notifications.ts, which empties the cache on each such write), and the entry is younger than
 *     `maxLifetimeMs`: the bound on how long a change the node cannot hear of (made with psql, say) stays unseen.
 *
 * Records are frozen before they are shared, and the cache holds at most `maxEntries` records and about
 * `maxBytes` of them, the oldest leaving first (as the SQLite backend's cache).
 */
export class TimedReadCache {
  readonly #limits: TimedReadCacheLimits;
  readonly #now: () => number;
  #entries = new Map<string, { value: unknown; bytes: number; readAt: number }>();
  #bytes = 0;
  #generation = 0;
  #heardAllBefore = Number.NEGATIVE_INFINITY;
  #hits = 0;
  #misses = 0;

  constructor(limits: TimedReadCacheLimits, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
  }

  /** The cached result for `key` while fresh, else `read()`'s, kept when it found something that `keep` accepts. */
  get<T extends object>(key: string, read: () => Promise<T | undefined>, keep: (value: T) => boolean = () => true): Promise<T | undefined> {
    return this.getWith(key, async () => ({ value: await read() }), keep);
  }

  /**
   * As get, for a read that found more than it was asked: the records in `alongside` (other keys, read in the same
   * statement, so from the same snapshot) are kept as if each had been read at the same moment.
   */
  async getWith<T extends object>(key: string, read: () => Promise<ReadWithAlongside<T>>, keep: (value: T) => boolean = () => true): Promise<T | undefined> {
    const readAt = this.#now();
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      if (this.#fresh(cached.readAt, readAt)) {
        this.#hits += 1;
        return cached.value as T;
      }
      this.#delete(key, cached.bytes);
    }
    this.#misses += 1;
    const generation = this.#generation;
    const { value, alongside = [] } = await read();
    if (value === undefined || generation !== this.#generation || this.#limits.maxAgeMs <= 0 || !keep(value)) return value;
    this.#keep(key, value, readAt);
    for (const [otherKey, other] of alongside) this.#keep(otherKey, other, readAt);
    return value;
  }

  #keep(key: string, value: object, readAt: number): void {
    const bytes = frozenSize(value);
    if (bytes > this.#limits.maxBytes) return;
    const previous = this.#entries.get(key);
    if (previous) this.#delete(key, previous.bytes);
    while (this.#entries.size > 0 && (this.#entries.size >= this.#limits.maxEntries || this.#bytes + bytes > this.#limits.maxBytes)) this.#evictOldest();
    this.#entries.set(key, { value, bytes, readAt });
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
    if (this.#entries.size > 0) this.#entries = new Map();
    this.#bytes = 0;
  }

  /** What the cache holds now (tests). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** Reads answered from the cache and reads passed to the database so far, and what it holds now (metrics). */
  stats(): ReadCacheStats {
    return { hits: this.#hits, misses: this.#misses, ...this.size };
  }

  #delete(key: string, bytes: number): void {
    this.#entries.delete(key);
    this.#bytes -= bytes;
  }

  #evictOldest(): void {
    const [key, oldest] = this.#entries.entries().next().value!;
    this.#delete(key, oldest.bytes);
  }
}
