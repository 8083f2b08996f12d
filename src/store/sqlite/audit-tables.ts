import type { Database, Statement } from 'better-sqlite3';
import type { AuditEventDraft, AuditEventRecord, AuditLookup, AuditLookupKey, AuditSealer } from '../records.js';

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

/** The audit log in SQLite: one table, appended under the write lock so the chain never forks. */
export class SqliteAuditTables {
  readonly #db: Database;
  readonly #stmt: Prepare;

  constructor(db: Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
  }

  appendAuditEvent(draft: AuditEventDraft, seal: AuditSealer): AuditEventRecord {
    return this.appendAuditEvents([{ draft, seal }])[0]!;
  }

  appendAuditEvents(events: Array<{ draft: AuditEventDraft; seal: AuditSealer }>): AuditEventRecord[] {
    // IMMEDIATE takes the write lock before reading the last event, so another writer cannot append in between;
    // the sequence primary key would refuse a second event at the same place anyway.
    return this.#db
      .transaction(() => {
        let last = this.#stmt('SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1').get() as { sequence: number; hash: string } | undefined;
        return events.map(({ draft, seal }) => {
          const sequence = last ? last.sequence + 1 : 1;
          const { prevHash, hash } = seal(last);
          const record: AuditEventRecord = { ...draft, sequence, prevHash, hash };
          this.#insert(record);
          last = { sequence, hash };
          return record;
        });
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
    this.#stmt(
      `INSERT INTO audit_events (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id, username,
         resource_names, body, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      record.sequence, record.eventId, record.accountId, record.eventTime.getTime(), record.eventName, record.eventSource, record.readOnly ? 1 : 0,
      record.accessKeyId, record.username, JSON.stringify(record.resourceNames), record.body, record.prevHash, record.hash,
    );
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
