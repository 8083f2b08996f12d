import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';
import type Database from 'better-sqlite3';

type Queued = { work: () => unknown; resolve: (value: unknown) => void; reject: (reason: unknown) => void };

/** Makes what was written to the WAL so far durable; calls back once it is (or with the error). */
export type WalSync = (done: (error: Error | null) => void) => void;

/**
 * Group commit: the writes queued during one turn of the event loop run in one transaction with one commit
 * (one WAL fsync, and pages that several writes touch written to the WAL once). Every caller's promise settles
 * only after the group is on disk, so nothing is acknowledged before it is durable.
 *
 * With a WAL file to sync (a database on disk), the group commits at synchronous=NORMAL (SQLite writes the WAL
 * frames and returns without an fsync) and the WAL is fdatasync'ed on libuv's thread pool; the callers' promises
 * settle when that returns. The request thread does not sit in the fsync: it handles the next requests, and the
 * next group, meanwhile (issue 21). Every other transaction of the connection stays at synchronous=FULL, and an
 * autocheckpoint inside the group's COMMIT still syncs the WAL before copying it and the database after (what
 * NORMAL does). What this gives up: for the length of one fdatasync, another request on this connection can read
 * a group's rows before they are on disk (an OS crash in that window loses them; a process crash does not, they
 * are in the page cache). Without a WAL file (`:memory:`, tests), the group commits at FULL and settles at once.
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
  /** The WAL's fdatasync after a group's NORMAL commit; undefined: commit at FULL and settle at once. */
  readonly #syncWal: WalSync | undefined;
  #queue: Queued[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  /** `syncWal`: a `WalFile`'s sync for a database on disk (see the class comment). */
  constructor(db: Database.Database, syncWal?: WalSync) {
    this.#db = db;
    this.#syncWal = syncWal;
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

  /** Runs what is queued now; each group's callers settle once its WAL sync returns. */
  flush(): void {
    this.#runQueued(this.#syncWal);
  }

  /** Before the store closes: what is queued commits at FULL and settles at once (no sync left in flight). */
  flushDurably(): void {
    this.#runQueued(undefined);
  }

  #runQueued(syncWal: WalSync | undefined): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    let pending = this.#queue;
    this.#queue = [];
    if (pending.length === 0) return;
    // Set each time, not through a prepared Statement: a prepared PRAGMA's first run after preparing sets nothing.
    // SQLite refuses it inside a transaction, as it refuses the group's BEGIN: the callers get that error.
    if (syncWal && !this.#setSynchronous('NORMAL', pending)) return;
    try {
      while (pending.length > 0) pending = this.#commitGroup(pending, syncWal);
    } finally {
      if (syncWal) this.#setSynchronous('FULL', []);
    }
  }

  /**
   * One transaction over `items`. When one throws, the transaction is rolled back (SQLite may have done so
   * itself: SQLITE_FULL, I/O errors), that item fails, and the others are returned to run again in a new one.
   */
  #commitGroup(items: Queued[], syncWal: WalSync | undefined): Queued[] {
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
    if (!syncWal) {
      items.forEach((item, index) => item.resolve(results[index]));
      return [];
    }
    syncWal((error) => {
      if (error) for (const item of items) item.reject(error);
      else items.forEach((item, index) => item.resolve(results[index]));
    });
    return [];
  }

  /** False when SQLite refused (an open transaction), with `items` rejected; nothing here throws out of a flush. */
  #setSynchronous(level: 'NORMAL' | 'FULL', items: Queued[]): boolean {
    try {
      this.#db.pragma(`synchronous = ${level}`);
      return true;
    } catch (error) {
      for (const item of items) item.reject(error);
      return false;
    }
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

/**
 * fdatasync of a WAL file on libuv's thread pool, through a descriptor of its own: on Linux an fsync flushes
 * the file's pages whoever wrote them. Opened at the first sync (SQLite creates the WAL at the first write) and
 * again if the file it names was removed (the last connection to close deletes it; a removed WAL was
 * checkpointed into the database and synced first, so only the current file needs the sync). A descriptor is
 * closed only once no sync on it is in flight, so a sync never reaches a number reused for another file.
 */
export class WalFile {
  readonly #path: string;
  #fd: number | undefined;
  /** Syncs in flight per descriptor, and descriptors to close when theirs end. */
  readonly #inFlight = new Map<number, number>();
  readonly #retired = new Set<number>();

  constructor(path: string) {
    this.#path = path;
  }

  readonly sync: WalSync = (done) => {
    let fd: number;
    try {
      fd = this.#current();
    } catch (error) {
      done(error as Error);
      return;
    }
    this.#inFlight.set(fd, (this.#inFlight.get(fd) ?? 0) + 1);
    fdatasync(fd, (error) => {
      const left = this.#inFlight.get(fd)! - 1;
      if (left > 0) this.#inFlight.set(fd, left);
      else this.#inFlight.delete(fd);
      if (left === 0 && this.#retired.delete(fd)) closeSync(fd);
      done(error);
    });
  };

  /** Closes the descriptor now, or when the syncs in flight on it end. */
  close(): void {
    if (this.#fd !== undefined) this.#retire(this.#fd);
    this.#fd = undefined;
  }

  #current(): number {
    if (this.#fd !== undefined && fstatSync(this.#fd).nlink === 0) this.close();
    this.#fd ??= openSync(this.#path, 'r');
    return this.#fd;
  }

  #retire(fd: number): void {
    if (this.#inFlight.has(fd)) this.#retired.add(fd);
    else closeSync(fd);
  }
}
