import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { createLogger } from '../../../src/core/index.js';
import { RootKeyError } from '../../../src/crypto/index.js';
import { openAuditLog, startServer } from '../../../src/server/index.js';
import { startPostgresNodes, type PostgresNodes } from '../../helpers/postgres-nodes.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { startTestServer } from '../../helpers/start-server.js';

/**
 * Several Coffer nodes on one PostgreSQL database behave as one service (issue: "Several nodes, one service").
 * The nodes run in this process, each with its own pool, read cache and data dir.
 */
describe('nodes on one PostgreSQL database', () => {
  let cluster: PostgresNodes;
  before(async () => {
    cluster = await startPostgresNodes(3);
  });
  after(async () => cluster.dispose());

  it('any node answers: a secret made through one is read, changed and described through the others', async () => {
    const [a, b, c] = cluster.nodes.map((node) => cluster.secrets(node));
    const created = await a!.send(new CreateSecretCommand({ Name: 'shared/one', SecretString: 'first' }));
    assert.equal((await b!.send(new GetSecretValueCommand({ SecretId: 'shared/one' }))).SecretString, 'first');
    await c!.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'second' }));
    assert.equal((await c!.send(new GetSecretValueCommand({ SecretId: 'shared/one' }))).SecretString, 'second');
    const described = await a!.send(new DescribeSecretCommand({ SecretId: 'shared/one' }));
    assert.equal(Object.keys(described.VersionIdsToStages ?? {}).length, 2);
  });

  it('a KMS key made through one node encrypts there and decrypts through another', async () => {
    const key = await cluster.nodes[0]!.kms({ credentials: cluster.admin }).send(new CreateKeyCommand({}));
    const encrypted = await cluster.nodes[1]!.kms({ credentials: cluster.admin }).send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId, Plaintext: Buffer.from('across nodes') }));
    const decrypted = await cluster.nodes[2]!.kms({ credentials: cluster.admin }).send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
    assert.equal(Buffer.from(decrypted.Plaintext!).toString(), 'across nodes');
  });

  it('a write is read back at once through the node that made it, and within one second through every other (read caches included)', async () => {
    const [a, b] = cluster.nodes.map((node) => cluster.secrets(node));
    await a!.send(new CreateSecretCommand({ Name: 'shared/fresh', SecretString: 'v1' }));
    // b reads it, so that b's cache holds v1.
    assert.equal((await b!.send(new GetSecretValueCommand({ SecretId: 'shared/fresh' }))).SecretString, 'v1');
    assert.equal((await b!.send(new GetSecretValueCommand({ SecretId: 'shared/fresh' }))).SecretString, 'v1');
    for (let round = 2; round <= 4; round++) {
      await a!.send(new PutSecretValueCommand({ SecretId: 'shared/fresh', SecretString: `v${round}` }));
      assert.equal((await a!.send(new GetSecretValueCommand({ SecretId: 'shared/fresh' }))).SecretString, `v${round}`, 'read-your-writes on the writing node');
      await sleep(1_000);
      assert.equal((await b!.send(new GetSecretValueCommand({ SecretId: 'shared/fresh' }))).SecretString, `v${round}`, 'seen through another node within 1 s');
    }
  });

  it('concurrent version writes on different nodes: every version is kept and exactly one is AWSCURRENT', async () => {
    const clients = cluster.nodes.map((node) => cluster.secrets(node));
    await clients[0]!.send(new CreateSecretCommand({ Name: 'shared/contended', SecretString: 'start' }));
    const writes = Array.from({ length: 30 }, (_, index) =>
      clients[index % clients.length]!.send(new PutSecretValueCommand({ SecretId: 'shared/contended', SecretString: `value-${index}` })),
    );
    const results = await Promise.all(writes);
    const listed = await clients[1]!.send(new ListSecretVersionIdsCommand({ SecretId: 'shared/contended', IncludeDeprecated: true }));
    const versions = listed.Versions ?? [];
    assert.equal(versions.length, 31);
    for (const result of results) assert.ok(versions.some((version) => version.VersionId === result.VersionId), `version ${result.VersionId} kept`);
    assert.equal(versions.filter((version) => version.VersionStages?.includes('AWSCURRENT')).length, 1);
    assert.ok(versions.filter((version) => version.VersionStages?.includes('AWSPREVIOUS')).length <= 1);
    const current = versions.find((version) => version.VersionStages?.includes('AWSCURRENT'))!;
    const read = await clients[2]!.send(new GetSecretValueCommand({ SecretId: 'shared/contended' }));
    assert.equal(read.VersionId, current.VersionId);
  });

  it('one audit chain for the deployment: every node appends to it, and it verifies', async () => {
    const reads = 9;
    await cluster.secrets(cluster.nodes[0]!).send(new CreateSecretCommand({ Name: 'shared/audited', SecretString: 'x' }));
    await Promise.all(Array.from({ length: reads }, (_, index) => cluster.secrets(cluster.nodes[index % 3]!).send(new GetSecretValueCommand({ SecretId: 'shared/audited' }))));
    const log = await openAuditLog(cluster.nodes[0]!.dataDir, cluster.url);
    try {
      const verified = await log.verify();
      assert.equal(verified.intact, true);
      const events = (await log.list({ eventName: 'GetSecretValue', limit: 1000 })).map((event) => JSON.parse(event.body));
      const audited = events.filter((event) => event.requestParameters?.SecretId === 'shared/audited');
      assert.equal(audited.length, reads);
    } finally {
      await log.close();
    }
  });

  it('a node started with another root key refuses to start and changes nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coffer-wrong-key-'));
    try {
      await assert.rejects(
        startServer({ dataDir, host: '127.0.0.1', port: 0, rootKeyBase64: randomBytes(32).toString('base64'), postgres: { url: cluster.url, poolSize: 2 } }),
        (error: unknown) => error instanceof RootKeyError && /does not match/.test(error.message),
      );
      assert.equal(existsSync(join(dataDir, 'admin-credentials')), false);
      // The deployment still answers with its own key.
      assert.equal((await cluster.secrets(cluster.nodes[2]!).send(new GetSecretValueCommand({ SecretId: 'shared/one' }))).SecretString, 'second');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('starting nodes on PostgreSQL', () => {
  it('nodes starting together on an empty database: one administrator key, in one data dir', async () => {
    const database = await createTestDatabase();
    const rootKeyBase64 = randomBytes(32).toString('base64');
    const started = await Promise.all(Array.from({ length: 3 }, () => startTestServer({ devMode: false, rootKeyBase64, postgres: { url: database.url, poolSize: 2 } })));
    try {
      const creators = started.filter((node) => node.server.coffer.createdAdmin !== undefined);
      assert.equal(creators.length, 1);
      assert.deepEqual(
        started.map((node) => existsSync(join(node.dataDir, 'admin-credentials'))),
        started.map((node) => node === creators[0]),
      );
      const admin = creators[0]!.server.coffer.createdAdmin!;
      for (const node of started) {
        await node.kms({ credentials: admin }).send(new CreateKeyCommand({ Description: 'works on every node' }));
      }
    } finally {
      await Promise.all(started.map((node) => node.cleanup()));
      await database.drop();
    }
  });

  it('an unreachable database at start-up: a log line per retry with backoff, then a clear failure', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coffer-unreachable-'));
    const lines: string[] = [];
    const started = Date.now();
    try {
      await assert.rejects(
        startServer({
          dataDir,
          host: '127.0.0.1',
          port: 0,
          logger: createLogger({ level: 'warn', write: (line) => lines.push(line) }),
          // Port 1 on loopback: nothing listens there, the connection is refused.
          postgres: { url: 'postgres://postgres@127.0.0.1:1/nowhere', poolSize: 1, startupWaitMs: 1_500 },
        }),
        (error: unknown) => (error as { code?: string }).code === 'ServiceUnavailable',
      );
      const retries = lines.filter((line) => line.includes('database unreachable, retrying'));
      assert.ok(retries.length >= 2, `expected several retries, got ${lines.join('\n')}`);
      assert.ok(retries.every((line) => line.includes('127.0.0.1:1/nowhere') && !line.includes('password')));
      assert.ok(Date.now() - started >= 1_500, 'it waited for the database as long as it was told');
      assert.equal(existsSync(join(dataDir, 'root.key')), false, 'nothing was created for a database never reached');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a PostgreSQL node when the database misbehaves mid-flight', () => {
  let cluster: PostgresNodes;
  let admin: postgres.Sql;
  before(async () => {
    cluster = await startPostgresNodes(1, { statementTimeoutMs: 700, readCacheMaxAgeMs: 0 });
    admin = postgres(cluster.url, { max: 1, onnotice: () => undefined });
  });
  after(async () => {
    await admin.end();
    await cluster.dispose();
  });

  it('connections cut by the server (a restart): calls fail at once with a retryable 503 or succeed, and the node reconnects by itself', async () => {
    const client = cluster.secrets(cluster.nodes[0]!);
    await client.send(new CreateSecretCommand({ Name: 'cut/one', SecretString: 'before' }));
    const terminated = await admin`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'coffer' AND datname = current_database()`;
    assert.ok(terminated[0]!.n >= 1, 'the node had connections to cut');
    const outcomes: string[] = [];
    for (let call = 0; call < 6; call++) {
      const started = Date.now();
      try {
        const read = await client.send(new GetSecretValueCommand({ SecretId: 'cut/one' }));
        assert.equal(read.SecretString, 'before');
        outcomes.push('ok');
      } catch (error) {
        const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        assert.equal(failure.name, 'ServiceUnavailable', `a cut connection answers the retryable 503, not ${failure.name}`);
        assert.equal(failure.$metadata?.httpStatusCode, 503);
        assert.ok(Date.now() - started < 2_000, 'and at once');
        outcomes.push('503');
      }
    }
    assert.equal(outcomes.at(-1), 'ok', `the node reconnected: ${outcomes.join(', ')}`);
    await client.send(new PutSecretValueCommand({ SecretId: 'cut/one', SecretString: 'after' }));
    assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'cut/one' }))).SecretString, 'after');
  });

  it('a database that stops answering: the call fails with a 503 once --store-timeout has passed, never hangs, and changes nothing', async () => {
    const client = cluster.secrets(cluster.nodes[0]!);
    await client.send(new CreateSecretCommand({ Name: 'stuck/one', SecretString: 'kept' }));
    // Another session holds every secret row: the node's statements wait, as on a database that went silent.
    const locked = await admin.reserve();
    try {
      await locked`BEGIN`;
      await locked`LOCK TABLE secrets IN ACCESS EXCLUSIVE MODE`;
      const started = Date.now();
      await assert.rejects(client.send(new PutSecretValueCommand({ SecretId: 'stuck/one', SecretString: 'lost?' })), (error: unknown) => {
        assert.equal((error as { name?: string }).name, 'ServiceUnavailable');
        return true;
      });
      const waitedMs = Date.now() - started;
      assert.ok(waitedMs >= 600 && waitedMs < 5_000, `failed after the 700 ms timeout, not before nor much after (${waitedMs} ms)`);
      await locked`ROLLBACK`;
    } finally {
      locked.release();
    }
    const read = await client.send(new GetSecretValueCommand({ SecretId: 'stuck/one' }));
    assert.equal(read.SecretString, 'kept');
  });
});
