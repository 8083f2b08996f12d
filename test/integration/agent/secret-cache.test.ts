import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretCache, SecretCacheError, type SecretCacheOptions } from '../../../src/agent/index.js';
import { startCountingProxy, type CountingProxy } from '../../helpers/counting-proxy.js';
import { REGION, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** A clock the test moves by hand, so TTLs are tested without waiting. */
function manualClock(startMs = Date.parse('2026-12-01T00:00:00Z')) {
  let nowMs = startMs;
  return { now: () => nowMs, advanceSeconds: (seconds: number) => (nowMs += seconds * 1000) };
}

/** Waits for a condition made true by a background refresh (a few event-loop turns and one HTTP call). */
async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** SecretCache against a real server, through a proxy that counts the GetSecretValue calls reaching it. */
describe('SecretCache (the library behind coffer agent)', () => {
  let server: TestServer;
  let proxy: CountingProxy;
  let client: SecretsManagerClient;
  const caches: SecretCache[] = [];

  const newCache = (options: Omit<SecretCacheOptions, 'client' | 'clientConfig'> = {}) => {
    const cache = new SecretCache({ client, ...options });
    caches.push(cache);
    return cache;
  };
  const createSecret = async (label: string, value: string) => {
    const name = uniqueSecretName(label);
    await secretsClient(server).send(new CreateSecretCommand({ Name: name, SecretString: value }));
    return name;
  };
  const putValue = (name: string, value: string) => secretsClient(server).send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));

  before(async () => {
    server = await startTestServer();
    proxy = await startCountingProxy(server.url);
    client = new SecretsManagerClient({ endpoint: proxy.url, region: REGION, credentials: server.admin, maxAttempts: 1 });
  });
  after(async () => {
    for (const cache of caches) cache.close();
    client.destroy();
    await proxy.close();
    await server.cleanup();
  });

  it('serves from memory within the TTL and asks the server again once it has passed', async () => {
    const clock = manualClock();
    const cache = newCache({ ttlSeconds: 10, refreshBeforeExpirySeconds: 0, now: clock.now });
    const name = await createSecret('cache-ttl', 'one');
    assert.equal(await cache.getSecretString(name), 'one');
    await putValue(name, 'two');
    clock.advanceSeconds(9);
    assert.equal(await cache.getSecretString(name), 'one');
    assert.equal(proxy.getSecretValueCount(name), 1);
    clock.advanceSeconds(2);
    assert.equal(await cache.getSecretString(name), 'two');
    assert.equal(proxy.getSecretValueCount(name), 2);
  });

  it('peekFresh answers a fresh entry without a promise, and nothing for a missing or expired one', async () => {
    const clock = manualClock();
    const cache = newCache({ ttlSeconds: 10, refreshBeforeExpirySeconds: 0, now: clock.now });
    const name = await createSecret('cache-peek', 'peeked');
    assert.equal(cache.peekFresh(name), undefined);
    await cache.getSecretString(name);
    assert.equal(cache.peekFresh(name)?.SecretString, 'peeked');
    assert.equal(cache.peekFresh(name, { versionStage: 'AWSPREVIOUS' }), undefined);
    clock.advanceSeconds(10);
    assert.equal(cache.peekFresh(name), undefined);
    assert.equal(proxy.getSecretValueCount(name), 1);
  });

  it('defaults to a TTL of 300 seconds', async () => {
    const clock = manualClock();
    const cache = newCache({ now: clock.now, refreshBeforeExpirySeconds: 0 });
    const name = await createSecret('cache-default-ttl', 'a');
    await cache.getSecretString(name);
    clock.advanceSeconds(299);
    await cache.getSecretString(name);
    assert.equal(proxy.getSecretValueCount(name), 1);
    clock.advanceSeconds(2);
    await cache.getSecretString(name);
    assert.equal(proxy.getSecretValueCount(name), 2);
  });

  it('refreshes in the background before expiry: the reader gets the cached value at once, the next one the new value', async () => {
    const clock = manualClock();
    const cache = newCache({ ttlSeconds: 10, refreshBeforeExpirySeconds: 2, now: clock.now });
    const name = await createSecret('cache-ahead', 'old');
    await cache.getSecretString(name);
    await putValue(name, 'new');
    clock.advanceSeconds(8.5);
    assert.equal(await cache.getSecretString(name), 'old');
    await eventually(() => proxy.getSecretValueCount(name) === 2);
    // Reads while the refresh is on its way get the cached value and start no second call.
    let latest = await cache.getSecretString(name);
    for (const deadline = Date.now() + 5000; latest !== 'new' && Date.now() < deadline; latest = await cache.getSecretString(name)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(latest, 'new');
    assert.equal(proxy.getSecretValueCount(name), 2);
    // The refreshed entry is fresh again for a whole TTL from the refresh.
    clock.advanceSeconds(5);
    assert.equal(await cache.getSecretString(name), 'new');
    assert.equal(proxy.getSecretValueCount(name), 2);
  });

  it('de-duplicates: 100 concurrent reads of one secret make one GetSecretValue call', async () => {
    const cache = newCache();
    const name = await createSecret('cache-dedup', 'shared');
    const values = await Promise.all(Array.from({ length: 100 }, () => cache.getSecretString(name)));
    assert.ok(values.every((value) => value === 'shared'));
    assert.equal(proxy.getSecretValueCount(name), 1);
  });

  it('reads a JSON key; a missing key or a value that is not JSON is an error naming the secret, never the value', async () => {
    const cache = newCache();
    const name = await createSecret('cache-json', '{"username":"app","password":"hunter2-json","port":5432}');
    assert.equal(await cache.getJson(name, 'password'), 'hunter2-json');
    assert.equal(await cache.getJson(name, 'port'), 5432);
    assert.deepEqual(await cache.getJson(name), { username: 'app', password: 'hunter2-json', port: 5432 });
    await assert.rejects(cache.getJson(name, 'host'), (error: SecretCacheError) => {
      assert.ok(error instanceof SecretCacheError);
      assert.equal(error.code, 'JsonKeyNotFound');
      assert.match(error.message, new RegExp(`${name} has no JSON key host`));
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    const plain = await createSecret('cache-notjson', 'hunter2-plain');
    await assert.rejects(cache.getJson(plain, 'password'), (error: SecretCacheError) => {
      assert.equal(error.code, 'NotJson');
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    assert.equal(proxy.getSecretValueCount(name), 1);
  });

  it('reads a version by stage and by id, each cached on its own', async () => {
    const cache = newCache();
    const name = await createSecret('cache-versions', 'first');
    const firstVersion = (await cache.getSecretValue(name)).VersionId!;
    await putValue(name, 'second');
    assert.equal(await cache.getSecretString(name, { versionStage: 'AWSPREVIOUS' }), 'first');
    assert.equal(await cache.getSecretString(name, { versionId: firstVersion }), 'first');
    assert.equal(await cache.getSecretString(name), 'first', 'AWSCURRENT is still the cached answer');
    const current = await cache.refreshNow(name);
    assert.equal(current.SecretString, 'second');
    assert.deepEqual(current.VersionStages, ['AWSCURRENT']);
    assert.equal(await cache.getSecretString(name), 'second');
  });

  it('holds at most maxCacheSize entries, evicting the least recently read', async () => {
    const cache = newCache({ maxCacheSize: 2 });
    const [a, b, c] = await Promise.all([createSecret('cache-lru-a', 'a'), createSecret('cache-lru-b', 'b'), createSecret('cache-lru-c', 'c')]);
    await cache.getSecretString(a);
    await cache.getSecretString(b);
    await cache.getSecretString(a); // a is now the most recently read
    await cache.getSecretString(c); // evicts b
    assert.equal(cache.size, 2);
    await cache.getSecretString(a);
    assert.equal(proxy.getSecretValueCount(a), 1);
    await cache.getSecretString(b);
    assert.equal(proxy.getSecretValueCount(b), 2, 'b was evicted and read again');
  });

  it('serves the last good value while the server is unreachable, up to maxStaleSeconds, logging once', async () => {
    const clock = manualClock();
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const logger = { warn: (message: string, fields?: Record<string, unknown>) => warnings.push({ message, fields }), info() {} };
    const cache = newCache({ ttlSeconds: 10, refreshBeforeExpirySeconds: 0, maxStaleSeconds: 60, now: clock.now, logger });
    const name = await createSecret('cache-stale', 'last-good');
    await cache.getSecretString(name);
    proxy.setDown(true);
    try {
      clock.advanceSeconds(15);
      assert.equal(await cache.getSecretString(name), 'last-good');
      clock.advanceSeconds(5);
      assert.equal(await cache.getSecretString(name), 'last-good');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]!.fields?.secretId, name);
      assert.doesNotMatch(JSON.stringify(warnings), /last-good/);
      clock.advanceSeconds(60);
      await assert.rejects(cache.getSecretString(name), (error: Error & { code?: string }) => error.code === 'ECONNRESET' || /socket|ECONN/.test(error.message));
    } finally {
      proxy.setDown(false);
    }
    assert.equal(await cache.getSecretString(name), 'last-good');
  });

  it('with maxStaleSeconds 0, an unreachable server is an error as soon as the TTL has passed', async () => {
    const clock = manualClock();
    const cache = newCache({ ttlSeconds: 10, refreshBeforeExpirySeconds: 0, maxStaleSeconds: 0, now: clock.now });
    const name = await createSecret('cache-nostale', 'v');
    await cache.getSecretString(name);
    proxy.setDown(true);
    try {
      clock.advanceSeconds(11);
      await assert.rejects(cache.getSecretString(name));
    } finally {
      proxy.setDown(false);
    }
  });

  it('drops an entry whose secret is gone instead of serving it (an answer, not an outage)', async () => {
    const clock = manualClock();
    const cache = newCache({ ttlSeconds: 10, refreshBeforeExpirySeconds: 0, now: clock.now });
    const name = await createSecret('cache-deleted', 'v');
    await cache.getSecretString(name);
    await secretsClient(server).send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    clock.advanceSeconds(11);
    await assert.rejects(cache.getSecretString(name), { name: 'ResourceNotFoundException' });
    assert.equal(cache.size, 0);
  });

  it('a failed first read is not cached: the next read asks again', async () => {
    const cache = newCache();
    const name = uniqueSecretName('cache-later');
    await assert.rejects(cache.getSecretString(name), { name: 'ResourceNotFoundException' });
    await secretsClient(server).send(new CreateSecretCommand({ Name: name, SecretString: 'now-it-exists' }));
    assert.equal(await cache.getSecretString(name), 'now-it-exists');
  });

  it('works from a client configuration alone, and is exported as coffer/secret-cache', async () => {
    const exported = (await import('coffer/secret-cache' as string)) as typeof import('../../../src/agent/index.js');
    const cache = new exported.SecretCache({ clientConfig: { endpoint: proxy.url, region: REGION, credentials: server.admin, maxAttempts: 1 } });
    try {
      const name = await createSecret('cache-export', '{"password":"exported"}');
      assert.equal(await cache.getJson(name, 'password'), 'exported');
    } finally {
      cache.close();
    }
  });

  it('refuses nonsense options', () => {
    assert.throws(() => new SecretCache({ client, ttlSeconds: -1 }), RangeError);
    assert.throws(() => new SecretCache({ client, maxCacheSize: 0 }), RangeError);
  });
});
