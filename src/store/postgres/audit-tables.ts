import { AuditAnchorer, newestValidAnchor, type AuditAnchoring } from '../audit-anchor.js';
import {
  AUDIT_TEMPLATE_CACHE_LIMIT, AuditTemplateMatcher, decodeAuditBody, decodeAuditHash, encodeTemplatedBody, splitAuditBody, TemplateFirstSights,
  templateMatcherKey, templateOfStoredBody, type AuditBodySplit,
} from '../audit-codec.js';
import { chainHash, GENESIS_HASH } from '../audit-hash.js';
import { createHash } from 'node:crypto';
import postgres from 'postgres';
import type { AuditEventDraft, AuditEventRecord, AuditLookup, AuditLookupKey } from '../records.js';
import type { AuditRepository } from '../repositories/audit.js';
import type { RunAutocommit, RunInTransaction } from './postgres-tables.js';
import { isRetryable, RETRY_BUDGET_MS, type Sql } from './transaction.js';
import { unavailable } from './unavailable.js';

type Row = Record<string, any>;

/** The condition each LookupEvents attribute compares with ($1 is its value); names come only from this table. */
const LOOKUP_CONDITIONS: Record<AuditLookupKey, string> = {
  EventId: 'event_id = $1',
  EventName: 'event_name = $1',
  EventSource: 'event_source = $1',
  ReadOnly: 'read_only = $1',
  Username: 'username = $1',
  AccessKeyId: 'access_key_id = $1',
  ResourceName: '$1 = ANY(resource_names)',
};

/** Thrown inside the probe's transaction so that its throwaway event is rolled back. */
class ProbeRollback extends Error {}

/** Events read per step while looking for an operation's newest successful call (lastSuccessfulAuditEvent). */
const SUCCESS_SEARCH_PAGE = 16;

/** Events deleted per transaction when pruning. */
const PRUNE_BATCH_ROWS = 2000;

/** The chain's last event: where the next append starts. */
type ChainEnd = { sequence: number; hash: string };

/**
 * How many times in a row an append goes in one statement after the end the last refusal named, before it reads
 * the end in a transaction instead: each refusal means another node committed an append meanwhile (progress),
 * but a node that keeps losing should not loop without bound.
 */
const ONE_STATEMENT_ATTEMPTS = 8;

/**
 * The audit log in PostgreSQL (table audit_events). An append seals the drafts after the chain's end
 * (audit-hash.ts) and inserts them, in one of two ways:
 * - after the end this node's own last append wrote, when it knows it (the usual case: this process's appends
 *   wait for each other in a queue), in ONE autocommit statement (one round trip instead of BEGIN, the end's
 *   read, the INSERT and COMMIT) that inserts the batch only if that end is still the chain's last row, with the
 *   hash remembered. Refused (another node appended meanwhile), it inserted nothing and answers the end it found,
 *   after which the batch is sealed again and sent again, in one statement still. Two appends after the same end
 *   both insert its next sequence, which the primary key lets only one of commit (the other waits for it, then
 *   fails with 23505), so the chain never forks whatever the statement read;
 * - otherwise (at start, after a failure, after a 23505, after ONE_STATEMENT_ATTEMPTS refusals in a row),
 *   reading the end and inserting after it in one SERIALIZABLE transaction: appends that read the same end
 *   collide (40001, or 23505 on the primary key against a one-statement append) and the loser runs again,
 *   sealing after the winner's events.
 * The queue is a speed-up only (appends would otherwise mostly collide and retry); correctness rests on the
 * database's primary key.
 * Anchors: each node anchors the heads of the chain it appended (store/audit-anchor.ts), in its own anchor
 * file; every head is a point of the one chain, so any node's anchors check the whole deployment's log.
 */
