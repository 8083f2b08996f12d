import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import postgres from 'postgres';
import { defaultAuditSpoolDir, parseSpool } from '../../../src/server/index.js';
import { coffer, POSTGRES_AUDIT_BODY_COLUMNS, POSTGRES_AUDIT_TEMPLATES, postgresAuditBody } from '../../helpers/audit.js';
import { childEnv } from '../../helpers/child-server.js';
import { createFailoverCluster, type FailoverCluster } from '../../helpers/postgres-failover-cluster.js';
import { uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Issue 20: with the default fail-open auditing on PostgreSQL, a call whose operation committed and whose audit
 * append then lost the database (the primary killed) is answered only once its event is durable — here in the
 * node's spool, since no server takes writes for longer than the retry — and the event enters the chain, once,
 * when the database is back (the standby promoted), with `coffer audit verify` passing.
 */
const RETRY_MS = 1_500;
const WAIT_LIMIT_MS = 30_000;

describe('fail-open auditing on PostgreSQL when the primary dies between a commit and its audit append', () => {
  let cluster: FailoverCluster | undefined;
  let node: TestServer | undefined;
  after(async () => {
    await node?.cleanup();
    await cluster?.destroy();
  });

  it('answers the call once its event is spooled, and appends the event to the chain after the failover, once', { timeout: 120_000 }, async () => {
    cluster = await createFailoverCluster();
    const database = `spool_${randomBytes(4).toString('hex')}`;
    await cluster.createDatabase(database);
    const rootKeyBase64 = randomBytes(32).toString('base64');
    node = await startTestServer({ devMode: false, rootKeyBase64, postgres: { url: cluster.connectionString(database), poolSize: 4 }, auditRetryMs: RETRY_MS });
    const admin = node.server.coffer.createdAdmin!;
    const sm = new SecretsManagerClient({ endpoint: node.url, region: 'us-east-1', credentials: admin, maxAttempts: 1, requestHandler: { requestTimeout: WAIT_LIMIT_MS } });
    try {
      await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('before'), SecretString: 'v0' }));

      // Audit appends wait behind this lock; the secret's own transaction does not touch audit_events and commits.
      const locker = postgres(cluster.connectionString(database, 'primary'), { max: 1, onnotice: () => undefined });
      let lockTaken!: () => void;
      const locked = new Promise<void>((resolve) => (lockTaken = resolve));
      const holding = locker
        .begin(async (sql) => {
          await sql`LOCK TABLE audit_events IN EXCLUSIVE MODE`;
          lockTaken();
          await new Promise(() => undefined); // until the primary dies under it
        })
        .catch(() => undefined);
      await locked;
      const name = uniqueSecretName('spooled');
      const answered = sm.send(new CreateSecretCommand({ Name: name, SecretString: 'committed-then-unaudited' }));
      await waitFor('the audit append waits for the lock', async () => (await cluster!.query('primary', "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [database])).length > 0);

      // The operation has committed (on the synchronous standby too); the append now loses its database.
      await cluster.killPrimary();
      const created = await answered;
      const requestId = created.$metadata.requestId!;
      // Answered only once durable: the event is in the node's spool (no server takes writes now).
      assert.deepEqual(spooledRequestIds(node.dataDir), [requestId]);
      await holding;
      await locker.end({ timeout: 1 });

      await cluster.promoteStandby();
      // The promoted standby is the primary now (query() names it 'standby' until a rebuild swaps the roles).
      const eventsOf = async () => {
        const templates = await cluster!.query('standby', POSTGRES_AUDIT_TEMPLATES, [], database);
        const rows = await cluster!.query('standby', `SELECT ${POSTGRES_AUDIT_BODY_COLUMNS} FROM audit_events`, [], database);
        return rows.map((row) => JSON.parse(postgresAuditBody(row as never, templates as never)) as { requestID: string; eventName: string }).filter((event) => event.requestID === requestId);
      };
      await waitFor('the spooled event is appended', async () => (await eventsOf()).length > 0);
      assert.equal((await eventsOf()).length, 1);
      assert.equal((await eventsOf())[0]!.eventName, 'CreateSecret');
      await waitFor('the spool is emptied', async () => spooledRequestIds(node!.dataDir).length === 0);
      // The secret the acknowledged call created is there, and the node serves (and audits) again.
      assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'committed-then-unaudited');
      assert.equal((await eventsOf()).length, 1);
    } finally {
      sm.destroy();
    }
    await node.stop();
    const verify = await coffer(['audit', 'verify', '--store', cluster.connectionString(database), '--data-dir', node.dataDir], childEnv({ COFFER_ROOT_KEY: rootKeyBase64 }));
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /chain intact/);
  });
});

function spooledRequestIds(dataDir: string): string[] {
  const dir = defaultAuditSpoolDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => parseSpool(readFileSync(join(dir, name), 'utf8')).drafts.map((draft) => (JSON.parse(draft.body) as { requestID: string }).requestID));
}

async function waitFor(what: string, condition: () => Promise<boolean>): Promise<void> {
  const limit = Date.now() + WAIT_LIMIT_MS;
  while (!(await condition())) {
    if (Date.now() > limit) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}
