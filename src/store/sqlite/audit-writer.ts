/**
 * The audit log's own database file (`<data-dir>/audit.db`) and its one writer.
 *
 * Audit appends live in a file of their own so they never wait for, or hold up, the store's write lock on
 * coffer.db. The writer seals each batch itself: inside one IMMEDIATE transaction it reads the chain head
 * (under the write lock, so nobody can append in between), computes prevHash/hash for every event after it
 * and inserts them; the SHA-256 runs here, not on a request's thread. The writer is a worker thread
 * (`AuditWriterThread`) with its own connection, so the commit's fsync (synchronous=FULL) runs beside the
 * event loop. In cluster mode the primary process owns the only writer and the workers send it their
 * batches (server/cluster.ts); either way a caller sees an `AuditAppender`.
 */
import { closeSync, openSync } from 'node:fs';
import { setFlagsFromString, type HeapInfo } from 'node:v8';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AuditAnchorer, type AuditAnchor, type AuditAnchoring, type AuditAnchorOptions } from '../audit-anchor.js';
import { encodeAuditHash } from '../audit-codec.js';
import { chainHash, GENESIS_HASH } from '../audit-hash.js';
import { migrateAuditLog } from './audit-migrations.js';
import { appendedAuditRow, AUDIT_COLUMNS, AuditNames, storedHashHex, type AuditDraftRow } from './audit-rows.js';

export type { AuditDraftRow } from './audit-rows.js';

/** The place an appended event got in the chain. */
export type AuditSeal = { sequence: number; prevHash: string; hash: string };

/**
 * A batch's seals as the writer thread answers them: the first event's sequence and prevHash, and every event's
 * hash in order, hex, one after the other (each event's prevHash is the hash before it). One string crosses to
 * the request thread instead of an object per event: the structured clone of 64 seal objects cost both threads
 * ~0.5 µs an event (bench/RESULTS.md, issue 21).
 */
export type SealedBatch = { firstSequence: number; prevHash: string; hashes: string };

const HASH_HEX_LENGTH = 64;

/** The seals of a sealed batch of `count` events. */
export function sealsOf(sealed: SealedBatch, count: number): AuditSeal[] {
  if (sealed.hashes.length !== count * HASH_HEX_LENGTH) throw new Error(`the audit writer sealed ${sealed.hashes.length / HASH_HEX_LENGTH} events of ${count}`);
  const seals: AuditSeal[] = new Array<AuditSeal>(count);
  let prevHash = sealed.prevHash;
  for (let index = 0; index < count; index += 1) {
    const hash = hashAt(sealed, index);
    seals[index] = { sequence: sealed.firstSequence + index, prevHash, hash };
    prevHash = hash;
  }
  return seals;
}

/** The seal of the last of `count` events of a sealed batch (the chain's new head). */
function lastSeal(sealed: SealedBatch, count: number): AuditSeal {
  return { sequence: sealed.firstSequence + count - 1, prevHash: count > 1 ? hashAt(sealed, count - 2) : sealed.prevHash, hash: hashAt(sealed, count - 1) };
}

/** The hash of the batch's `index`th event. */
function hashAt(sealed: SealedBatch, index: number): string {
  return sealed.hashes.slice(index * HASH_HEX_LENGTH, (index + 1) * HASH_HEX_LENGTH);
}

/** Where audit batches go to be sealed and appended: the writer thread, or (in a cluster worker) the primary. */
export interface AuditAppender {
  /** Appends the rows in order, in one transaction, all or none; answers once they are durable. */
  append(rows: AuditDraftRow[]): Promise<AuditSeal[]>;
  /** Resolves when an append would succeed now (a throwaway row, rolled back); fail-closed auditing asks it. */
  probe(): Promise<void>;
  close(): void;
}

const BODY_INDEX = 9;

/** One row's parameters in an INSERT of AUDIT_COLUMNS. */
const ROW_PLACEHOLDERS = `(${AUDIT_COLUMNS.split(',').map(() => '?').join(', ')})`;
/** An INSERT of `rows` audit rows (`verb`: INSERT, or INSERT OR IGNORE). */
const insertAuditRowsSql = (rows: number, verb = 'INSERT') => `${verb} INTO audit_events (${AUDIT_COLUMNS}) VALUES ${Array(rows).fill(ROW_PLACEHOLDERS).join(', ')}`;
const INSERT_AUDIT_ROW = insertAuditRowsSql(1);
const SELECT_CHAIN_HEAD = 'SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1';

