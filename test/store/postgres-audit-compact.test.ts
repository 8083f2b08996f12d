import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { buildEvent, canonicalEventJson, indexFields, verifyChain } from '../../src/audit/index.js';
import { chainHash, GENESIS_HASH, type AuditEventDraft } from '../../src/store/index.js';
import { decodeAuditBody } from '../../src/store/audit-codec.js';
import { applyPostgresMigrations } from '../../src/store/postgres/migration-runner.js';
import { postgresMigrations } from '../../src/store/postgres/migrations.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { createTestDatabase } from '../helpers/postgres-store.js';

/**
 * Issue 21 on PostgreSQL: the compact encoding of audit_events (store/audit-codec.ts; the body compressed in a
 * BYTEA, the hashes in 32 bytes) and its migration, which converts the rows of the text encoding in place.
 */

const ACCOUNT = '111111111111';

function getSecretValueDraft(index: number): AuditEventDraft {
  const name = `app/db-${index % 4}`;
  const body = canonicalEventJson(
    buildEvent({
      requestId: randomUUID(),
      time: new Date(1_800_000_000_000 + index * 1000),
      service: 'secretsmanager',
      operation: 'GetSecretValue',
      principal: { arn: `arn:aws:iam::${ACCOUNT}:user/app-${index % 2}`, accountId: ACCOUNT, accessKeyId: `AKIAEXAMPLE${index % 2}ABCDEFG` } as never,
      region: 'us-east-1',
      sourceIp: '10.0.0.7',
      userAgent: 'aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#24.0.0 api/secrets-manager#3.700.0',
      input: { SecretId: name },
      output: {},
      resources: [{ ARN: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-Ab12Cd`, accountId: ACCOUNT }],
    }),
  );
  return { ...indexFields(JSON.parse(body) as Record<string, unknown>), body };
}

describe('the compact encoding of audit_events on PostgreSQL', () => {
  it('converts a log of the text encoding in its migration: it verifies, answers lookups, and new events chain on from it', async () => {
    const database = await createTestDatabase();
    const raw = postgres(database.url, { max: 1, onnotice: () => undefined });
    const store = new PostgresStore({ connectionString: database.url, poolSize: 2 });
    try {
      // The database as the previous Coffer left it: every migration but this one, events in text.
      await applyPostgresMigrations(raw, postgresMigrations.filter((migration) => migration.name !== 'audit-compact-rows'), 'test');
      let prevHash = GENESIS_HASH;
      const oldDrafts = Array.from({ length: 12 }, (_, index) => getSecretValueDraft(index));
      for (const [index, draft] of oldDrafts.entries()) {
        const hash = chainHash(prevHash, draft.body);
        await raw`INSERT INTO audit_events (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id, username,
          resource_names, body, prev_hash, hash) VALUES (${index + 1}, ${draft.eventId}, ${draft.accountId}, ${draft.eventTime.getTime()}, ${draft.eventName},
          ${draft.eventSource}, true, ${draft.accessKeyId}, ${draft.username}, ${draft.resourceNames}, ${draft.body}, ${prevHash}, ${hash})`;
        prevHash = hash;
      }

      await store.migrate();
      const list = (after: number, limit: number) => store.listAuditEvents(after, limit);
      const verified = await verifyChain(list, 5);
      assert.equal(verified.intact, true, JSON.stringify(verified));
      assert.equal(verified.events, 12);
      assert.deepEqual((await store.listAuditEvents(0, 12)).map((event) => event.body), oldDrafts.map((draft) => draft.body));
      const lookup = async (key: 'EventId' | 'Username' | 'ResourceName', value: string) =>
        (await store.lookupAuditEvents({ accountId: ACCOUNT, attribute: { key, value }, limit: 50 })).map((event) => event.sequence);
      assert.deepEqual(await lookup('EventId', oldDrafts[3]!.eventId), [4]);
      assert.deepEqual(await lookup('ResourceName', oldDrafts[1]!.resourceNames[0]!), [10, 6, 2]);

      const added = await store.appendAuditEvents([getSecretValueDraft(12), getSecretValueDraft(13)]);
      assert.equal(added[0]!.prevHash, prevHash);
      assert.equal((await verifyChain(list, 5)).intact, true);
      assert.deepEqual(await lookup('Username', 'app-1'), [14, 12, 10, 8, 6, 4, 2]);
      const stored = await raw<Array<{ sequence: number; body: Buffer; hash: Buffer }>>`SELECT sequence::int, body, hash FROM audit_events ORDER BY sequence`;
      const newest = stored[stored.length - 1]!;
      assert.equal(newest.hash.length, 32);
      // An append stores the canonical JSON's UTF-8 bytes (compressing on the request's node cost more CPU than the
      // rest of the append); a body imported by migrate or restore is compressed (transfer.ts); both decode.
      assert.equal(newest.body.toString('utf8'), added[1]!.body, 'a new body is stored as its UTF-8 text');
      assert.equal(decodeAuditBody(newest.body), added[1]!.body);
      assert.equal(stored[0]!.body.toString('utf8'), oldDrafts[0]!.body, 'an old body stays its UTF-8 text');

      // The second event of a shape this node has appended (draft 16 has draft 12's secret and principal) is stored
      // as its template's id and holes (codec 2): only its requestID's 16 bytes are its own.
      const [templated] = await store.appendAuditEvents([getSecretValueDraft(16)]);
      const [row] = await raw<Array<{ body: Buffer }>>`SELECT body FROM audit_events WHERE sequence = ${templated!.sequence}`;
      const templates = await raw<Array<{ id: number; template: string }>>`SELECT id::int, template FROM audit_templates`;
      assert.equal(templates.length, 1);
      assert.deepEqual([...row!.body.subarray(0, 2)], [2, templates[0]!.id]);
      assert.equal(row!.body.length, 2 + 16);
      const [listed] = await store.listAuditEvents(templated!.sequence - 1, 1);
      assert.deepEqual(listed, templated);
      assert.equal((await verifyChain(list, 5)).intact, true);
      // A node that has not cached the template (another node, or after a restart) reads it from the table.
      const other = new PostgresStore({ connectionString: database.url, poolSize: 1 });
      try {
        assert.deepEqual(await other.lookupAuditEvents({ accountId: ACCOUNT, attribute: { key: 'EventId', value: templated!.eventId }, limit: 1 }), [templated]);
      } finally {
        await other.close();
      }
    } finally {
      await store.close();
      await raw.end({ timeout: 1 });
      await database.drop();
    }
  });
});
