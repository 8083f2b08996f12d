/**
 * The audit writer thread: appends audit rows with its own connection to the database file, so that the
 * commit's fsync (synchronous=FULL) and the inserts run beside the event loop instead of blocking it.
 *
 * It is told what the chain head was when the rows were sealed, and appends them only if that is still the
 * head, checked inside the same IMMEDIATE transaction that inserts them: the chain is extended under the
 * write lock, so no other connection or process can append in between. Otherwise it rolls back and answers
 * with the actual head, and the caller seals again. Messages are handled one at a time, in order.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export type ChainHead = { sequence: number; hash: string } | undefined;

/** The thirteen columns of an audit_events row, in INSERT order. */
export type AuditRow = [
  sequence: number, eventId: string, accountId: string, eventTime: number, eventName: string, eventSource: string, readOnly: 0 | 1,
  accessKeyId: string, username: string, resourceNames: string, body: string, prevHash: string, hash: string,
];

export type WriterRequest = { kind: 'append'; id: number; expected: ChainHead; rows: AuditRow[] } | { kind: 'close' };
export type WriterReply =
  | { id: number; outcome: 'appended' }
  | { id: number; outcome: 'moved'; head: ChainHead }
  | { id: number; outcome: 'failed'; message: string };

/**
 * The state the two threads share: two Int32 in a SharedArrayBuffer. [LOCK] is a lock (0 free, 1 held),
 * [CLOSED] turns 1 when the writer has closed its connection. The writer holds the lock
 * around each append; the main connection holds it around each of its transactions. Without it the writer
 * could commit between a main transaction's first read and its first write, and SQLite refuses to upgrade
 * such a stale read transaction (SQLITE_BUSY, "database is locked", without waiting).
 */
export const LOCK = 0;
export const CLOSED = 1;
export const SHARED_STATE_BYTES = 8;

export function acquire(lock: Int32Array): void {
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1, 100);
}

export function release(lock: Int32Array): void {
  Atomics.store(lock, 0, 0);
  Atomics.notify(lock, 0, 1);
}

export const INSERT_AUDIT_ROW = `INSERT INTO audit_events (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id,
   username, resource_names, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
export const SELECT_CHAIN_HEAD = 'SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1';

class HeadMoved extends Error {
  constructor(readonly head: ChainHead) {
    super('the audit chain head moved');
  }
}

function sameHead(a: ChainHead, b: ChainHead): boolean {
  return a === undefined || b === undefined ? a === b : a.sequence === b.sequence && a.hash === b.hash;
}

function serve(path: string, lock: Int32Array): void {
  const db = new Database(path);
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const head = db.prepare(SELECT_CHAIN_HEAD);
  const insert = db.prepare(INSERT_AUDIT_ROW);
  const append = db.transaction((expected: ChainHead, rows: AuditRow[]) => {
    const actual = head.get() as ChainHead;
    if (!sameHead(actual, expected)) throw new HeadMoved(actual && { sequence: actual.sequence, hash: actual.hash });
    for (const row of rows) insert.run(...row);
  });

  parentPort!.on('message', (request: WriterRequest) => {
    if (request.kind === 'close') {
      db.close();
      Atomics.store(lock, CLOSED, 1);
      Atomics.notify(lock, CLOSED);
      parentPort!.close();
      return;
    }
    let reply: WriterReply;
    try {
      acquire(lock);
      try {
        append.immediate(request.expected, request.rows);
      } finally {
        release(lock);
      }
      reply = { id: request.id, outcome: 'appended' };
    } catch (error) {
      reply =
        error instanceof HeadMoved
          ? { id: request.id, outcome: 'moved', head: error.head }
          : { id: request.id, outcome: 'failed', message: error instanceof Error ? error.message : String(error) };
    }
    parentPort!.postMessage(reply);
  });
}

if (parentPort && (workerData as { role?: string } | undefined)?.role === 'coffer-audit-writer') {
  const data = workerData as { path: string; lock: SharedArrayBuffer };
  serve(data.path, new Int32Array(data.lock));
}