/** Opens (creating it 0600 when absent) an audit database: WAL, synchronous=FULL, its migrations applied. */
export function openAuditDatabase(path: string): Database.Database {
  // Create the file 0600 first: SQLite gives its -wal and -shm files the database file's mode.
  closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path);
  // The busy timeout first: several connections open audit.db at once (writer threads, readers), and the switch
  // to WAL and the migrations take locks they must wait for rather than fail on.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // A 2 MiB page cache instead of better-sqlite3's 16 MiB: the writer only appends, so its hot pages are the
  // tails of the table and its indexes, and a lookup reads a few pages per call; the default filled up with
  // pages written once and never read again (~14 MB of RSS, measured with 100,000 secrets).
  db.pragma('cache_size = -2000');
  migrateAuditLog(db);
  return db;
}

/**
 * Seals and inserts rows after the chain head, in one IMMEDIATE transaction: the head is read under the
 * write lock, so another writer (another connection, another process) cannot append in between; the sequence
 * primary key would refuse a second event at the same place anyway.
 */
export function sealedAppender(db: Database.Database): (rows: AuditDraftRow[]) => SealedBatch {
  const head = db.prepare(SELECT_CHAIN_HEAD);
  const insert = new ChunkedAuditInsert(db);
  const names = new AuditNames(db);
  const append = db.transaction((rows: AuditDraftRow[]) => {
    const last = head.get() as { sequence: number; hash: unknown } | undefined;
    let sequence = last?.sequence ?? 0;
    let prevHash = last ? storedHashHex(last.hash) : GENESIS_HASH;
    // The previous hash as the row stores it: the head's encoded once, then each event's digest as made below.
    let storedPrevHash = encodeAuditHash(prevHash);
    const sealed: SealedBatch = { firstSequence: sequence + 1, prevHash, hashes: '' };
    const values: unknown[][] = [];
    for (const row of rows) {
      sequence += 1;
      const hash = chainHash(prevHash, row[BODY_INDEX]);
      // The 32 bytes the row stores, decoded from the hex the reply needs anyway into node's shared Buffer pool:
      // crypto.hash's own 'buffer' output (an allocation of its own per event) and its hex cost ~1.38 µs an event
      // against ~0.94 (bench/RESULTS.md, issue 21, audit-batch). The hex is the writer's own: no check needed.
      const digest = Buffer.from(hash, 'hex');
      // The body as a template and its holes (audit-codec.ts): compressing it (node:zlib, a fresh stream per call)
      // cost a GetSecretValue ~40 µs of CPU.
      values.push(appendedAuditRow(names, sequence, row, storedPrevHash, digest));
      sealed.hashes += hash;
      prevHash = hash;
      storedPrevHash = digest;
    }
    insert.run(values);
    return sealed;
  });
  return (rows) => {
    try {
      return append.immediate(rows);
    } catch (error) {
      names.forgetUncommitted();
      throw error;
    }
  };
}

/** Rows per INSERT statement, largest first: a batch is inserted in as few statements as these sizes allow. */
const INSERT_CHUNK_ROWS = [32, 16, 8, 4, 2, 1];

/**
 * Inserts a batch's rows with multi-row INSERTs: one statement of 32 rows cost ~1.5–2 µs less per row than 32
 * single-row runs (one step, and one opening of the table's and its indexes' cursors, per statement instead of
 * per row; bench/RESULTS.md, issue 21).
 */
class ChunkedAuditInsert {
  readonly #db: Database.Database;
  readonly #statements = new Map<number, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  run(rows: unknown[][]): void {
    let at = 0;
    for (const size of INSERT_CHUNK_ROWS) {
      for (; rows.length - at >= size; at += size) this.#statement(size).run(rows.slice(at, at + size).flat());
    }
  }

  #statement(size: number): Database.Statement {
    let statement = this.#statements.get(size);
    if (!statement) {
      statement = this.#db.prepare(insertAuditRowsSql(size));
      this.#statements.set(size, statement);
    }
    return statement;
  }
}

/** Thrown inside the probe transaction to roll the throwaway row back. */
class ProbeRollback extends Error {}

/** Writes a throwaway row and rolls it back: throws exactly when an append would fail now. */
export function probeAppend(db: Database.Database): void {
  try {
    db.transaction(() => {
      db.prepare(INSERT_AUDIT_ROW).run(-1, `probe-${process.pid}`, '', 0, 'Probe', 'probe', 1, '', '', '[]', '{}', '', '');
      throw new ProbeRollback();
    }).immediate();
  } catch (error) {
    if (error instanceof ProbeRollback) return;
    throw error;
  }
}

/** Rows per page when audit rows are moved out of coffer.db. */
const MOVE_PAGE = 1000;

