import type { Database, Statement } from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { AuditEventDraft, AuditEventRecord, AuditLookup, AuditLookupKey, AuditSealer } from '../records.js';
import { acquire, CLOSED, INSERT_AUDIT_ROW, release, SELECT_CHAIN_HEAD, SHARED_STATE_BYTES, type AuditRow, type ChainHead, type WriterReply, type WriterRequest } from './audit-writer.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/** The column (or condition) each LookupEvents attribute compares with; names come only from this table. */
const LOOKUP_CONDITIONS: Record<AuditLookupKey, string> = {
  EventId: 'event_id = ?',
  EventName: 'event_name = ?',
  EventSource: 'event_source = ?',
  ReadOnly: 'read_only = ?',
  Username: 'username = ?',
  AccessKeyId: 'access_key_id = ?',
  ResourceName: 'EXISTS (SELECT 1 FROM json_each(resource_names) WHERE json_each.value = ?)',
};

/** Thrown inside the probe transaction to roll the throwaway row back. */
class ProbeRollback extends Error {}

/** The longest close() waits for the writer thread to close its connection. */
const CLOSE_WAIT_MS = 10_000;

/** How often an append is sealed again because another writer extended the chain first. */
const MAX_RESEALS = 100;

/**
 * The audit log in SQLite: one table, appended under the write lock so the chain never forks.
 *
 * A database in a file is appended to by the audit writer thread (audit-writer.ts), over its own connection:
 * the commit, fsync included, no longer blocks the event loop, and requests keep being served while it runs.
 * Appends are sealed here against the chain head as last known and sent one batch at a time; the writer
 * appends a batch only if that is still the head, inside the IMMEDIATE transaction, and otherwise answers
 * with the head it found, against which the batch is sealed again. An in-memory database (tests) appends on
 * this connection.
 */
export class SqliteAuditTables {
  readonly #db: Database;
  readonly #stmt: Prepare;
  readonly #writer: AuditWriterThread | undefined;
  /** The chain head after this connection's last append; null when unknown (read it before sealing). */
  #head: ChainHead | null = null;
  /** Appends through the writer run one after another: each seals against the head the previous one left. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
    if (!db.memory) {
      const lock = new Int32Array(new SharedArrayBuffer(SHARED_STATE_BYTES));
      const writer = new AuditWriterThread(db.name, lock);
      this.#writer = writer;
      guardTransactions(db, lock);
      // The store closes its connection with db.close(); the writer's connection closes first, after any
      // append already sent (the writer handles its messages in order), so that once the store is closed no
      // connection is left open (the last one to close checkpoints and removes the -wal file).
      const closeConnection = db.close.bind(db);
      db.close = () => {
        writer.close();
        return closeConnection();
      };
    }
  }

  async appendAuditEvent(draft: AuditEventDraft, seal: AuditSealer): Promise<AuditEventRecord> {
    return (await this.appendAuditEvents([{ draft, seal }]))[0]!;
  }

  appendAuditEvents(events: Array<{ draft: AuditEventDraft; seal: AuditSealer }>): Promise<AuditEventRecord[]> {
    const writer = this.#writer;
    if (!writer) {
      try {
        return Promise.resolve(this.#appendHere(events));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const appended = this.#queue.then(() => this.#appendThrough(writer, events));
    this.#queue = appended.catch(() => undefined);
    return appended;
  }

  async #appendThrough(writer: AuditWriterThread, events: Array<{ draft: AuditEventDraft; seal: AuditSealer }>): Promise<AuditEventRecord[]> {
    for (let reseals = 0; ; reseals++) {
      const expected = this.#head !== null ? this.#head : this.#readHead();
      const records = sealAll(events, expected);
      const reply = await writer.append(expected, records.map(rowOf));
      if (reply.outcome === 'appended') {
        const last = records[records.length - 1];
        this.#head = last ? { sequence: last.sequence, hash: last.hash } : expected;
        return records;
      }
      if (reply.outcome === 'moved' && reseals < MAX_RESEALS) {
        this.#head = reply.head;
        continue;
      }
      this.#head = null;
      throw new Error(reply.outcome === 'failed' ? reply.message : 'the audit chain kept moving; the append was given up');
    }
  }

  #readHead(): ChainHead {
    const row = this.#stmt(SELECT_CHAIN_HEAD).get() as { sequence: number; hash: string } | undefined;
    return row && { sequence: row.sequence, hash: row.hash };
  }

  #appendHere(events: Array<{ draft: AuditEventDraft; seal: AuditSealer }>): AuditEventRecord[] {
    // IMMEDIATE takes the write lock before reading the last event, so another writer cannot append in between;
    // the sequence primary key would refuse a second event at the same place anyway.
    return this.#db
      .transaction(() => {
        const records = sealAll(events, this.#readHead());
        for (const record of records) this.#insert(record);
        return records;
      })
      .immediate();
  }

  probeAuditAppend(): void {
    try {
      this.#db
        .transaction(() => {
          this.#insert({
            sequence: -1, eventId: `probe-${process.pid}`, accountId: '', eventTime: new Date(0), eventName: 'Probe', eventSource: 'probe', readOnly: true,
            accessKeyId: '', username: '', resourceNames: [], body: '{}', prevHash: '', hash: '',
          });
          throw new ProbeRollback();
        })
        .immediate();
    } catch (error) {
      if (error instanceof ProbeRollback) return;
      throw error;
    }
  }

  listAuditEvents(afterSequence: number, limit: number): AuditEventRecord[] {
    const rows = this.#stmt('SELECT * FROM audit_events WHERE sequence > ? ORDER BY sequence LIMIT ?').all(afterSequence, limit) as Row[];
    return rows.map(auditEventFromRow);
  }

  lookupAuditEvents(lookup: AuditLookup): AuditEventRecord[] {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (lookup.accountId !== undefined) {
      conditions.push('account_id = ?');
      values.push(lookup.accountId);
    }
    if (lookup.attribute) {
      conditions.push(LOOKUP_CONDITIONS[lookup.attribute.key]);
      values.push(lookup.attribute.key === 'ReadOnly' ? (lookup.attribute.value === 'true' ? 1 : 0) : lookup.attribute.value);
    }
    if (lookup.startTime) {
      conditions.push('event_time >= ?');
      values.push(lookup.startTime.getTime());
    }
    if (lookup.endTime) {
      conditions.push('event_time <= ?');
      values.push(lookup.endTime.getTime());
    }
    if (lookup.beforeSequence !== undefined) {
      conditions.push('sequence < ?');
      values.push(lookup.beforeSequence);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = this.#stmt(`SELECT * FROM audit_events ${where} ORDER BY sequence DESC LIMIT ?`).all(...values, lookup.limit) as Row[];
    return rows.map(auditEventFromRow);
  }

  #insert(record: AuditEventRecord): void {
    this.#stmt(INSERT_AUDIT_ROW).run(...rowOf(record));
  }
}

/** Seals each event after the one before it, the first after `head`. */
function sealAll(events: Array<{ draft: AuditEventDraft; seal: AuditSealer }>, head: ChainHead): AuditEventRecord[] {
  let last = head;
  return events.map(({ draft, seal }) => {
    const sequence = last ? last.sequence + 1 : 1;
    const { prevHash, hash } = seal(last);
    last = { sequence, hash };
    return { ...draft, sequence, prevHash, hash };
  });
}

function rowOf(record: AuditEventRecord): AuditRow {
  return [
    record.sequence, record.eventId, record.accountId, record.eventTime.getTime(), record.eventName, record.eventSource, record.readOnly ? 1 : 0,
    record.accessKeyId, record.username, JSON.stringify(record.resourceNames), record.body, record.prevHash, record.hash,
  ];
}

/**
 * Every transaction of this connection (db.transaction(), in every variant) runs holding the lock it shares
 * with the writer thread (see acquire in audit-writer.ts), so an audit append never commits in the middle of
 * one. A nested transaction (a savepoint) runs inside its outer one's hold. The main thread waits at most for
 * one audit commit in progress; single statements outside a transaction do not take the lock (SQLite's busy
 * timeout covers them).
 */
function guardTransactions(db: Database, lock: Int32Array): void {
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: any[]) => unknown) => {
    const made = transaction(fn);
    const guard =
      <F extends (...args: any[]) => unknown>(run: F) =>
      (...args: Parameters<F>): ReturnType<F> => {
        if (db.inTransaction) return run(...args) as ReturnType<F>;
        acquire(lock);
        try {
          return run(...args) as ReturnType<F>;
        } finally {
          release(lock);
        }
      };
    return Object.assign(guard(made), {
      default: guard(made.default),
      deferred: guard(made.deferred),
      immediate: guard(made.immediate),
      exclusive: guard(made.exclusive),
    });
  }) as typeof db.transaction;
}

