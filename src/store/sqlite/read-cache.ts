import type Database from 'better-sqlite3';

/**
 * The results of the store's hot point reads (a secret by name or ARN, a version, a KMS key, an access key, an
 * IAM identity), kept between requests: on GetSecretValue and Decrypt these statements were a quarter of the
 * request thread's time (bench/RESULTS.md). Never stale, by three rules:
 *
 * - any write of this connection empties the cache: every statement that is not a plain SELECT is fetched
 *   through the store's prepare function just before it runs, and fetching one calls `invalidate()`;
 * - nothing is cached while a transaction is open (a read after a write inside it could still roll back);
 * - other connections' writes (other processes of a cluster) change SQLite's `PRAGMA data_version`, which is
 *   read at the first cached read of each turn of the event loop. A request is read from its socket before
 *   the turn that serves it begins, so it sees every write acknowledged before it was sent.
 *
 * Records are frozen before they are shared: a caller that tried to change one would throw, not poison the cache.
 * Values are what the store returns anyway (sealed values and key material stay sealed).
 */
export class ReadCache {
  readonly #db: Database.Database;
  readonly #dataVersion: Database.Statement;
  readonly #maxEntries: number;
  #entries = new Map<string, unknown>();
  #knownDataVersion = -1;
  #checkedThisTurn = false;

  constructor(db: Database.Database, maxEntries: number) {
    this.#db = db;
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#maxEntries = maxEntries;
  }

  /** The cached result for `key`, or `read()`'s, kept when it found something. */
  get<T extends object>(key: string, read: () => T | undefined): T | undefined {
    if (this.#db.inTransaction) return read();
    this.#checkOtherWriters();
    const cached = this.#entries.get(key) as T | undefined;
    if (cached !== undefined) return cached;
    const value = read();
    if (value === undefined) return undefined;
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, deepFreeze(value));
    return value;
  }

  invalidate(): void {
    if (this.#entries.size > 0) this.#entries = new Map();
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

/** SQL that only reads: a cache entry survives it. Anything else (INSERT, UPDATE ... RETURNING, DDL) does not. */
export function isPlainRead(sql: string): boolean {
  return /^\s*SELECT\b/i.test(sql);
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Object.isFrozen(value)) return value;
  for (const member of Object.values(value)) deepFreeze(member);
  return Object.freeze(value);
}
