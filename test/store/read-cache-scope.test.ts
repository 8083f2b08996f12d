import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ReadCacheStats, SecretRecord, SecretVersionRecord, Store } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { TimedReadCache } from '../../src/store/postgres/read-cache.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { createTestDatabase } from '../helpers/postgres-store.js';
import { newSecret, newVersion } from './sample-records.js';

/**
 * A write of one secret empties only that secret's read-cache entries (store/read-cache-scope.ts): the other
 * secrets' stay cached, and the written secret's reads see the write at once on the writing node and, on
 * PostgreSQL, within the max age on another node (whose entries otherwise live 5 s here: only hearing the write
 * can make it see the write in time). Every other write still empties everything.
 */

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}';

type CachingStore = Store & { readCacheStats(): ReadCacheStats };

const moveCurrentTo = (versionId: string) => () => ({ moves: [{ stage: 'AWSCURRENT', versionId }], deleteVersions: [] });

/** The three reads GetSecretValue makes of a secret, through the cache. */
async function readAll(store: CachingStore, secret: SecretRecord) {
  const byName = await store.getSecretByName(ACCOUNT, REGION, secret.name);
  const byArn = await store.getSecretByArn(secret.arn);
  const current = byName && (await store.getSecretVersionByStage(byName.arn, 'AWSCURRENT'));
  return { byName, byArn, current };
}

/** Hits and misses of `reads` on `store`. */
async function counted(store: CachingStore, reads: () => Promise<unknown>): Promise<{ hits: number; misses: number }> {
  const before = store.readCacheStats();
  await reads();
  const after = store.readCacheStats();
  return { hits: after.hits - before.hits, misses: after.misses - before.misses };
}

/** One kind of write of secret A, and what A's reads show once it is seen. */
type WriteKind = {
  kind: string;
  write(store: CachingStore, a: SecretRecord): Promise<void>;
  seen(read: Awaited<ReturnType<typeof readAll>>): boolean;
};

function writeKinds(versions: { first: SecretVersionRecord | Omit<SecretVersionRecord, 'stages'>; second: Omit<SecretVersionRecord, 'stages'> }): WriteKind[] {
  return [
    {
      kind: 'PutSecretValue (a new AWSCURRENT)',
      write: async (store, a) => void (await store.putSecretVersion(versions.second, moveCurrentTo(versions.second.versionId), new Date())),
      seen: ({ current }) => current?.versionId === versions.second.versionId,
    },
    {
      kind: 'UpdateSecretVersionStage (AWSCURRENT moved back)',
      write: (store, a) => store.updateSecretLabels(a.arn, moveCurrentTo(versions.first.versionId), new Date()),
      seen: ({ current }) => current?.versionId === versions.first.versionId,
    },
    {
      kind: 'PutResourcePolicy',
      write: async (store, a) => void (await store.setSecretResourcePolicy(a.arn, POLICY)),
      seen: ({ byName, byArn }) => byName?.resourcePolicy === POLICY && byArn?.resourcePolicy === POLICY,
    },
    {
      kind: 'DeleteResourcePolicy',
      write: async (store, a) => void (await store.setSecretResourcePolicy(a.arn, undefined)),
      seen: ({ byName, byArn }) => byName !== undefined && byName.resourcePolicy === undefined && byArn?.resourcePolicy === undefined,
    },
    {
      kind: 'UpdateSecret (description)',
      write: async (store, a) => void (await store.rewrapSecretVersions(a.arn, [], { description: 'changed' })),
      seen: ({ byName, byArn }) => byName?.description === 'changed' && byArn?.description === 'changed',
    },
    {
      kind: 'TagResource',
      write: (store, a) => store.putSecretTags(a.arn, [{ TagKey: 'team', TagValue: 'payments' }]),
      seen: ({ byName }) => byName !== undefined,
    },
    {
      kind: 'RotateSecret (rotation saved)',
      write: async (store, a) => void (await store.setSecretRotation(a.arn, { rotationEnabled: true, rotationLambdaArn: 'arn:aws:lambda:us-east-1:111111111111:function:r', rotationRules: { AutomaticallyAfterDays: 7 } })),
      seen: ({ byName, byArn }) => byName?.rotationEnabled === true && byArn?.rotationEnabled === true,
    },
    {
      kind: 'DeleteSecret (scheduled)',
      write: async (store, a) => void (await store.markSecretDeleted(a.arn, new Date(1_800_000_000_000), new Date(1_800_600_000_000))),
      seen: ({ byName, byArn }) => byName?.deletedDate?.getTime() === 1_800_000_000_000 && byArn?.deletedDate?.getTime() === 1_800_000_000_000,
    },
    {
      kind: 'RestoreSecret',
      write: async (store, a) => void (await store.restoreSecret(a.arn)),
      seen: ({ byName, byArn }) => byName !== undefined && byName.deletedDate === undefined && byArn?.deletedDate === undefined,
    },
    {
      kind: 'DeleteSecret (ForceDeleteWithoutRecovery)',
      write: async (store, a) => {
        await store.markSecretDeleted(a.arn, new Date(1_800_000_000_000), new Date(1_800_000_000_000));
        await store.destroySecret(a.arn);
      },
      seen: ({ byName, byArn, current }) => byName === undefined && byArn === undefined && current === undefined,
    },
  ];
}

