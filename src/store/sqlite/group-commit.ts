import type Database from 'better-sqlite3';

type Queued = { work: () => unknown; resolve: (value: unknown) => void; reject: (reason: unknown) => void };

/**
 * Group commit: the writes queued during one turn of the event loop run in one transaction with one commit
 * (one WAL fsync, and pages that several writes touch written to the WAL once). Every caller's promise settles
 * only after the commit has returned (synchronous=FULL: on disk), so nothing is acknowledged before it is durable.
 *
 * Each write runs bare in the group's transaction, without a savepoint of its own: a write that throws has the
 * whole group rolled back, fails alone, and the others run again in a new group. A SAVEPOINT and RELEASE per
 * write, and the copy of every page it first touches into the statement journal, cost every put for the sake
 * of a failure that is rare (a client error from a label planner, SQLITE_FULL); running a group twice then is
 * cheaper. So `work` must be safe to run again: synchronous, its outcome a function of the database's state
 * and its own inputs.
 *
 * The group runs synchronously from begin to commit, as every other transaction of the store: no other request
 * runs while it is open, so none reads its uncommitted rows, and the read cache stays off inside it.
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
   * Queues `work` (its writes, made in the group's transaction) for the next group; settles with its result or
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

  /**
   * One transaction over `items`. When one throws, the transaction is rolled back (SQLite may have done so
   * itself: SQLITE_FULL, I/O errors), that item fails, and the others are returned to run again in a new one.
   */
  #commitGroup(items: Queued[]): Queued[] {
    try {
      this.#begin.run();
    } catch (error) {
      for (const item of items) item.reject(error);
      return [];
    }
    const results: unknown[] = [];
    for (const [index, item] of items.entries()) {
      try {
        results.push(item.work());
      } catch (error) {
        this.#rollBackQuietly();
        item.reject(error);
        return items.filter((_, other) => other !== index);
      }
    }
    try {
      this.#commit.run();
    } catch (error) {
      this.#rollBackQuietly();
      for (const item of items) item.reject(error);
      return [];
    }
    items.forEach((item, index) => item.resolve(results[index]));
    return [];
  }

  /** After a failed write or COMMIT: its own error is the one the callers get, not a failure to roll back. */
  #rollBackQuietly(): void {
    try {
      if (this.#db.inTransaction) this.#rollback.run();
    } catch {
      // The connection is unusable either way; SQLite rolls back an open transaction when it closes.
    }
  }
}