export class PostgresAuditTables implements AuditRepository {
  readonly #transaction: RunInTransaction;
  readonly #autocommit: RunAutocommit;
  readonly #templates = new PostgresAuditTemplates();
  #anchorer: AuditAnchorer | undefined;
  #appendQueue: Promise<unknown> = Promise.resolve();
  /** The end this node's last append wrote, known to be committed; undefined while unknown (at start, after a failure). */
  #knownEnd: ChainEnd | undefined;

  constructor(transaction: RunInTransaction, autocommit: RunAutocommit) {
    this.#transaction = transaction;
    this.#autocommit = autocommit;
  }

  /** Opens the anchor file and checks its newest anchor against the log (a server's start; not for local commands). */
  async startAnchoring(anchoring: AuditAnchoring): Promise<void> {
    if (this.#anchorer) return;
    const { options, onAnchor, onError } = anchoring;
    const newest = newestValidAnchor(options.file, options.key);
    const storedHash = newest ? await this.#hashAt(newest.sequence) : undefined;
    this.#anchorer = new AuditAnchorer(options, { onAnchor, onError: (error) => onError(error instanceof Error ? error.message : String(error)) });
    this.#anchorer.checkAgainst(() => storedHash);
  }

  /** Anchors the last head this node appended and closes the anchor file. */
  close(): void {
    this.#anchorer?.close();
    this.#anchorer = undefined;
  }

  async #hashAt(sequence: number): Promise<string | undefined> {
    const [record] = await this.listAuditEvents(sequence - 1, 1);
    return record?.sequence === sequence ? record.hash : undefined;
  }

  async appendAuditEvent(draft: AuditEventDraft): Promise<AuditEventRecord> {
    return (await this.appendAuditEvents([draft]))[0]!;
  }