/**
 * Runs every kind of write of A through `writer` and checks, after each, B's reads on every node stay hits and
 * A's reads show the write at once on the writer and within `withinMs` on the others.
 */
async function checkScopedWrites(writer: CachingStore, nodes: CachingStore[], withinMs: number) {
  const a = newSecret(ACCOUNT, `scope/a-${Math.random().toString(36).slice(2, 8)}`);
  const b = newSecret(ACCOUNT, `scope/b-${Math.random().toString(36).slice(2, 8)}`);
  const first = newVersion(a.arn);
  await writer.createSecret(a, [], first);
  await writer.createSecret(b, [], newVersion(b.arn));
  await sleep(300); // the creations heard everywhere before anything is cached
  for (const { kind, write, seen } of writeKinds({ first, second: newVersion(a.arn) })) {
    for (const node of nodes) {
      await readAll(node, a);
      await readAll(node, b);
    }
    await write(writer, a);
    assert.ok(seen(await readAll(writer, a)), `${kind}: seen at once through the writing node`);
    for (const node of nodes.filter((node) => node !== writer)) {
      const wroteAt = performance.now();
      let ok = false;
      while (!ok && performance.now() - wroteAt < withinMs) {
        ok = seen(await readAll(node, a));
        if (!ok) await sleep(20);
      }
      assert.ok(ok, `${kind}: seen through another node within ${withinMs} ms`);
    }
    for (const node of nodes) assert.deepEqual(await counted(node, () => readAll(node, b)), { hits: 3, misses: 0 }, `${kind}: the other secret stays cached`);
  }
  // A deleted name created again is another secret (another ARN): its name resolves to the new one at once.
  const again = { ...newSecret(ACCOUNT, a.name), description: 'again' };
  const againFirst = newVersion(again.arn);
  await writer.createSecret(again, [], againFirst);
  const read = await readAll(writer, again);
  assert.equal(read.byName?.arn, again.arn);
  assert.equal(read.current?.versionId, againFirst.versionId);
  for (const node of nodes.filter((node) => node !== writer)) {
    const wroteAt = performance.now();
    let arn: string | undefined;
    while (arn !== again.arn && performance.now() - wroteAt < withinMs) {
      arn = (await node.getSecretByName(ACCOUNT, REGION, a.name))?.arn;
      if (arn !== again.arn) await sleep(20);
    }
    assert.equal(arn, again.arn, 're-created name seen through another node');
  }
  return { a: again, b };
}

