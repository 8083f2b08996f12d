import type Database from 'better-sqlite3';

type Queued = { work: () => unknown; resolve: (value: unknown) => void; reject: (reason: unknown) => void };
type Done = { item: Queued; result: unknown };

/**
 * Group commit: the writes queued during one turn of the event loop run in one transaction with one commit
 * (one WAL fsync, and pages that several writes touch written to the WAL once), each in a savepoint of its own.
 * A write that throws is rolled back to its savepoint and fails alone; the others commit. Every caller's
 * promise settles only after the commit has returned (synchronous=FULL: on disk), so nothing is acknowledged
 * before it is durable.
 *
 * The group runs synchronously from begin to commit, as every other transaction of the store: no other request
 * runs while it is open, so none reads its uncommitted rows, and the read cache stays off inside it.
 *
 * `work` is synchronous and atomic on its own: a table method whose body runs in `db.transaction(...)`, which
 * better-sqlite3 turns into a savepoint inside the group (rolled back to, then released, when it throws).
 */
export class GroupCommit {
  readonly #db: Database.Database;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #rollback: Database.Statement;
  #queue: Queued[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
    // IMMEDIATE: the write lock from the start, as the store's other transactions (several processes, one file).
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
  }

  /**
   * Queues `work` (its writes inside its own `db.transaction`) for the next group; settles with its result or
   * its error once the group has committed.
   */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // After the poll phase: every request read in this turn has queued its write by then.
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Runs what is queued now (also before the store closes, so no queued write is lost). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    let pending = this.#queue;
    this.#queue = [];
    while (pending.length > 0) pending = this.#commitGroup(pending);
  }

  /** One transaction over `items`; returns the items to run again in a new one (see #runAll). */
  #commitGroup(items: Queued[]): Queued[] {
    try {
      this.#begin.run();
    } catch (error) {
      for (const item of items) item.reject(error);
      return [];
    }
    const { done, retry } = this.#runAll(items);
    if (retry.length > 0) return retry;
    try {
      this.#commit.run();
    } catch (error) {
      this.#rollBackQuietly();
      for (const { item } of done) item.reject(error);
      return [];
    }
    for (const { item, result } of done) item.resolve(result);
    return [];
  }

  /** After a failed COMMIT: the commit's own error is the one the callers get, not a failure to roll back. */
  #rollBackQuietly(): void {
    try {
      if (this.#db.inTransaction) this.#rollback.run();
    } catch {
      // The connection is unusable either way; SQLite rolls back an open transaction when it closes.
    }
  }

  /**
   * Each item runs in its own savepoint. Some errors (SQLITE_FULL, I/O errors) make SQLite roll back the whole
   * transaction, not only the statement: then the failing item fails, and the ones before it, whose writes
   * were lost with it, run again in a new group with those not yet run.
   */
  #runAll(items: Queued[]): { done: Done[]; retry: Queued[] } {
    const done: Done[] = [];
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      try {
        done.push({ item, result: item.work() });
      } catch (error) {
        item.reject(error);
        if (!this.#db.inTransaction) return { done: [], retry: [...done.map((entry) => entry.item), ...items.slice(index + 1)] };
      }
    }
    return { done, retry: [] };
  }
}