/**
 * Moves the audit rows an older Coffer kept in coffer.db into audit.db, once: copy (in one audit.db
 * transaction), then delete them from coffer.db (in one coffer.db transaction). A crash between the two
 * leaves the rows in both; the re-run copies nothing twice (the sequence is the primary key) and checks that
 * audit.db holds the same event (same hash) at every copied place before deleting anything. Returns how many
 * rows were moved.
 */
export function legacyAuditRowCount(main: Database.Database): number {
  const hasTable = main.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'").get();
  return hasTable ? (main.prepare('SELECT count(*) FROM audit_events').pluck().get() as number) : 0;
}

export function moveLegacyAuditRows(main: Database.Database, audit: Database.Database): number {
  const count = legacyAuditRowCount(main);
  if (count === 0) return 0;
  const page = main.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE sequence > ? ORDER BY sequence LIMIT ?`).raw();
  const insert = audit.prepare(insertAuditRowsSql(1, 'INSERT OR IGNORE'));
  const storedHash = audit.prepare('SELECT hash FROM audit_events WHERE sequence = ?').pluck();
  audit
    .transaction(() => {
      for (let after = Number.MIN_SAFE_INTEGER; ; ) {
        const rows = page.all(after, MOVE_PAGE) as unknown[][];
        for (const row of rows) {
          insert.run(...row);
          if (storedHashHex(storedHash.get(row[0])) !== storedHashHex(row[12])) {
            throw new Error(`audit.db holds a different event at sequence ${String(row[0])} than coffer.db; nothing was moved`);
          }
        }
        if (rows.length < MOVE_PAGE) break;
        after = rows[rows.length - 1]![0] as number;
      }
    })
    .immediate();
  main.transaction(() => main.prepare('DELETE FROM audit_events').run()).immediate();
  return count;
}

type WriterRequest = { kind: 'append'; id: number; rows: AuditDraftRow[] } | { kind: 'probe'; id: number } | { kind: 'close' };
type WriterReply = { id: number; sealed?: SealedBatch; error?: string };
/** Told by the writer thread without being asked: an anchor it wrote, or why it could not write one. */
type WriterNotice = { kind: 'anchored'; anchor: AuditAnchor } | { kind: 'anchor-failed'; error: string };

/** The writer thread's anchoring (audit-anchor.ts) and what its owner hears of it. */
export type AuditWriterAnchoring = AuditAnchoring;

/** [0] turns 1 when the writer thread has closed its connection (close() waits for it). */
const CLOSED = 0;

/** The writer thread's side: one connection, messages handled one at a time, in order. */
function serve(path: string, state: Int32Array, anchorOptions: AuditAnchorOptions | undefined): void {
  const db = openAuditDatabase(path);
  const append = sealedAppender(db);
  const notify = (notice: WriterNotice) => parentPort!.postMessage(notice);
  const anchorer = anchorOptions
    ? new AuditAnchorer(anchorOptions, {
        onAnchor: (anchor) => notify({ kind: 'anchored', anchor }),
        onError: (error) => notify({ kind: 'anchor-failed', error: error instanceof Error ? error.message : String(error) }),
      })
    : undefined;
  const storedHash = db.prepare('SELECT hash FROM audit_events WHERE sequence = ?').pluck();
  anchorer?.checkAgainst((sequence) => {
    const stored = storedHash.get(sequence);
    return stored === undefined ? undefined : storedHashHex(stored);
  });
  parentPort!.on('message', (request: WriterRequest) => {
    if (request.kind === 'close') {
      // A clean shutdown anchors the last head: only a crash leaves events after the last anchor.
      anchorer?.close();
      db.close();
      Atomics.store(state, CLOSED, 1);
      Atomics.notify(state, CLOSED);
      parentPort!.close();
      return;
    }
    let reply: WriterReply;
    try {
      if (request.kind === 'probe') {
        probeAppend(db);
        reply = { id: request.id };
      } else {
        const sealed = append(request.rows);
        if (request.rows.length > 0) anchorer?.headMoved(lastSeal(sealed, request.rows.length));
        reply = { id: request.id, sealed };
      }
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    parentPort!.postMessage(reply);
  });
}

/** The longest close() waits for the writer thread to close its connection. */
const CLOSE_WAIT_MS = 10_000;

/**
 * The writer thread's own V8 heap: its young generation capped at 8 MB (left to V8 it is sized from the
 * machine's memory, as the main thread's is). Rows arrive a batch at a time and are garbage once inserted, so a small
 * young generation costs it nothing, and the memory stays out of the server's RSS. No old-generation cap: a
 * writer killed for memory would stop every audited call.
 */
const AUDIT_WRITER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * V8 sizes an isolate's young generation from the semi-space flags before its resource limits: the server's
 * `--max-semi-space-size`/`--min-semi-space-size` (bin/coffer, chosen for the request thread; 32/16 when this was
 * measured) gave the writer 16–32 MB semi-spaces, 44 MB committed for 12–17 MB used. V8 reads them only when it
 * makes an isolate, so the request thread's heap, made at start, keeps them; they are unset (0: V8's own sizing)
 * before the writer's isolate is made, and AUDIT_WRITER_LIMITS then holds. Threads started later get V8's sizing too.
 */
function unsetSemiSpaceFlags(): void {
  setFlagsFromString('--max-semi-space-size=0');
  setFlagsFromString('--min-semi-space-size=0');
}

type PendingAppend = { rows: AuditDraftRow[]; resolve: (seals: AuditSeal[]) => void; reject: (error: Error) => void };

/**
 * The handle on the writer thread. One append is in flight at a time; appends asked for meanwhile (several
 * callers: the recorder's group commit, or every worker of a cluster) are merged and go together in the next
 * transaction, so they share one fsync.
 */
export class AuditWriterThread implements AuditAppender {
  readonly #worker: Worker;
  readonly #state = new Int32Array(new SharedArrayBuffer(4));
  readonly #waiting = new Map<number, { resolve: (reply: WriterReply) => void; reject: (error: Error) => void }>();
  #pending: PendingAppend[] = [];
  #appending = false;
  #nextId = 1;
  #gone: Error | undefined;

  constructor(path: string, anchoring?: AuditWriterAnchoring) {
    unsetSemiSpaceFlags();
    this.#worker = new Worker(new URL('./audit-writer.js', import.meta.url), {
      workerData: { role: 'coffer-audit-writer', path, state: this.#state.buffer, anchor: anchoring?.options },
      resourceLimits: AUDIT_WRITER_LIMITS,
    });
    // An idle writer does not keep the process alive; one with a request outstanding does (see #request).
    this.#worker.unref();
    this.#worker.on('message', (reply: WriterReply | WriterNotice) => {
      if ('kind' in reply) {
        if (reply.kind === 'anchored') anchoring?.onAnchor(reply.anchor);
        else anchoring?.onError(reply.error);
        return;
      }
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) this.#worker.unref();
      waiting?.resolve(reply);
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => this.#fail(new Error('the audit writer thread has ended')));
  }

  append(rows: AuditDraftRow[]): Promise<AuditSeal[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ rows, resolve, reject });
      this.#appendPending();
    });
  }

  async probe(): Promise<void> {
    const reply = await this.#request({ kind: 'probe', id: this.#nextId++ });
    if (reply.error !== undefined) throw new Error(reply.error);
  }

  /** The writer thread's V8 heap (not in the process's own figures). */
  heapStatistics(): Promise<HeapInfo> {
    return this.#worker.getHeapStatistics();
  }

  /** Asks the writer to close its connection and waits (blocking, at most CLOSE_WAIT_MS) until it has. */
  close(): void {
    if (this.#gone) return;
    // Messages are handled in order: appends already sent are written before the connection closes.
    this.#worker.postMessage({ kind: 'close' } satisfies WriterRequest);
    this.#fail(new Error('the audit log is closed'));
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (Atomics.load(this.#state, CLOSED) === 0 && Date.now() < deadline) Atomics.wait(this.#state, CLOSED, 0, 50);
  }

  #appendPending(): void {
    if (this.#appending || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#appending = true;
    this.#request({ kind: 'append', id: this.#nextId++, rows: batch.flatMap((item) => item.rows) })
      .then((reply) => {
        if (reply.error !== undefined || !reply.sealed) throw new Error(reply.error ?? 'the audit writer answered no seals');
        const seals = sealsOf(reply.sealed, reply.sealed.hashes.length / HASH_HEX_LENGTH);
        if (batch.length === 1) return batch[0]!.resolve(seals);
        let offset = 0;
        for (const item of batch) {
          item.resolve(seals.slice(offset, offset + item.rows.length));
          offset += item.rows.length;
        }
      })
      .catch((error: unknown) => {
        for (const item of batch) item.reject(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        this.#appending = false;
        this.#appendPending();
      });
  }

  #request(request: Exclude<WriterRequest, { kind: 'close' }>): Promise<WriterReply> {
    if (this.#gone) return Promise.reject(this.#gone);
    return new Promise((resolve, reject) => {
      this.#waiting.set(request.id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage(request);
    });
  }

  #fail(error: Error): void {
    this.#gone ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
    for (const item of this.#pending) item.reject(error);
    this.#pending = [];
  }
}

if (parentPort && (workerData as { role?: string } | undefined)?.role === 'coffer-audit-writer') {
  const data = workerData as { path: string; state: SharedArrayBuffer; anchor?: AuditAnchorOptions };
  serve(data.path, new Int32Array(data.state), data.anchor);
}