  appendAuditEvents(drafts: AuditEventDraft[]): Promise<AuditEventRecord[]> {
    const appended = this.#appendQueue.then(async () => {
      const bodies = await this.#templates.storedBodies(drafts, this.#transaction);
      return this.#append(drafts, bodies);
    });
    this.#appendQueue = appended.catch(() => undefined);
    return appended.then((records) => {
      const head = records[records.length - 1];
      if (head) this.#anchorer?.headMoved({ sequence: head.sequence, hash: head.hash });
      return records;
    });
  }

  /** After the known end in one statement, or else after the end read in a transaction; the end is known again once committed. */
  async #append(drafts: AuditEventDraft[], bodies: Buffer[]): Promise<AuditEventRecord[]> {
    if (drafts.length === 0) return [];
    let end = this.#knownEnd;
    // Forgotten until this append surely committed: a failure (even a timed-out one that may commit later) leaves it unknown.
    this.#knownEnd = undefined;
    let records: AuditEventRecord[] | undefined;
    for (let attempt = 0; end && !records && attempt < ONE_STATEMENT_ATTEMPTS; attempt++) {
      const outcome = await this.#appendAfterKnownEnd(end, drafts, bodies);
      if ('records' in outcome) records = outcome.records;
      else end = outcome.endFound;
    }
    records ??= await this.#appendAfterReadEnd(drafts, bodies);
    const head = records[records.length - 1]!;
    this.#knownEnd = { sequence: head.sequence, hash: head.hash };
    return records;
  }

  /**
   * The records, inserted in one statement; or, when `end` is no longer the chain's end (nothing was inserted), the
   * end the statement found (undefined when it cannot tell: an empty log, a collision reported as an error).
   */
  async #appendAfterKnownEnd(end: ChainEnd, drafts: AuditEventDraft[], bodies: Buffer[]): Promise<{ records: AuditEventRecord[] } | { endFound?: ChainEnd }> {
    const records = sealAfter(end, drafts);
    try {
      const row = await this.#autocommit((sql) => sql.one(INSERT_EVENTS_AFTER_KNOWN_END, [...eventColumns(records, bodies), end.sequence, end.hash]));
      if (row?.appended === records.length) return { records };
      return { endFound: row ? { sequence: row.sequence as number, hash: row.hash as string } : undefined };
    } catch (error) {
      // 40001: a distributed engine runs even a lone statement SERIALIZABLE and may refuse it so; rolled back all the same.
      if (isChainEndTaken(error) || isRetryable(error)) return {};
      throw error;
    }
  }

  /**
   * Reads the end and appends after it, in one transaction (retried there on 40001). Again when a one-statement
   * append of another node took the next sequence after this transaction's read (23505: READ COMMITTED writes
   * are not part of SERIALIZABLE's checks, so the primary key reports the collision).
   */
  async #appendAfterReadEnd(drafts: AuditEventDraft[], bodies: Buffer[]): Promise<AuditEventRecord[]> {
    const deadline = Date.now() + RETRY_BUDGET_MS;
    for (;;) {
      try {
        return await this.#transaction((sql) => appendAfterEnd(sql, drafts, bodies));
      } catch (error) {
        if (!isChainEndTaken(error)) throw error;
        if (Date.now() >= deadline) throw unavailable(error);
      }
    }
  }

  async probeAuditAppend(): Promise<void> {
    const probe: AuditEventDraft = {
      eventId: `probe-${process.pid}-${Date.now()}`,
      accountId: '000000000000',
      eventTime: new Date(),
      eventName: 'Probe',
      eventSource: 'coffer',
      readOnly: true,
      accessKeyId: '',
      username: '',
      resourceNames: [],
      body: '{}',
    };
    try {
      await this.#transaction(async (sql) => {
        await appendAfterEnd(sql, [probe], [Buffer.from(probe.body, 'utf8')]);
        throw new ProbeRollback();
      });
    } catch (error) {
      if (!(error instanceof ProbeRollback)) throw error;
    }
  }

  /** In batches, one transaction each: an append's read of the chain's end conflicts with at most one. */
  async pruneAuditEvents(throughSequence: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const changes = await this.#transaction(async (sql) =>
        (await sql.rows(
          `DELETE FROM audit_events WHERE sequence IN (
             SELECT sequence FROM audit_events WHERE sequence <= $1 AND sequence < (SELECT max(sequence) FROM audit_events) ORDER BY sequence LIMIT $2)
           RETURNING sequence`,
          [throughSequence, PRUNE_BATCH_ROWS],
        )).length,
      );
      deleted += changes;
      if (changes < PRUNE_BATCH_ROWS) return deleted;
    }
  }

  listAuditEvents(afterSequence: number, limit: number): Promise<AuditEventRecord[]> {
    return this.#transaction(async (sql) =>
      this.#records(sql, await sql.rows('SELECT * FROM audit_events WHERE sequence > $1 ORDER BY sequence LIMIT $2', [afterSequence, limit])),
    );
  }

  /** Rows as records, their bodies' templates read first (those this node has not cached). */
  async #records(sql: Sql, rows: Row[]): Promise<AuditEventRecord[]> {
    await this.#templates.load(sql, rows);
    return rows.map((row) => auditEventFromRow(row, this.#templates));
  }

  lastSuccessfulAuditEvent(query: { eventSource: string; eventNames: readonly string[]; resourceName: string }): Promise<AuditEventRecord | undefined> {
    // One indexed walk per operation name (audit_events_by_name), newest first; the newest of their answers wins.
    // Whether a call failed is in its body (compressed when imported): read here, in pages, past the rare failed calls.
    return this.#transaction(async (sql) => {
      let newest: AuditEventRecord | undefined;
      for (const name of new Set(query.eventNames)) {
        for (let before = Number.MAX_SAFE_INTEGER; before > (newest?.sequence ?? 0); ) {
          const rows = await sql.rows(
            `SELECT * FROM audit_events WHERE event_name = $1 AND event_source = $2 AND $3 = ANY(resource_names) AND sequence < $4
             ORDER BY sequence DESC LIMIT ${SUCCESS_SEARCH_PAGE}`,
            [name, query.eventSource, query.resourceName, before],
          );
          const success = (await this.#records(sql, rows)).find((record) => !failedCall(record));
          if (success) {
            if (!newest || success.sequence > newest.sequence) newest = success;
            break;
          }
          if (rows.length < SUCCESS_SEARCH_PAGE) break;
          before = Number(rows[rows.length - 1]!.sequence);
        }
      }
      return newest;
    });
  }

  lookupAuditEvents(lookup: AuditLookup): Promise<AuditEventRecord[]> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    const add = (condition: string, value: unknown) => {
      values.push(value);
      conditions.push(condition.replace('$1', `$${values.length}`));
    };
    if (lookup.accountId !== undefined) add('account_id = $1', lookup.accountId);
    if (lookup.attribute) {
      const { key, value } = lookup.attribute;
      add(LOOKUP_CONDITIONS[key], key === 'ReadOnly' ? value === 'true' : value);
    }
    if (lookup.startTime) add('event_time >= $1', lookup.startTime.getTime());
    if (lookup.endTime) add('event_time <= $1', lookup.endTime.getTime());
    if (lookup.beforeSequence !== undefined) add('sequence < $1', lookup.beforeSequence);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    values.push(lookup.limit);
    return this.#transaction(async (sql) =>
      this.#records(sql, await sql.rows(`SELECT * FROM audit_events ${where} ORDER BY sequence DESC LIMIT $${values.length}`, values)),
    );
  }
}

