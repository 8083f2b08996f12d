import { createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import {
  AUDIT_TEMPLATE_CACHE_LIMIT, AuditTemplateMatcher, decodeAuditBody, decodeAuditEventId, decodeAuditHash, encodeAuditBody, encodeAuditEventId,
  encodeAuditHash, encodeTemplatedBody, splitAuditBody, TemplateFirstSights, templateMatcherKey,
} from '../audit-codec.js';
import type { AuditEventRecord } from '../records.js';

/**
 * An audit row of SQLite's compact encoding (audit migration 3), and the old one it still reads.
 *
 * The columns that repeat the same few texts over and over (account, event name and source, access key,
 * user name, the resource names' JSON array) hold the id of the text in `audit_names` (an INTEGER of one or
 * two bytes, and so are their index entries); the event id is 16 bytes, the body a template's id and its
 * holes (appends, audit migration 4: the template's text is in `audit_templates`), its text (appends of an event
 * whose template is not kept) or compressed (imports), the hashes 32 bytes (store/audit-codec.ts). A value of the old encoding is TEXT, and read as it is: rows written before
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

/** An event's columns before it has a place in the chain, in INSERT order (after sequence): what the writer is handed. */
export type AuditDraftRow = [
  eventId: string, accountId: string, eventTime: number, eventName: string, eventSource: string, readOnly: 0 | 1,
  accessKeyId: string, username: string, resourceNames: string, body: string,
];

/**
 * Names a connection keeps in memory, either way (text → id, id → text); past it a map starts over. Every secret's
 * resource names are a name of their own: unbounded, random reads over 100,000 secrets grew the writer thread's heap
 * by ~0.2 KB per secret read (17.5 against 13.6 MB used after 40,000 events); a name looked up again costs one indexed SELECT.
 */
export const AUDIT_NAME_CACHE_LIMIT = 4096;

/** The texts kept as ids in `audit_names`, and the body templates kept in `audit_templates`, for one connection. */
export class AuditNames {
  readonly #db: Database;
  /** As bound: better-sqlite3 binds a number as a REAL, which a column without affinity keeps (8 bytes). */
  readonly #ids = new Map<string, bigint>();
  readonly #names = new Map<number, string>();
  readonly #templateIds = new Map<string, number>();
  readonly #templates = new Map<number, string>();
  readonly #firstSights = new TemplateFirstSights();
  #lastNamesText: string | undefined;
  #lastNames: string[] = [];
  /** The kept templates an append tries first (audit-codec.ts), by operation and access key. */
  readonly matcher = new AuditTemplateMatcher();
  #templateByDigest: Statement | undefined;
  #insertTemplate: Statement | undefined;
  #templateOf: Statement | undefined;
  // Prepared when first needed: an audit.db of the old encoding, opened read-only and not migrated, has no
  // audit_names table, and none of its rows names an id.
  #select: Statement | undefined;
  #insert: Statement | undefined;
  #nameOf: Statement | undefined;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The id of `name` as bound (a BigInt), given one now if it has none; call inside the write transaction that uses it. */
  idOf(name: string): bigint {
    const known = this.#ids.get(name);
    if (known !== undefined) return known;
    this.#select ??= this.#db.prepare('SELECT id FROM audit_names WHERE name = ?').pluck().safeIntegers();
    this.#insert ??= this.#db.prepare('INSERT INTO audit_names (name) VALUES (?)');
    const id = (this.#select.get(name) as bigint | undefined) ?? BigInt(this.#insert.run(name).lastInsertRowid);
    if (this.#ids.size >= AUDIT_NAME_CACHE_LIMIT) this.#ids.clear();
    this.#ids.set(name, id);
    return id;
  }

  /** The resource names of a JSON array text; the last one is kept (a batch's events mostly name the same). */
  resourceNameList(text: string): string[] {
    if (text !== this.#lastNamesText) {
      this.#lastNames = parseNames(text);
      this.#lastNamesText = text;
    }
    return this.#lastNames;
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
      if (this.#names.size >= AUDIT_NAME_CACHE_LIMIT) this.#names.clear();
      this.#names.set(id, name);
    }
    return name;
  }

  /**
   * The id of a body template; call inside the write transaction that uses it. A template is kept from the second
   * event that has it on (the first keeps its text): an event whose template is its own costs no more than its text.
   */
  templateIdOf(template: string): number | undefined {
    const known = this.#templateIds.get(template);
    if (known !== undefined) return known;
    // A first sight costs no SQL (a one-off event's only extra cost is the split); the table is asked from the
    // second on (kept before a restart, or by another connection), and given the template when it has none.
    if (!this.#firstSights.seenBefore(template)) return undefined;
    this.#templateByDigest ??= this.#db.prepare('SELECT id, template FROM audit_templates WHERE digest = ?');
    const digest = createHash('sha256').update(template).digest();
    const stored = this.#templateByDigest.get(digest) as { id: number; template: string } | undefined;
    let id: number;
    if (stored !== undefined) {
      // Another text with the same SHA-256 is not a thing to plan for, but it must never decode as this one.
      if (stored.template !== template) return undefined;
      id = stored.id;
    } else {
      this.#insertTemplate ??= this.#db.prepare('INSERT INTO audit_templates (digest, template) VALUES (?, ?)');
      id = Number(this.#insertTemplate.run(digest, template).lastInsertRowid);
    }
    if (this.#templateIds.size >= AUDIT_TEMPLATE_CACHE_LIMIT) this.#templateIds.clear();
    this.#templateIds.set(template, id);
    return id;
  }

  /** The text of a body template (undefined for an id with none: a tampered row). */
  templateOf(id: number): string | undefined {
    let template = this.#templates.get(id);
    if (template === undefined) {
      this.#templateOf ??= this.#db.prepare('SELECT template FROM audit_templates WHERE id = ?').pluck();
      template = this.#templateOf.get(id) as string | undefined;
      if (template === undefined) return undefined;
      if (this.#templates.size >= AUDIT_TEMPLATE_CACHE_LIMIT) this.#templates.clear();
      this.#templates.set(id, template);
    }
    return template;
  }

  /** After a rolled-back transaction: ids given in it no longer exist. */
  forgetUncommitted(): void {
    this.#ids.clear();
    this.#templateIds.clear();
    this.matcher.clear();
  }
}

/**
 * The values an INSERT of AUDIT_COLUMNS takes for an event, in the compact encoding. `body`: 'template' (the
 * writer's appends: a template id and the holes, or the text while the template is not kept; audit-codec.ts) or
 * 'imported' (an import, a restore: off the request path, so an event without a template is compressed).
 * Compressing each append with a fresh zlib stream cost more CPU than the rest of a GetSecretValue's append;
 * docs/ARCHITECTURE.md, "Audit".
 */
export function storedAuditRow(names: AuditNames, row: AuditLogicalRow, body: 'imported' | 'template'): unknown[] {
  const [sequence, eventId, accountId, eventTime, eventName, eventSource, readOnly, accessKeyId, username, resourceNames, text, prevHash, hash] = row;
  return [
    sequence, encodeAuditEventId(eventId, eventTime), names.idOf(accountId), eventTime, names.idOf(eventName), names.idOf(eventSource), readOnly,
    names.idOf(accessKeyId), names.idOf(username), names.idOf(resourceNames),
    templatedBody(names, eventId, eventTime, eventName, accessKeyId, resourceNames, text) ?? (body === 'imported' ? encodeAuditBody(text) : text),
    encodeAuditHash(prevHash), encodeAuditHash(hash),
  ];
}

/**
 * The writer's INSERT values for a draft row sealed at `sequence`: storedAuditRow's, from the hashes as stored
 * (the writer has the digest's bytes; hex and back cost it ~1 µs an event).
 */
export function appendedAuditRow(names: AuditNames, sequence: number, draft: AuditDraftRow, prevHash: Buffer | string, hash: Buffer): unknown[] {
  const [eventId, accountId, eventTime, eventName, eventSource, readOnly, accessKeyId, username, resourceNames, text] = draft;
  return [
    sequence, encodeAuditEventId(eventId, eventTime), names.idOf(accountId), eventTime, names.idOf(eventName), names.idOf(eventSource), readOnly,
    names.idOf(accessKeyId), names.idOf(username), names.idOf(resourceNames),
    templatedBody(names, eventId, eventTime, eventName, accessKeyId, resourceNames, text) ?? text, prevHash, hash,
  ];
}

/** The body as a template's id and holes; undefined when it has no template kept (yet). */
function templatedBody(
  names: AuditNames, eventId: string, eventTime: number, eventName: string, accessKeyId: string, resourceNames: string, text: string,
): Buffer | undefined {
  const context = { eventId, eventTime, resourceNames: names.resourceNameList(resourceNames) };
  const key = templateMatcherKey(eventName, accessKeyId);
  const stored = names.matcher.findStoredBody(key, text, context);
  if (stored) return stored;
  const split = splitAuditBody(text, context);
  const templateId = split && names.templateIdOf(split.template);
  if (templateId === undefined) return undefined;
  names.matcher.add(key, split!.template, templateId);
  return encodeTemplatedBody(templateId, split!.holes);
}

type StoredRow = Record<string, unknown>;

/** A stored row (either encoding) as its logical values. */
export function logicalAuditRow(names: AuditNames, row: StoredRow): AuditLogicalRow {
  const eventId = decodeAuditEventId(row.event_id);
  const eventTime = Number(row.event_time);
  const resourceNames = names.nameOf(row.resource_names);
  const body = decodeAuditBody(row.body, {
    template: (id) => names.templateOf(id),
    context: () => ({ eventId, eventTime, resourceNames: parseNames(resourceNames) }),
  });
  return [
    Number(row.sequence), eventId, names.nameOf(row.account_id), eventTime, names.nameOf(row.event_name),
    names.nameOf(row.event_source), row.read_only === 1 ? 1 : 0, names.nameOf(row.access_key_id), names.nameOf(row.username),
    resourceNames, body, decodeAuditHash(row.prev_hash), decodeAuditHash(row.hash),
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
