import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import { Keyring } from '../../../src/crypto/index.js';
import { killChildServers, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { adminOf, clients, readBack, readKeyFile, runCofferWithInput, sealedRecordsOpening, waitFor, writeSample } from './rootkey-helpers.js';

/**
 * A crash mid-rekey (kill -9 of the server) at each stage: before the server saw the rekey, after it adopted the
 * new key (its key file already rewritten), and in the middle of re-wrapping (half the records under each key:
 * the state a crash mid-pass leaves, made here exactly). A restart with EITHER key finishes the job: every record
 * opens under the new key, none under the old one, and everything written before reads back.
 * ROOTKEY_CRASH_ROUNDS adds that many rounds killed at a random moment (`npm run reliability:rootkey`).
 */
type Stage = 'before-adoption' | 'after-adoption' | 'mid-pass' | { randomMs: number };
const randomRounds = Number(process.env.ROOTKEY_CRASH_ROUNDS ?? 0);

describe('a crash in the middle of a rekey (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-rekey-crash-'));
  after(async () => {
    await killChildServers();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: { stage: Stage; restartWith: 'old' | 'new' }[] = [
    { stage: 'before-adoption', restartWith: 'old' },
    { stage: 'after-adoption', restartWith: 'new' },
    { stage: 'mid-pass', restartWith: 'old' },
    { stage: 'mid-pass', restartWith: 'new' },
    ...Array.from({ length: randomRounds }, (_, round) => ({ stage: { randomMs: Math.floor(Math.random() * 6000) }, restartWith: round % 2 === 0 ? ('old' as const) : ('new' as const) })),
  ];
  for (const [index, { stage, restartWith }] of cases.entries()) {
    const name = typeof stage === 'string' ? stage : `killed ${stage.randomMs} ms after the rekey started`;
    it(`${name}, restarted with the ${restartWith} key: the restart finishes the rekey`, async () => {
      await crashRound(join(dir, `round-${index}`), stage, restartWith);
    });
  }
});

async function crashRound(dataDir: string, stage: Stage, restartWith: 'old' | 'new'): Promise<void> {
  const server = await startChildServer({ dataDir });
  const admin = adminOf(dataDir);
  const { kms } = clients(server.url, admin);
  const keyIds = [];
  for (let index = 0; index < 6; index++) keyIds.push((await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
  const written = await writeSample(server.url, admin, keyIds[0]!, 3, 'crash');
  const oldKey = readKeyFile(dataDir);

  const rekey = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--wait', '0'], '');
  assert.match(rekey.stdout, /Rekey recorded/, rekey.stderr);
  if (stage === 'before-adoption') await kill(server);
  else if (typeof stage === 'object') {
    await new Promise((resolve) => setTimeout(resolve, stage.randomMs));
    await kill(server);
  } else {
    await waitFor(() => /new root key adopted/.test(server.stderr()), 10_000);
    await kill(server);
    if (stage === 'mid-pass') resealHalf(dataDir, oldKey, readKeyFile(dataDir));
  }
  const newKeyNow = readKeyFile(dataDir);
  // The key file holds the new key once the server adopted it; "old" puts the old one back, as an operator
  // restoring yesterday's key file would. (A server killed before it saw the rekey leaves the old key in it.)
  if (restartWith === 'old') writeFileSync(join(dataDir, 'root.key'), oldKey.toString('base64') + '\n', { mode: 0o600 });
  const restarted = await startChildServer({ dataDir });
  await waitFor(() => /rekey finished|old root key is zeroed/.test(restarted.stderr()), 20_000);
  const newKey = readKeyFile(dataDir);
  assert.notDeepEqual(newKey, oldKey, 'the restart kept the new key in the key file');
  if (restartWith === 'new' && !newKeyNow.equals(oldKey)) assert.deepEqual(newKey, newKeyNow);
  const underNew = sealedRecordsOpening(dataDir, newKey);
  assert.equal(underNew.opening, underNew.total, 'every record opens under the new key');
  assert.equal(sealedRecordsOpening(dataDir, oldKey).opening, 0, 'no record opens under the old key');
  await readBack(restarted.url, admin, written);
  await restarted.stop();
}

async function kill(server: ChildServer): Promise<void> {
  await server.stop('SIGKILL');
}

/** Re-wraps half of the sealed records under the new key, directly in the database: a crash mid-pass, made exactly. */
function resealHalf(dataDir: string, oldKey: Buffer, newKey: Buffer): void {
  const db = new Database(join(dataDir, 'coffer.db'));
  const keyring = new Keyring(oldKey);
  keyring.adoptRootKey(newKey);
  try {
    const backings = db.prepare('SELECT k.arn, b.key_id, b.backing_key_id, b.sealed_material FROM kms_backing_keys b JOIN kms_keys k ON k.key_id = b.key_id ORDER BY b.key_id').all() as Record<string, unknown>[];
    let changed = 0;
    for (const row of backings.slice(0, Math.ceil(backings.length / 2))) {
      const outcome = keyring.reseal(row.sealed_material as Buffer, `${row.arn as string}#${row.backing_key_id as string}`);
      if (outcome.state !== 'resealed') continue;
      db.prepare('UPDATE kms_backing_keys SET sealed_material = ? WHERE key_id = ? AND backing_key_id = ?').run(outcome.sealed, row.key_id, row.backing_key_id);
      changed += 1;
    }
    assert.ok(changed > 0 && changed < backings.length, 'the fixture leaves records under each key');
  } finally {
    keyring.close();
    db.close();
  }
}
