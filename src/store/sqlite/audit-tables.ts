import type { Database, Statement } from 'better-sqlite3';
import type { AuditEventDraft, AuditEventRecord, AuditLookup, AuditLookupKey } from '../records.js';
import { auditEventIdKey } from '../audit-codec.js';
import { migrateAuditLog } from './audit-migrations.js';
import { auditRecordFromRow, AuditNames, namedColumnIs, RESOURCE_NAMES_TEXT } from './audit-rows.js';
import {
  AuditWriterThread,
  legacyAuditRowCount,
  moveLegacyAuditRows,
  openAuditDatabase,
  probeAppend,
  sealedAppender,
  sealsOf,
  type AuditAppender,
  type AuditDraftRow,
  type AuditSeal,
  type AuditWriterAnchoring,
  type SealedBatch,
} from './audit-writer.js';

type Row = Record<string, any>;

/** Events deleted per transaction when pruning: the writer waits at most one such batch. */
const PRUNE_BATCH_ROWS = 2000;
type Prepare = (sql: string) => Statement;
/** Events read per step while looking for an operation's newest successful call (lastSuccessfulAuditEvent). */
const SUCCESS_SEARCH_PAGE = 16;

/**
 * The condition each LookupEvents attribute compares with, and its parameters for the attribute's value:
 * every stored encoding of it (audit-rows.ts). Conditions come only from this table.
 */
const LOOKUP_CONDITIONS: Record<AuditLookupKey, { sql: string; values: (value: string) => unknown[] }> = {
  // Coffer's ids are stored as bytes and found at the time they carry (audit_events_by_time), any other as its text
  // (audit_events_by_text_id, whose condition the query repeats so that SQLite may use it).
  EventId: {
    sql: "((event_time = ? AND event_id = ?) OR (typeof(event_id) = 'text' AND event_id = ?))",
    values: (value) => {
      const key = auditEventIdKey(value);
      return [key.time ?? null, key.stored, value];
    },
  },
  EventName: { sql: namedColumnIs('event_name'), values: (value) => [value, value] },
  EventSource: { sql: namedColumnIs('event_source'), values: (value) => [value, value] },
  ReadOnly: { sql: 'read_only = ?', values: (value) => [value === 'true' ? 1 : 0] },
  Username: { sql: namedColumnIs('username'), values: (value) => [value, value] },
  AccessKeyId: { sql: namedColumnIs('access_key_id'), values: (value) => [value, value] },
  ResourceName: { sql: `EXISTS (SELECT 1 FROM json_each(${RESOURCE_NAMES_TEXT}) WHERE json_each.value = ?)`, values: (value) => [value] },
};

export type AuditTablesOptions = {
  /** The audit database file (`<data-dir>/audit.db`); absent for an in-memory store. */
  auditPath: string | undefined;
  /** Where appends go; default: a writer thread of this process, started on the first append or by startWriter(). */
  appender?: AuditAppender;
  /** The chain anchors this process's writer thread writes (none when appends go to another process). */
  anchoring?: AuditWriterAnchoring;
};

/**
 * The audit log of the SQLite store.
 *
 * On disk it is a file of its own, audit.db (see audit-writer.ts), appended to by one writer that seals each
 * batch under its write lock: this process's writer thread, or in a cluster worker the primary's (the
 * `appender` option). Reads (LookupEvents, verify, list) use a second, read-only connection of this process to
 * audit.db rather than an ATTACH on the store's connection: an IMMEDIATE store transaction takes the write
 * lock of every attached database, so store writes would queue behind audit commits again.
 * An in-memory store (tests) keeps its audit rows in its own database and appends on its connection.
 */
export class SqliteAuditTables {
  readonly #main: Database;
  readonly #mainStmt: Prepare;
  readonly #auditPath: string | undefined;
  #appender: AuditAppender | undefined;
  readonly #ownsAppender: boolean;
  readonly #anchoring: AuditWriterAnchoring | undefined;
  #reader: Database | undefined;
  readonly #readerStatements = new Map<string, Statement>();
  #appendHere: ((rows: AuditDraftRow[]) => SealedBatch) | undefined;
  /** The names of the connection reads go to (the reader, or the store's connection in memory). */
  #readNames: AuditNames | undefined;

