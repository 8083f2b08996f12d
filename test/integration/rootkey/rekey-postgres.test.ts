import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DecryptCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { Keyring } from '../../../src/crypto/index.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { killChildServers, startChildServer } from '../../helpers/child-server.js';
import { adminOf, clients, readBack, readKeyFile, runCofferWithInput, writeSample } from './rootkey-helpers.js';

/** How many of the database's root-sealed records open under `key`, of how many. */
async function sealedRecordsOpening(url: string, key: Buffer): Promise<{ opening: number; total: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const keyring = new Keyring(key);
  try {
    const backings = (await client.query('SELECT k.arn, b.backing_key_id, b.sealed_material FROM kms_backing_keys b JOIN kms_keys k ON k.key_id = b.key_id')).rows;
    const accessKeys = (await client.query('SELECT access_key_id, sealed_secret FROM access_keys')).rows;
    let opening = 0;
    for (const row of backings) if (keyring.openUncached(row.sealed_material, `${row.arn}#${row.backing_key_id}`)) opening += 1;
    for (const row of accessKeys) if (keyring.openUncached(row.sealed_secret, `access-key:${row.access_key_id}`)) opening += 1;
    return { opening, total: backings.length + accessKeys.length };
  } finally {
    keyring.close();
    await client.end();
  }
}

describe('coffer rekey with several nodes on PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-rekey-pg-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let url: string;
  before(async () => {
    database = await createTestDatabase('rootkey_');
    url = database.url;
  });
  after(async () => {
    await killChildServers();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every running node learns the new key from the database and keeps serving; a node left with the old key is refused at start', async () => {
    const dirA = join(dir, 'node-a');
    const a = await startChildServer({ dataDir: dirA, args: ['--store', url] });
    const admin = adminOf(dirA);
    const oldKey = readKeyFile(dirA);
    for (const other of ['node-b', 'node-c']) {
      mkdirSync(join(dir, other), { mode: 0o700 });
      copyFileSync(join(dirA, 'root.key'), join(dir, other, 'root.key'));
    }
    const b = await startChildServer({ dataDir: join(dir, 'node-b'), args: ['--store', url] });
    const { KeyMetadata } = await clients(a.url, admin).kms.send(new CreateKeyCommand({}));
    const written = await writeSample(a.url, admin, KeyMetadata!.KeyId!, 3, 'pg');

    // Node B serves throughout, old data and new writes, while node A's data dir runs the rekey.
    const { kms, secrets } = clients(b.url, admin);
    let stop = false;
    const failures: string[] = [];
    const load = (async () => {
      for (let round = 0; !stop; round++) {
        try {
          await kms.send(new DecryptCommand({ CiphertextBlob: written.ciphertexts[round % written.ciphertexts.length]!.blob }));
          await secrets.send(new CreateSecretCommand({ Name: `rootkey/pg-during/${round}`, SecretString: `during ${round}` }));
        } catch (error) {
          failures.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        }
      }
    })();
    const rekey = await runCofferWithInput(['rekey', '--data-dir', dirA, '--store', url, '--wait', '60'], '');
    stop = true;
    await load;
    assert.equal(rekey.code, 0, rekey.stdout + rekey.stderr);
    assert.deepEqual(failures, []);

    const newKey = readKeyFile(dirA);
    assert.notDeepEqual(newKey, oldKey);
    assert.deepEqual(readKeyFile(join(dir, 'node-b')), newKey, 'node B wrote the new key to its own key file');
    const underNew = await sealedRecordsOpening(url, newKey);
    assert.equal(underNew.opening, underNew.total);
    assert.equal((await sealedRecordsOpening(url, oldKey)).opening, 0);
    await readBack(b.url, admin, written);
    await readBack(a.url, admin, written);

    const refused = await runCofferWithInput(['server', '--port', '0', '--data-dir', join(dir, 'node-c'), '--store', url], '');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /does not match the data.*coffer rekey/);

    await Promise.all([a.stop(), b.stop()]);
    const c = await startChildServer({ dataDir: join(dir, 'node-b'), args: ['--store', url] });
    await readBack(c.url, admin, written);
    await c.stop();
  });
});