/**
 * A group commit's batch goes in one INSERT (one round trip, not one per event), and always the same statement
 * whatever the batch size, so each connection prepares it once: one array parameter per column, unnested into
 * rows. resource_names, itself an array, travels as JSON text per row (unnest would flatten a text[][]); the
 * body's UTF-8 bytes as base64 (any character survives, NUL included) and the hashes as hex, decoded into BYTEA
 * by the statement. Appends store a template's id and holes, or the text (PostgresAuditTemplates); imports
 * compress (transfer.ts, audit-codec.ts).
 */
const INSERT_EVENTS = `INSERT INTO audit_events (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id,
    username, resource_names, body, prev_hash, hash)
  SELECT sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id,
    username, ARRAY(SELECT jsonb_array_elements_text(resource_names::jsonb)), decode(body, 'base64'), decode(prev_hash, 'hex'), decode(hash, 'hex')
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::boolean[], $8::text[],
    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
    AS batch (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id,
      username, resource_names, body, prev_hash, hash)`;

/**
 * The same INSERT, autocommitted, after the end this node wrote last ($14, its hash $15 in hex): only while that
 * is still the chain's end, the last row with that sequence and that hash (not a restored copy's). Answers one row:
 * how many events it appended (all or none) and the end it found before them, where a refused batch is sealed
 * after next (no row: an empty log). The check reads committed rows (READ COMMITTED); an append after the same end
 * that is not yet committed is the primary key's to refuse (23505). The primary key would refuse a committed later
 * row too; the check answers that usual case (another node appended) with the end to try next instead of an error
 * in the database's log. The end is read as the last row (one backward step of the primary key's index, as
 * appendAfterEnd's read) because a prepared statement's generic plan takes `NOT EXISTS (… sequence > $14)` for a
 * scan of the whole table.
 */
const INSERT_EVENTS_AFTER_KNOWN_END = `WITH chain_end AS (SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1),
  appended AS (${INSERT_EVENTS}
    WHERE (SELECT chain_end.sequence = $14 AND chain_end.hash = decode($15, 'hex') FROM chain_end)
    RETURNING 1)
  SELECT (SELECT count(*) FROM appended)::int AS appended, chain_end.sequence, encode(chain_end.hash, 'hex') AS hash FROM chain_end`;

