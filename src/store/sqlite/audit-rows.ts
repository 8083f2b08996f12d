import type { Database, Statement } from 'better-sqlite3';
import { decodeAuditBody, decodeAuditEventId, decodeAuditHash, encodeAuditBody, encodeAuditEventId, encodeAuditHash } from '../audit-codec.js';
import type { AuditEventRecord } from '../records.js';

/**
 * An audit row of SQLite's compact encoding (audit migration 3), and the old one it still reads.
 *
 * The columns that repeat the same few texts over and over (account, event name and source, access key,
 * user name, the resource names' JSON array) hold the id of the text in `audit_names` (an INTEGER of one or
 * two bytes, and so are their index entries); the event id is 16 bytes, the body its text (appends) or
 * compressed (imports), the hashes 32 bytes (store/audit-codec.ts). A value of the old encoding is TEXT, and read as it is: rows written before
 * migration 3, or put back as text by hand, need no rewrite. A name once given an id keeps it for good
 * (audit_names is only appended to), so readers may cache it.
 */

/** The columns of an event in INSERT order, sequence first. */
export const AUDIT_COLUMNS = 'sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id, username, resource_names, body, prev_hash, hash';

/** An event's logical values, in AUDIT_COLUMNS order: texts, resource names as their JSON array, hex hashes. */
export type AuditLogicalRow = [
  sequence: number, eventId: string, accountId: string, eventTime: number, eventName: string, eventSource: string, readOnly: 0 | 1,
  accessKeyId: string, username: string, resourceNames: string, body: string, prevHash: string, hash: string,
];

/** The texts kept as ids in `audit_names`, for one connection. */
export class AuditNames {
  readonly #db: Database;
  readonly #ids = new Map<string, number>();
  readonly #names = new Map<number, string>();
  // Prepared when first needed: an audit.db of the old encoding, opened read-only and not migrated, has no
  // audit_names table, and none of its rows names an id.
  #select: Statement | undefined;
  #insert: Statement | undefined;
  #nameOf: Statement | undefined;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The id of `name`, given one now if it has none; call inside the write transaction that uses it. */
  idOf(name: string): number {
    this.#select ??= this.#db.prepare('SELECT id FROM audit_names WHERE name = ?').pluck();
    this.#insert ??= this.#db.prepare('INSERT INTO audit_names (name) VALUES (?)');
    let id = this.#ids.get(name) ?? (this.#select.get(name) as number | undefined);
    id ??= Number(this.#insert.run(name).lastInsertRowid);
    this.#ids.set(name, id);
    return id;
  }

  /** A stored value of a named column as its text: an id is looked up, a text (old encoding) is itself. */
  nameOf(stored: unknown): string {
    if (typeof stored !== 'number' && typeof stored !== 'bigint') return String(stored);
    const id = Number(stored);
    let name = this.#names.get(id);
    if (name === undefined) {
      this.#nameOf ??= this.#db.prepare('SELECT name FROM audit_names WHERE id = ?').pluck();
      name = this.#nameOf.get(id) as string | undefined;
      // An id with no name (a tampered row): some text that is not the event's, which verify then names.
      if (name === undefined) return `unknown name id ${id}`;
      this.#names.set(id, name);
    }
    return name;
  }

  /** After a rolled-back transaction: ids given in it no longer exist. */
  forgetUncommitted(): void {
    this.#ids.clear();
  }
}

/**
 * The values an INSERT of AUDIT_COLUMNS takes for an event, in the compact encoding. `body`: 'compressed' (an
 * import, a restore: off the request path) or 'text' (the writer's appends: compressing each event with a fresh
 * zlib stream cost more CPU than the rest of a GetSecretValue's append; docs/ARCHITECTURE.md, "Audit").
 */
export function storedAuditRow(names: AuditNames, row: AuditLogicalRow, body: 'compressed' | 'text' = 'compressed'): unknown[] {
  const [sequence, eventId, accountId, eventTime, eventName, eventSource, readOnly, accessKeyId, username, resourceNames, text, prevHash, hash] = row;
  // Ids are bound as BigInt: better-sqlite3 binds a number as a REAL, which a column without affinity keeps (8 bytes).
  const id = (name: string) => BigInt(names.idOf(name));
  return [
    sequence, encodeAuditEventId(eventId), id(accountId), eventTime, id(eventName), id(eventSource), readOnly,
    id(accessKeyId), id(username), id(resourceNames), body === 'compressed' ? encodeAuditBody(text) : text, encodeAuditHash(prevHash), encodeAuditHash(hash),
  ];
}

type StoredRow = Record<string, unknown>;

/** A stored row (either encoding) as its logical values. */
export function logicalAuditRow(names: AuditNames, row: StoredRow): AuditLogicalRow {
  return [
    Number(row.sequence), decodeAuditEventId(row.event_id), names.nameOf(row.account_id), Number(row.event_time), names.nameOf(row.event_name),
    names.nameOf(row.event_source), row.read_only === 1 ? 1 : 0, names.nameOf(row.access_key_id), names.nameOf(row.username),
    names.nameOf(row.resource_names), decodeAuditBody(row.body), decodeAuditHash(row.prev_hash), decodeAuditHash(row.hash),
  ];
}

export function auditRecordFromRow(names: AuditNames, stored: StoredRow): AuditEventRecord {
  const [sequence, eventId, accountId, eventTime, eventName, eventSource, readOnly, accessKeyId, username, resourceNames, body, prevHash, hash] =
    logicalAuditRow(names, stored);
  return {
    sequence, eventId, accountId, eventTime: new Date(eventTime), eventName, eventSource, readOnly: readOnly === 1, accessKeyId, username,
    resourceNames: parseNames(resourceNames), body, prevHash, hash,
  };
}

/** A tampered row may hold anything; verify reports it rather than crash on it. */
function parseNames(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * SQL matching a named column against a text in either encoding: `column IN (?, <its id>)`. Takes the text
 * twice (namedValues); the index on the column serves both.
 */
export function namedColumnIs(column: string): string {
  return `${column} IN (?, (SELECT id FROM audit_names WHERE name = ?))`;
}

/** The JSON array of resource names, whichever encoding the row has (for json_each). */
export const RESOURCE_NAMES_TEXT =
  "(CASE typeof(resource_names) WHEN 'integer' THEN (SELECT name FROM audit_names WHERE id = resource_names) ELSE resource_names END)";

/** A stored hash in either encoding, as hex (the chain head, compared by anchors). */
export { decodeAuditHash as storedHashHex } from '../audit-codec.js';
