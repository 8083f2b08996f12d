import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { killChildServers, runCofferUntilExit, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { scrapeParsed, sampleValue } from '../../helpers/metrics.js';

const MIB = 1024 * 1024;
/** 250 secrets of 8 KB: ≈ 2.2 MB of sealed values and records, more than a 1 MiB cache and less than the default 8. */
const SECRETS = 250;
const VALUE = 'v'.repeat(8 * 1024);

function secretsManager(server: ChildServer): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** Creates the secrets, reads each twice, and answers what the read cache holds then (GET /metrics). */
async function fillReadCache(server: ChildServer): Promise<{ bytes: number; entries: number; hits: number }> {
  const sm = secretsManager(server);
  const names = Array.from({ length: SECRETS }, (_, index) => `cache-size/secret-${index}`);
  for (const name of names) await sm.send(new CreateSecretCommand({ Name: name, SecretString: VALUE }));
  for (let pass = 0; pass < 2; pass++) {
    for (const name of names) assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, VALUE);
  }
  sm.destroy();
  const families = await scrapeParsed(new URL('/metrics', server.url).toString());
  return {
    bytes: sampleValue(families, 'coffer_store_read_cache_bytes'),
    entries: sampleValue(families, 'coffer_store_read_cache_entries'),
    hits: sampleValue(families, 'coffer_store_read_cache_requests_total', { result: 'hit' }),
  };
}

/**
 * `coffer server --read-cache-size MiB` bounds the store's read cache (8 MiB by default on the embedded store): a
 * deployment whose evenly read working set does not fit the default gives it more room, a small machine less.
 */
describe('coffer server --read-cache-size (child process)', () => {
  const tempRoot = mkdtempSync(join(tmpdir(), 'coffer-read-cache-size-'));
  after(async () => {
    await killChildServers();
    rmSync(tempRoot, { recursive: true, force: true });
  });

  it('holds the read cache to the size given, where the default keeps the whole working set', async () => {
    const small = await startChildServer({ dataDir: join(tempRoot, 'small'), args: ['--dev', '--read-cache-size', '1'] });
    const bounded = await fillReadCache(small);
    await small.stop();
    const standard = await startChildServer({ dataDir: join(tempRoot, 'default'), args: ['--dev'] });
    const unbounded = await fillReadCache(standard);
    await standard.stop();

    assert.ok(bounded.bytes > 0 && bounded.bytes <= MIB, `1 MiB cache holds ${bounded.bytes} bytes`);
    assert.ok(unbounded.bytes > MIB && unbounded.bytes <= 8 * MIB, `default cache holds ${unbounded.bytes} bytes`);
    assert.ok(bounded.entries < unbounded.entries, `${bounded.entries} entries at 1 MiB, ${unbounded.entries} by default`);
    // The second pass hits the default cache for every secret (its record and its current version at least).
    assert.ok(unbounded.hits >= SECRETS, `default cache hits: ${unbounded.hits}`);
    assert.ok(bounded.hits < unbounded.hits, `hits at 1 MiB ${bounded.hits}, by default ${unbounded.hits}`);
  });

  it('bounds the read cache of a node on PostgreSQL too', async () => {
    const database = await createTestDatabase();
    try {
      const node = await startChildServer({
        dataDir: join(tempRoot, 'postgres-node'),
        args: ['--dev', '--store', database.url, '--pool-size', '4', '--read-cache-size', '1'],
        env: { COFFER_ROOT_KEY: randomBytes(32).toString('base64') },
        timeoutMs: 30_000,
      });
      const bounded = await fillReadCache(node);
      await node.stop();
      assert.ok(bounded.bytes > 0 && bounded.bytes <= MIB, `1 MiB cache on PostgreSQL holds ${bounded.bytes} bytes`);
    } finally {
      await database.drop();
    }
  });

  it('refuses a size that is not a whole number of MiB from 1 to 512, before it starts', async () => {
    for (const size of ['0', '513', '1.5', 'lots']) {
      const exit = await runCofferUntilExit({ dataDir: join(tempRoot, `refused-${size}`), args: ['--dev', '--read-cache-size', size] });
      assert.equal(exit.code, 2, `--read-cache-size ${size}: ${exit.stderr}`);
      assert.match(exit.stderr, /--read-cache-size must be/);
    }
  });
});