  constructor(db: Database, prepare: Prepare, options: AuditTablesOptions) {
    this.#main = db;
    this.#mainStmt = prepare;
    this.#auditPath = options.auditPath;
    this.#appender = options.appender;
    this.#ownsAppender = options.appender === undefined;
    this.#anchoring = options.anchoring;
  }

  /**
   * In memory, applies the audit log's migrations (audit-migrations.ts) to the one database. audit.db is
   * migrated by whoever opens it first (openAuditDatabase), so a store that never audits never creates it;
   * it is opened here only to move in the audit rows an older Coffer kept in coffer.db (once; see
   * moveLegacyAuditRows).
   */
  migrate(): void {
    if (this.#auditPath === undefined) return migrateAuditLog(this.#main);
    if (legacyAuditRowCount(this.#main) === 0) return;
    const audit = openAuditDatabase(this.#auditPath);
    try {
      moveLegacyAuditRows(this.#main, audit);
    } finally {
      audit.close();
    }
  }

  async appendAuditEvent(draft: AuditEventDraft): Promise<AuditEventRecord> {
    return (await this.appendAuditEvents([draft]))[0]!;
  }

  async appendAuditEvents(drafts: AuditEventDraft[]): Promise<AuditEventRecord[]> {
    const rows = drafts.map(draftRow);
    const seals = this.#auditPath === undefined ? this.#appendOnMain(rows) : await this.#writer().append(rows);
    return drafts.map((draft, index) => sealedRecord(draft, seals[index]!));
  }

  async probeAuditAppend(): Promise<void> {
    if (this.#auditPath === undefined) probeAppend(this.#main);
    else await this.#writer().probe();
  }

  listAuditEvents(afterSequence: number, limit: number): AuditEventRecord[] {
    const rows = this.#read('SELECT * FROM audit_events WHERE sequence > ? ORDER BY sequence LIMIT ?').all(afterSequence, limit) as Row[];
    return rows.map((row) => this.#record(row));
  }

  /**
   * On a connection of its own to audit.db (the writer thread keeps appending; each batch of deletes is one
   * short IMMEDIATE transaction it waits behind), or on the store's connection in memory.
   */
  pruneAuditEvents(throughSequence: number): number {
    const db = this.#auditPath === undefined ? this.#main : openAuditDatabase(this.#auditPath);
    try {
      const remove = db.prepare(
        `DELETE FROM audit_events WHERE sequence IN (
           SELECT sequence FROM audit_events WHERE sequence <= ? AND sequence < (SELECT max(sequence) FROM audit_events) ORDER BY sequence LIMIT ?)`,
      );
      let deleted = 0;
      for (;;) {
        const changes = db.transaction(() => remove.run(throughSequence, PRUNE_BATCH_ROWS).changes).immediate();
        deleted += changes;
        if (changes < PRUNE_BATCH_ROWS) return deleted;
      }
    } finally {
      if (db !== this.#main) db.close();
    }
  }

  lookupAuditEvents(lookup: AuditLookup): AuditEventRecord[] {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (lookup.accountId !== undefined) {
      conditions.push(namedColumnIs('account_id'));
      values.push(lookup.accountId, lookup.accountId);
    }
    if (lookup.attribute) {
      const condition = LOOKUP_CONDITIONS[lookup.attribute.key];
      conditions.push(condition.sql);
      values.push(...condition.values(lookup.attribute.value));
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
    const rows = this.#read(`SELECT * FROM audit_events ${where} ORDER BY sequence DESC LIMIT ?`).all(...values, lookup.limit) as Row[];
    return rows.map((row) => this.#record(row));
  }

  lastSuccessfulAuditEvent(query: { eventSource: string; eventNames: readonly string[]; resourceName: string }): AuditEventRecord | undefined {
    // One indexed walk per operation name (audit_events_by_name), newest first; the newest of their answers wins.
    // Whether a call failed is in its body (compressed when imported): read here, in pages, past the rare failed calls.
    const statement = this.#read(
      `SELECT * FROM audit_events WHERE ${namedColumnIs('event_name')} AND ${namedColumnIs('event_source')}
         AND EXISTS (SELECT 1 FROM json_each(${RESOURCE_NAMES_TEXT}) WHERE json_each.value = ?) AND sequence < ?
       ORDER BY sequence DESC LIMIT ${SUCCESS_SEARCH_PAGE}`,
    );
    let newest: AuditEventRecord | undefined;
    for (const name of new Set(query.eventNames)) {
      for (let before = Number.MAX_SAFE_INTEGER; before > (newest?.sequence ?? 0); ) {
        const rows = statement.all(name, name, query.eventSource, query.eventSource, query.resourceName, before) as Row[];
        const success = rows.map((row) => this.#record(row)).find((record) => !failedCall(record));
        if (success) {
          if (!newest || success.sequence > newest.sequence) newest = success;
          break;
        }
        if (rows.length < SUCCESS_SEARCH_PAGE) break;
        before = rows[rows.length - 1]!.sequence;
      }
    }
    return newest;
  }

  /**
   * Starts this process's writer thread now instead of at the first append; nothing to start in memory or when
   * appends go to another process's writer. The thread takes ~90 ms to load and open audit.db, which a server's
   * first request would otherwise wait for.
   */
  startWriter(): void {
    if (this.#auditPath !== undefined && this.#ownsAppender) this.#writer();
  }

  /** Closes the reader connection and, if this store started it, the writer (after the appends sent to it). */
  close(): void {
    if (this.#ownsAppender) this.#appender?.close();
    // The writer thread had its own copy of the anchor key (and wiped it); this one goes too.
    this.#anchoring?.options.key.fill(0);
    this.#reader?.close();
    this.#reader = undefined;
    this.#readerStatements.clear();
    this.#readNames = undefined;
  }

  #appendOnMain(rows: AuditDraftRow[]): AuditSeal[] {
    this.#appendHere ??= sealedAppender(this.#main);
    return sealsOf(this.#appendHere(rows), rows.length);
  }

  #writer(): AuditAppender {
    this.#appender ??= new AuditWriterThread(this.#auditPath!, this.#anchoring);
    return this.#appender;
  }

  #record(row: Row): AuditEventRecord {
    this.#readNames ??= new AuditNames(this.#auditPath === undefined ? this.#main : this.#readerDatabase());
    return auditRecordFromRow(this.#readNames, row);
  }

  #readerDatabase(): Database {
    if (!this.#reader) {
      this.#reader = openAuditDatabase(this.#auditPath!);
      this.#reader.pragma('query_only = ON');
    }
    return this.#reader;
  }

  #read(sql: string): Statement {
    if (this.#auditPath === undefined) return this.#mainStmt(sql);
    let statement = this.#readerStatements.get(sql);
    if (!statement) {
      statement = this.#readerDatabase().prepare(sql);
      this.#readerStatements.set(sql, statement);
    }
    return statement;
  }
}

/** A draft and its seal as one record, member by member (spreading both cost a request ~0.3 µs). */
function sealedRecord(draft: AuditEventDraft, seal: AuditSeal): AuditEventRecord {
  return {
    sequence: seal.sequence, eventId: draft.eventId, accountId: draft.accountId, eventTime: draft.eventTime, eventName: draft.eventName,
    eventSource: draft.eventSource, readOnly: draft.readOnly, accessKeyId: draft.accessKeyId, username: draft.username,
    resourceNames: draft.resourceNames, body: draft.body, prevHash: seal.prevHash, hash: seal.hash,
  };
}

function draftRow(draft: AuditEventDraft): AuditDraftRow {
  return [
    draft.eventId, draft.accountId, draft.eventTime.getTime(), draft.eventName, draft.eventSource, draft.readOnly ? 1 : 0,
    draft.accessKeyId, draft.username, JSON.stringify(draft.resourceNames), draft.body,
  ];
}

/** Whether the event records a failed call (CloudTrail's errorCode). */
function failedCall(record: AuditEventRecord): boolean {
  try {
    return (JSON.parse(record.body) as { errorCode?: unknown }).errorCode !== undefined;
  } catch {
    return true;
  }
}