describe('TimedReadCache: scoped invalidation and reads in flight', () => {
  const limits = { maxEntries: 100, maxBytes: 1_000_000, maxAgeMs: 10_000 };
  const scoped = (value: { arn: string }) => value.arn;

  it("drops only the written secret's entries, whatever key they were kept under", async () => {
    const cache = new TimedReadCache(limits, () => 0);
    let reads = 0;
    const get = (key: string, arn: string) => cache.get(key, async () => (reads++, { arn }), undefined, scoped);
    await get('name-a', 'A');
    await get('arn-a', 'A');
    await get('arn-b', 'B');
    cache.invalidateScope({ secretArns: ['A'] });
    reads = 0;
    await get('arn-b', 'B');
    assert.equal(reads, 0);
    await get('name-a', 'A');
    await get('arn-a', 'A');
    assert.equal(reads, 2);
  });

  it("a read that overlapped a write of its secret is not kept; one of another secret's is", async () => {
    const cache = new TimedReadCache(limits, () => 0);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowA = cache.get('a', async () => (await gate, { arn: 'A', v: 'old' }), undefined, scoped);
    const slowB = cache.get('b', async () => (await gate, { arn: 'B', v: 'old' }), undefined, scoped);
    cache.invalidateScope({ secretArns: ['A'] });
    release();
    await Promise.all([slowA, slowB]);
    assert.deepEqual(await cache.get('a', async () => ({ arn: 'A', v: 'new' }), undefined, scoped), { arn: 'A', v: 'new' });
    assert.deepEqual(await cache.get('b', async () => ({ arn: 'B', v: 'new' }), undefined, scoped), { arn: 'B', v: 'old' });
  });

  it('a whole invalidation during a read keeps it out, whatever its secret', async () => {
    const cache = new TimedReadCache(limits, () => 0);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = cache.get('b', async () => (await gate, { arn: 'B', v: 'old' }), undefined, scoped);
    cache.invalidate();
    release();
    await slow;
    assert.deepEqual(await cache.get('b', async () => ({ arn: 'B', v: 'new' }), undefined, scoped), { arn: 'B', v: 'new' });
  });
});

describe('read cache scope: SQLite', () => {
  let dir: string;
  let store: SqliteStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-scope-'));
    store = new SqliteStore(join(dir, 'coffer.db'));
    store.migrate();
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("each kind of write of one secret leaves the other secret's entries cached and is read at once", async () => {
    await checkScopedWrites(store, [store], 0);
  });

  it('a write of no secret (meta, keys, IAM, …) still empties everything', async () => {
    const b = newSecret(ACCOUNT, 'scope/unscoped');
    await store.createSecret(b, [], newVersion(b.arn));
    await readAll(store, b);
    assert.deepEqual(await counted(store, () => readAll(store, b)), { hits: 3, misses: 0 });
    await store.putMetaIfAbsent('scope-test', Buffer.from('x'));
    assert.deepEqual(await counted(store, () => readAll(store, b)), { hits: 0, misses: 3 });
  });

  it('a put that rolls back leaves the other secret cached and the written one as it was', async () => {
    const a = newSecret(ACCOUNT, 'scope/rollback-a');
    const b = newSecret(ACCOUNT, 'scope/rollback-b');
    const first = newVersion(a.arn);
    await store.createSecret(a, [], first);
    await store.createSecret(b, [], newVersion(b.arn));
    await readAll(store, a);
    await readAll(store, b);
    const refused = newVersion(a.arn);
    const planner = () => {
      throw new Error('refused');
    };
    await assert.rejects(store.putSecretVersion(refused, planner, new Date()), /refused/);
    assert.deepEqual(await counted(store, () => readAll(store, b)), { hits: 3, misses: 0 });
    assert.equal((await readAll(store, a)).current?.versionId, first.versionId);
    assert.equal(await store.getSecretVersion(a.arn, refused.versionId), undefined);
  });
});