/** The main thread's handle on the writer thread: numbered requests, replies matched by number. */
class AuditWriterThread {
  readonly #worker: Worker;
  readonly #lock: Int32Array;
  readonly #waiting = new Map<number, { resolve: (reply: WriterReply) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #gone: Error | undefined;

  constructor(path: string, lock: Int32Array) {
    this.#lock = lock;
    this.#worker = new Worker(new URL('./audit-writer.js', import.meta.url), { workerData: { role: 'coffer-audit-writer', path, lock: lock.buffer } });
    // An idle writer does not keep the process alive; one with an append outstanding does (see append).
    this.#worker.unref();
    this.#worker.on('message', (reply: WriterReply) => {
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) this.#worker.unref();
      waiting?.resolve(reply);
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => {
      // A writer that ended while holding the lock must not leave the main connection waiting for it forever.
      release(lock);
      this.#fail(new Error('the audit writer thread has ended'));
    });
  }

  append(expected: ChainHead, rows: AuditRow[]): Promise<WriterReply> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ kind: 'append', id, expected, rows } satisfies WriterRequest);
    });
  }

  /** Asks the writer to close its connection and waits (blocking, at most CLOSE_WAIT_MS) until it has. */
  close(): void {
    if (this.#gone) return;
    this.#worker.postMessage({ kind: 'close' } satisfies WriterRequest);
    this.#gone = new Error('the audit log is closed');
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (Atomics.load(this.#lock, CLOSED) === 0 && Date.now() < deadline) Atomics.wait(this.#lock, CLOSED, 0, 50);
  }

  #fail(error: Error): void {
    this.#gone ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}

function auditEventFromRow(row: Row): AuditEventRecord {
  return {
    sequence: row.sequence,
    eventId: row.event_id,
    accountId: row.account_id,
    eventTime: new Date(row.event_time),
    eventName: row.event_name,
    eventSource: row.event_source,
    readOnly: row.read_only === 1,
    accessKeyId: row.access_key_id,
    username: row.username,
    resourceNames: parseNames(row.resource_names),
    body: row.body,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** A tampered row may hold anything; verify reports it rather than crash on it. */
function parseNames(text: unknown): string[] {
  try {
    const value = JSON.parse(String(text)) as unknown;
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}
