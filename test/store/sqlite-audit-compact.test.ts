import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildEvent, canonicalEventJson, indexFields, verifyChain } from '../../src/audit/index.js';
import { chainHash, GENESIS_HASH, type AuditEventDraft } from '../../src/store/index.js';
import { auditMigrations, migrateAuditLog } from '../../src/store/sqlite/audit-migrations.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { applyMigrations } from '../../src/store/sqlite/migration-runner.js';
import { AUDIT_NAME_CACHE_LIMIT, AuditNames, logicalAuditRow, storedAuditRow, type AuditLogicalRow } from '../../src/store/sqlite/audit-rows.js';

/**
 * Issue 21: the compact on-disk encoding of audit.db (store/audit-codec.ts, store/sqlite/audit-rows.ts). An event
 * keeps its whole canonical JSON and its place in the hash chain; only how it is stored changes.
 */

const ACCOUNT = '111111111111';
const USER_AGENT = 'aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1.0 lang/js md/nodejs#24.0.0 api/secrets-manager#3.700.0 m/E,N';

/** A GetSecretValue event as the recorder makes it (audit/event.ts), and its lookup columns taken from it. */
function getSecretValueDraft(index: number, time = new Date(1_800_000_000_000 + index * 1000)): AuditEventDraft {
  const name = `app/db-${index % 20}`;
  const body = canonicalEventJson(
    buildEvent({
      requestId: randomUUID(),
      time,
      service: 'secretsmanager',
      operation: 'GetSecretValue',
      principal: { arn: `arn:aws:iam::${ACCOUNT}:user/app-${index % 3}`, accountId: ACCOUNT, accessKeyId: `AKIAEXAMPLE${index % 3}ABCDEFG` } as never,
      region: 'us-east-1',
      sourceIp: '10.0.0.7',
      userAgent: USER_AGENT,
      input: { SecretId: name },
      output: {},
      resources: [{ ARN: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-Ab12Cd`, accountId: ACCOUNT }],
    }),
  );
  const fields = indexFields(JSON.parse(body) as Record<string, unknown>);
  return { ...fields, body };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'coffer-audit-compact-'));
}

describe('the compact encoding of audit.db', () => {
  it('stores an appended body as its template id and holes from the second event of its shape on, the hashes in 32 bytes, the event id in 16 and repeated texts as ids, and reads back the identical events', async () => {
    const dir = tempDir();
    const store = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      // Drafts 1 and 61 have the same principal and secret: one shape, so one template (audit-codec.ts).
      const first = getSecretValueDraft(1);
      const second = getSecretValueDraft(61);
      const [appendedFirst] = await store.appendAuditEvents([first]);
      const [appended] = await store.appendAuditEvents([second]);
      const db = new Database(join(dir, 'audit.db'), { readonly: true });
      const rowAt = (sequence: number) => db.prepare('SELECT * FROM audit_events WHERE sequence = ?').get(sequence) as Record<string, unknown>;
      const row = rowAt(appended!.sequence);
      const templates = db.prepare('SELECT id, template FROM audit_templates').all() as Array<{ id: number; template: string }>;
      db.close();
      assert.equal(templates.length, 1, 'one shape, one template');
      const body = row.body as Buffer;
      // Codec 2, template id 1, then the requestID's 16 bytes: the event id, time and the secret's ARN come from the row's columns.
      assert.deepEqual([...body.subarray(0, 2)], [2, templates[0]!.id]);
      assert.equal(body.length, 2 + 16);
      assert.ok(!templates[0]!.template.includes(second.eventId) && !templates[0]!.template.includes(second.resourceNames[0]!));
      assert.equal((row.hash as Buffer).toString('hex'), chainHash(appendedFirst!.hash, second.body));
      assert.equal((row.prev_hash as Buffer).length, 32);
      assert.equal((row.event_id as Buffer).length, 16);
      for (const column of ['account_id', 'event_name', 'event_source', 'access_key_id', 'username', 'resource_names']) assert.equal(typeof row[column], 'number', column);
      const listed = await store.listAuditEvents(0, 2);
      assert.deepEqual(listed, [appendedFirst, appended]);
      assert.equal(listed[1]!.body, second.body);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the text of an event whose shape it has not seen before, and no template for it (a one-off event costs no more than its text)', async () => {
    const dir = tempDir();
    const store = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      const drafts = [getSecretValueDraft(1), getSecretValueDraft(2), getSecretValueDraft(3)];
      await store.appendAuditEvents(drafts);
      const db = new Database(join(dir, 'audit.db'), { readonly: true });
      const bodies = db.prepare('SELECT body FROM audit_events ORDER BY sequence').pluck().all();
      const templates = db.prepare('SELECT count(*) FROM audit_templates').pluck().get();
      db.close();
      assert.deepEqual(bodies, drafts.map((draft) => draft.body));
      assert.equal(templates, 0);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports (migrate, restore) store an event as a template from the second of its shape on, and compress the first', () => {
    const db = new Database(':memory:');
    try {
      migrateAuditLog(db);
      const names = new AuditNames(db);
      const rows = [1, 61, 121].map((index, position): AuditLogicalRow => {
        const draft = getSecretValueDraft(index);
        return [position + 1, draft.eventId, draft.accountId, draft.eventTime.getTime(), draft.eventName, draft.eventSource, 1, draft.accessKeyId,
          draft.username, JSON.stringify(draft.resourceNames), draft.body, 'a'.repeat(64), 'b'.repeat(64)];
      });
      const stored = rows.map((row) => storedAuditRow(names, row, 'imported'));
      assert.deepEqual(stored.map((values) => (values[10] as Buffer)[0]), [1, 2, 2], 'codec 1 (compressed), then codec 2 (template)');
      assert.equal((stored[2]![10] as Buffer).length, 2 + 16);
      const columns = ['sequence', 'event_id', 'account_id', 'event_time', 'event_name', 'event_source', 'read_only', 'access_key_id', 'username', 'resource_names', 'body', 'prev_hash', 'hash'];
      for (const [index, values] of stored.entries()) {
        assert.deepEqual(logicalAuditRow(names, Object.fromEntries(columns.map((column, at) => [column, values[at]]))), rows[index]);
      }
    } finally {
      db.close();
    }
  });

  it('keeps one id per name past the bound of its in-memory names (every secret read is a name of its own)', () => {
    const db = new Database(':memory:');
    try {
      migrateAuditLog(db);
      const names = new AuditNames(db);
      const texts = Array.from({ length: AUDIT_NAME_CACHE_LIMIT + 100 }, (_, index) => JSON.stringify([`app/db-${index}`]));
      db.exec('BEGIN');
      const ids = texts.map((text) => names.idOf(text));
      // Asked again after the map started over: the same ids, no second row for a name.
      assert.deepEqual(texts.map((text) => names.idOf(text)), ids);
      db.exec('COMMIT');
      assert.equal(db.prepare('SELECT count(*) FROM audit_names').pluck().get(), texts.length);
      const reader = new AuditNames(db);
      assert.deepEqual(ids.map((id) => reader.nameOf(id)), texts);
      assert.deepEqual([...ids].reverse().map((id) => reader.nameOf(id)), [...texts].reverse());
    } finally {
      db.close();
    }
  });

  it('keeps a log of the old (text) encoding readable: it verifies, answers every lookup, and the chain goes on from it', async () => {
    const dir = tempDir();
    // audit.db as the previous Coffer left it: migrations 1 and 2, rows in text.
    const old = new Database(join(dir, 'audit.db'));
    applyMigrations(old, auditMigrations.slice(0, 2), 'audit_migrations');
    const insert = old.prepare('INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    let prevHash = GENESIS_HASH;
    const oldDrafts = Array.from({ length: 30 }, (_, index) => getSecretValueDraft(index));
    oldDrafts.forEach((draft, index) => {
      const hash = chainHash(prevHash, draft.body);
      insert.run(index + 1, draft.eventId, draft.accountId, draft.eventTime.getTime(), draft.eventName, draft.eventSource, 1, draft.accessKeyId,
        draft.username, JSON.stringify(draft.resourceNames), draft.body, prevHash, hash);
      prevHash = hash;
    });
    old.close();
    const store = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      const list = (after: number, limit: number) => Promise.resolve(store.listAuditEvents(after, limit));
      assert.deepEqual(await verifyChain(list, 7), { intact: true, events: 30, head: { sequence: 30, hash: prevHash, eventTime: oldDrafts[29]!.eventTime } });
      const target = oldDrafts[4]!;
      const lookup = async (key: 'EventId' | 'EventName' | 'EventSource' | 'ReadOnly' | 'Username' | 'AccessKeyId' | 'ResourceName', value: string) =>
        (await store.lookupAuditEvents({ accountId: ACCOUNT, attribute: { key, value }, limit: 50 })).map((event) => event.sequence);
      assert.deepEqual((await lookup('EventId', target.eventId)), [5]);
      assert.equal((await lookup('EventName', 'GetSecretValue')).length, 30);
      assert.equal((await lookup('EventSource', 'secretsmanager.amazonaws.com')).length, 30);
      assert.equal((await lookup('ReadOnly', 'true')).length, 30);
      assert.equal((await lookup('Username', 'app-1')).length, 10);
      assert.equal((await lookup('AccessKeyId', target.accessKeyId)).length, 10);
      assert.deepEqual((await lookup('ResourceName', target.resourceNames[0]!)), [25, 5]);
      const window = await store.lookupAuditEvents({ accountId: ACCOUNT, startTime: oldDrafts[2]!.eventTime, endTime: oldDrafts[3]!.eventTime, limit: 50 });
      assert.deepEqual(window.map((event) => event.sequence), [4, 3]);

      // New events in the compact encoding follow the old ones in one chain, and lookups find both.
      const added = await store.appendAuditEvents(Array.from({ length: 10 }, (_, index) => getSecretValueDraft(index + 30)));
      assert.equal(added[0]!.prevHash, prevHash);
      assert.deepEqual((await verifyChain(list, 7)).intact, true);
      assert.deepEqual((await lookup('ResourceName', target.resourceNames[0]!)), [25, 5]);
      assert.deepEqual((await lookup('Username', 'app-1')).slice(0, 4), [38, 35, 32, 29]);
      assert.deepEqual((await lookup('EventId', added[3]!.eventId)), [34]);
      assert.equal((await lookup('EventName', 'GetSecretValue')).length, 40);
      const db = new Database(join(dir, 'audit.db'), { readonly: true });
      const types = db.prepare('SELECT typeof(hash) AS type, count(*) AS n FROM audit_events GROUP BY 1 ORDER BY 1').all();
      db.close();
      assert.deepEqual(types, [{ type: 'blob', n: 10 }, { type: 'text', n: 30 }]);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes under 300 bytes of audit.db per GetSecretValue event, indexes, pages and templates included (issue 21; 1,495 before the compact encoding, 1,103 with bodies as text)', async () => {
    const dir = tempDir();
    const store = new SqliteStore(join(dir, 'coffer.db'));
    const events = 5000;
    try {
      store.migrate();
      for (let start = 0; start < events; start += 50) {
        await store.appendAuditEvents(Array.from({ length: 50 }, (_, index) => getSecretValueDraft(start + index)));
      }
    } finally {
      store.close();
    }
    try {
      // Closed: the WAL is checkpointed into audit.db and removed.
      const db = new Database(join(dir, 'audit.db'), { readonly: true });
      // Pages in use: those the compression emptied are on the freelist, for the next appends to reuse.
      const inUse = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
      const bytes = inUse * (db.pragma('page_size', { simple: true }) as number);
      db.close();
      const perEvent = bytes / events;
      process.stdout.write(`# audit.db: ${perEvent.toFixed(0)} bytes per GetSecretValue event (${events} events)\n`);
      assert.ok(perEvent < 300, `${perEvent.toFixed(0)} bytes per event`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