describe('read cache scope: PostgreSQL, two nodes', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let writer: PostgresStore;
  let reader: PostgresStore;
  before(async () => {
    database = await createTestDatabase();
    // Max ages far beyond the test's waits: only hearing a write can make a node see it in time.
    writer = new PostgresStore({ connectionString: database.url, readCacheMaxAgeMs: 5_000 });
    reader = new PostgresStore({ connectionString: database.url, readCacheMaxAgeMs: 5_000 });
    await writer.migrate();
    await reader.migrate();
    // The first read starts listening, and (re)connecting the listener empties the cache once.
    await writer.getSecretByArn('arn:aws:secretsmanager:us-east-1:111111111111:secret:none-000000');
    await reader.getSecretByArn('arn:aws:secretsmanager:us-east-1:111111111111:secret:none-000000');
    await sleep(300);
  });
  after(async () => {
    await writer.close();
    await reader.close();
    await database.drop();
  });

  it("each kind of write of one secret leaves the other secret's entries cached on both nodes, and is seen on the other within 1 s", async () => {
    await checkScopedWrites(writer, [writer, reader], 1_000);
  });

  it('a write of no secret still empties everything on both nodes', async () => {
    const b = newSecret(ACCOUNT, 'scope/pg-unscoped');
    await writer.createSecret(b, [], newVersion(b.arn));
    await sleep(300);
    for (const node of [writer, reader]) await readAll(node, b);
    await writer.putMetaIfAbsent('scope-test', Buffer.from('x'));
    await sleep(300);
    // One miss: the secret read by name brings its ARN entry and its AWSCURRENT version along (one SELECT).
    for (const node of [writer, reader]) assert.deepEqual(await counted(node, () => readAll(node, b)), { hits: 2, misses: 1 });
  });

  it('a put that rolls back leaves the other secret cached on both nodes', async () => {
    const a = newSecret(ACCOUNT, 'scope/pg-rollback-a');
    const b = newSecret(ACCOUNT, 'scope/pg-rollback-b');
    const first = newVersion(a.arn);
    await writer.createSecret(a, [], first);
    await writer.createSecret(b, [], newVersion(b.arn));
    await sleep(300);
    for (const node of [writer, reader]) {
      await readAll(node, a);
      await readAll(node, b);
    }
    const planner = () => {
      throw new Error('refused');
    };
    await assert.rejects(writer.putSecretVersion(newVersion(a.arn), planner, new Date()), /refused/);
    await sleep(300);
    for (const node of [writer, reader]) {
      assert.deepEqual(await counted(node, () => readAll(node, b)), { hits: 3, misses: 0 });
      assert.equal((await readAll(node, a)).current?.versionId, first.versionId);
    }
  });

  it('a notification naming secrets empties only theirs; one it cannot read, or of the old form, empties everything', async () => {
    const a = newSecret(ACCOUNT, 'scope/pg-notify-a');
    const b = newSecret(ACCOUNT, 'scope/pg-notify-b');
    await writer.createSecret(a, [], newVersion(a.arn));
    await writer.createSecret(b, [], newVersion(b.arn));
    await sleep(300);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const notify = async (payload: string) => {
      await client.query("SELECT pg_notify('coffer_read_cache', $1)", [payload]);
      await sleep(300);
    };
    try {
      const cases: Array<[payload: string, bEmptied: boolean]> = [
        [`write:another-node ${JSON.stringify({ secretArns: [a.arn] })}`, false],
        ['write:another-node {"secretArns":[', true],
        ['write:another-node {"secretArns":[]}', true],
        ['write:another-node {"something":"else"}', true],
        ['write:another-node', true],
      ];
      for (const [payload, bEmptied] of cases) {
        await readAll(reader, a);
        await readAll(reader, b);
        assert.equal((await counted(reader, () => readAll(reader, a))).misses, 0);
        await notify(payload);
        // A miss refills all three of a secret's entries (one SELECT): emptied reads one miss.
        assert.equal((await counted(reader, () => readAll(reader, a))).misses, 1, `${payload}: A emptied`);
        assert.equal((await counted(reader, () => readAll(reader, b))).misses, bEmptied ? 1 : 0, `${payload}: B`);
      }
    } finally {
      await client.end();
    }
  });
});
