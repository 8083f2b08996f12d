import type { Database, Statement } from 'better-sqlite3';
import type { AuditEventDraft, AuditEventRecord, AuditLookup, AuditLookupKey } from '../records.js';
import { migrateAuditLog } from './audit-migrations.js';
import {
  AuditWriterThread,
  legacyAuditRowCount,
  moveLegacyAuditRows,
  openAuditDatabase,
  probeAppend,
  sealedAppender,
  type AuditAppender,
  type AuditDraftRow,
  type AuditSeal,
  type AuditWriterAnchoring,
} from './audit-writer.js';

type Row = Record<string, any>;

/** Events deleted per transaction when pruning: the writer waits at most one such batch. */
const PRUNE_BATCH_ROWS = 2000;
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
  #appendHere: ((rows: AuditDraftRow[]) => AuditSeal[]) | undefined;

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
    return drafts.map((draft, index) => ({ ...draft, ...seals[index]! }));
  }

  async probeAuditAppend(): Promise<void> {
    if (this.#auditPath === undefined) probeAppend(this.#main);
    else await this.#writer().probe();
  }

  listAuditEvents(afterSequence: number, limit: number): AuditEventRecord[] {
    const rows = this.#read('SELECT * FROM audit_events WHERE sequence > ? ORDER BY sequence LIMIT ?').all(afterSequence, limit) as Row[];
    return rows.map(auditEventFromRow);
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
    const rows = this.#read(`SELECT * FROM audit_events ${where} ORDER BY sequence DESC LIMIT ?`).all(...values, lookup.limit) as Row[];
    return rows.map(auditEventFromRow);
  }

  lastSuccessfulAuditEvent(query: { eventSource: string; eventNames: readonly string[]; resourceName: string }): AuditEventRecord | undefined {
    // One indexed walk per operation name (audit_events_by_name), newest first; the newest of their answers wins.
    const statement = this.#read(
      `SELECT * FROM audit_events WHERE event_name = ? AND event_source = ?
         AND EXISTS (SELECT 1 FROM json_each(resource_names) WHERE json_each.value = ?)
         AND json_extract(body, '$.errorCode') IS NULL
       ORDER BY sequence DESC LIMIT 1`,
    );
    let newest: Row | undefined;
    for (const name of new Set(query.eventNames)) {
      const row = statement.get(name, query.eventSource, query.resourceName) as Row | undefined;
      if (row && (!newest || row.sequence > newest.sequence)) newest = row;
    }
    return newest && auditEventFromRow(newest);
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
  }

  #appendOnMain(rows: AuditDraftRow[]): AuditSeal[] {
    this.#appendHere ??= sealedAppender(this.#main);
    return this.#appendHere(rows);
  }

  #writer(): AuditAppender {
    this.#appender ??= new AuditWriterThread(this.#auditPath!, this.#anchoring);
    return this.#appender;
  }

  #read(sql: string): Statement {
    if (this.#auditPath === undefined) return this.#mainStmt(sql);
    if (!this.#reader) {
      this.#reader = openAuditDatabase(this.#auditPath);
      this.#reader.pragma('query_only = ON');
    }
    let statement = this.#readerStatements.get(sql);
    if (!statement) {
      statement = this.#reader.prepare(sql);
      this.#readerStatements.set(sql, statement);
    }
    return statement;
  }
}

function draftRow(draft: AuditEventDraft): AuditDraftRow {
  return [
    draft.eventId, draft.accountId, draft.eventTime.getTime(), draft.eventName, draft.eventSource, draft.readOnly ? 1 : 0,
    draft.accessKeyId, draft.username, JSON.stringify(draft.resourceNames), draft.body,
  ];
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