/** Seals the drafts after the chain's current end and inserts them; runs inside the caller's transaction. */
async function appendAfterEnd(sql: Sql, drafts: AuditEventDraft[], bodies: Buffer[]): Promise<AuditEventRecord[]> {
  const end = await sql.one("SELECT sequence, encode(hash, 'hex') AS hash FROM audit_events ORDER BY sequence DESC LIMIT 1");
  const records = sealAfter(end ? { sequence: end.sequence, hash: end.hash } : { sequence: 0, hash: GENESIS_HASH }, drafts);
  await sql.run(INSERT_EVENTS, eventColumns(records, bodies));
  return records;
}

/** The drafts as the chain's next events after `end`: numbered on from it, each hash chained to the one before. */
function sealAfter(end: ChainEnd, drafts: readonly AuditEventDraft[]): AuditEventRecord[] {
  let sequence = end.sequence;
  let prevHash = end.hash;
  return drafts.map((draft) => {
    sequence += 1;
    const record = { ...draft, sequence, prevHash, hash: chainHash(prevHash, draft.body) };
    prevHash = record.hash;
    return record;
  });
}

/** INSERT_EVENTS' thirteen array parameters, one per column, for the records and their stored bodies. */
function eventColumns(records: readonly AuditEventRecord[], bodies: readonly Buffer[]): unknown[][] {
  const column = <T>(pick: (record: AuditEventRecord) => T) => records.map(pick);
  return [
    column((r) => r.sequence), column((r) => r.eventId), column((r) => r.accountId), column((r) => r.eventTime.getTime()),
    column((r) => r.eventName), column((r) => r.eventSource), column((r) => r.readOnly), column((r) => r.accessKeyId),
    column((r) => r.username), column((r) => JSON.stringify(r.resourceNames)), bodies.map((body) => body.toString('base64')), column((r) => r.prevHash), column((r) => r.hash),
  ];
}

/** Another append took the sequence after the end this one sealed after (the primary key refused it; nothing was inserted). */
function isChainEndTaken(error: unknown): boolean {
  return error instanceof postgres.PostgresError && error.code === '23505' && error.constraint_name === 'audit_events_pkey';
}

function auditEventFromRow(row: Row, templates: PostgresAuditTemplates): AuditEventRecord {
  return {
    sequence: row.sequence,
    eventId: row.event_id,
    accountId: row.account_id,
    eventTime: new Date(row.event_time),
    eventName: row.event_name,
    eventSource: row.event_source,
    readOnly: row.read_only === true,
    accessKeyId: row.access_key_id,
    username: row.username,
    resourceNames: row.resource_names,
    body: templates.bodyOf(row),
    prevHash: decodeAuditHash(row.prev_hash),
    hash: decodeAuditHash(row.hash),
  };
}

/** Whether the event records a failed call (CloudTrail's errorCode). */
function failedCall(record: AuditEventRecord): boolean {
  try {
    return (JSON.parse(record.body) as { errorCode?: unknown }).errorCode !== undefined;
  } catch {
    return true;
  }
}

/** The key under which an append looks for the templates its operation and access key used last. */
function matcherKey(draft: AuditEventDraft): string {
  return templateMatcherKey(draft.eventName, draft.accessKeyId);
}

/**
 * The body templates of audit_templates (audit-codec.ts, codec 2), as one node sees them: text → id for its
 * appends, id → text for its reads. A template is stored from the second event of this node that has it (the
 * first keeps its text: an event whose template is its own costs no more than its text), in a short transaction
 * of its own before the append, as insert-or-get (several nodes may store the same one): every id cached here
 * is committed, and a template is never deleted, so the caches never go stale.
 */
export class PostgresAuditTemplates {
  readonly #ids = new Map<string, number>();
  readonly #texts = new Map<number, string>();
  readonly #firstSights = new TemplateFirstSights();
  /** The kept templates an append tries first (audit-codec.ts), by operation and access key. */
  readonly #matcher = new AuditTemplateMatcher();

  /** The stored bodies of the drafts, in order: a template id and holes, or the text's UTF-8 bytes. */
  async storedBodies(drafts: readonly AuditEventDraft[], transaction: RunInTransaction): Promise<Buffer[]> {
    const matched: Array<Buffer | undefined> = [];
    const splits = drafts.map((draft, index) => {
      const context = { eventId: draft.eventId, eventTime: draft.eventTime.getTime(), resourceNames: draft.resourceNames };
      const match = this.#matcher.find(matcherKey(draft), draft.body, context);
      if (match) matched[index] = encodeTemplatedBody(match.templateId, match.holes);
      return match ? undefined : splitAuditBody(draft.body, context);
    });
    const toStore = new Map<string, Buffer>();
    for (const split of splits) {
      if (split === undefined || this.#ids.has(split.template) || toStore.has(split.template)) continue;
      if (this.#firstSights.seenBefore(split.template)) toStore.set(split.template, createHash('sha256').update(split.template).digest());
    }
    if (toStore.size > 0) await this.#store(toStore, transaction);
    return drafts.map((draft, index) => {
      const split: AuditBodySplit | undefined = splits[index];
      const id = split && this.#ids.get(split.template);
      if (id === undefined) return matched[index] ?? Buffer.from(draft.body, 'utf8');
      this.#matcher.add(matcherKey(draft), split!.template, id);
      return encodeTemplatedBody(id, split!.holes);
    });
  }

  async #store(templates: Map<string, Buffer>, transaction: RunInTransaction): Promise<void> {
    const digests = [...templates.values()].map((digest) => digest.toString('hex'));
    const stored = await transaction(async (sql) => {
      await sql.run(
        `INSERT INTO audit_templates (digest, template) SELECT decode(digest, 'hex'), template FROM unnest($1::text[], $2::text[]) AS t (digest, template)
         ON CONFLICT (digest) DO NOTHING`,
        [digests, [...templates.keys()]],
      );
      return sql.rows("SELECT id, template FROM audit_templates WHERE digest IN (SELECT decode(d, 'hex') FROM unnest($1::text[]) AS d)", [digests]);
    });
    if (this.#ids.size + stored.length > AUDIT_TEMPLATE_CACHE_LIMIT) this.#ids.clear();
    // A row whose text differs from ours (the same SHA-256: not a thing to plan for) is never used for it.
    for (const row of stored) if (templates.has(row.template as string)) this.#ids.set(row.template as string, Number(row.id));
  }

  /** Reads the templates of the rows' bodies that this node has not cached. */
  async load(sql: Sql, rows: readonly Row[]): Promise<void> {
    const missing = new Set<number>();
    for (const row of rows) {
      const templateId = templateOfStoredBody(row.body)?.templateId;
      if (templateId !== undefined && !this.#texts.has(templateId)) missing.add(templateId);
    }
    if (missing.size === 0) return;
    if (this.#texts.size + missing.size > AUDIT_TEMPLATE_CACHE_LIMIT) this.#texts.clear();
    this.#remember(await sql.rows('SELECT id, template FROM audit_templates WHERE id = ANY($1::bigint[])', [[...missing]]));
  }

  /** Reads every template (a copy's snapshot: its cursor leaves no room for a query per page). */
  async loadAll(sql: Sql): Promise<void> {
    this.#remember(await sql.rows('SELECT id, template FROM audit_templates'));
  }

  #remember(rows: readonly Row[]): void {
    for (const row of rows) this.#texts.set(Number(row.id), row.template as string);
  }

  /** The canonical text of a row's body, whatever its encoding (its template loaded first). */
  bodyOf(row: Row): string {
    return decodeAuditBody(row.body, {
      template: (id) => this.#texts.get(id),
      context: () => ({ eventId: String(row.event_id), eventTime: Number(row.event_time), resourceNames: (row.resource_names as string[] | null) ?? [] }),
    });
  }
}
