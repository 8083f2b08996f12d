import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import { Keyring } from '../../../src/crypto/index.js';
import { parseRekeyRecord, rekeyPair } from '../../../src/server/rekey-record.js';
import { killChildServers, startChildServer } from '../../helpers/child-server.js';
import { adminOf, clients, readBack, readKeyFile, runCofferWithInput, sealedRecordsOpening, waitFor, writeSample, type Written } from './rootkey-helpers.js';

/**
 * A crash mid-rekey (kill -9 of the server) at each stage: before the server saw the rekey, after it adopted the
 * new key (its key file already rewritten), and in the middle of re-wrapping (half the records under each key:
 * the state a crash mid-pass leaves, made here exactly), and at random moments (a round killed after the rekey
 * ended checks that the old key is refused and the new one serves). A restart with EITHER key finishes the job: every record
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
  if (stage === 'after-adoption') await waitFor(() => /new root key adopted/.test(server.stderr()), 10_000);
  if (typeof stage === 'object') await new Promise((resolve) => setTimeout(resolve, stage.randomMs));
  await server.stop('SIGKILL');

  const row = metaRow(dataDir, 'root_key_rekey');
  if (!row) return finishedBeforeTheKill(dataDir, oldKey, restartWith, written);
  const pair = rekeyPair(parseRekeyRecord(row), oldKey);
  assert.ok(pair, 'the rekey row opens under the old key');
  if (stage === 'mid-pass') mixRecords(dataDir, pair.oldKey, pair.newKey);
  // "old" is the old key file (as an operator restoring yesterday's file would give it), "new" the new key.
  writeFileSync(join(dataDir, 'root.key'), (restartWith === 'old' ? oldKey : pair.newKey).toString('base64') + '\n', { mode: 0o600 });
  const restarted = await startChildServer({ dataDir });
  await waitFor(() => metaRow(dataDir, 'root_key_rekey') === undefined, 30_000);
  assert.deepEqual(readKeyFile(dataDir), pair.newKey, 'the restart kept the new key in the key file');
  await assertOnlyNewKeyOpens(dataDir, oldKey, pair.newKey);
  await readBack(restarted.url, admin, written);
  await restarted.stop();
}

/** The kill came after the rekey ended (a random round): the old key is refused, the new one serves. */
async function finishedBeforeTheKill(dataDir: string, oldKey: Buffer, restartWith: 'old' | 'new', written: Written): Promise<void> {
  const newKey = readKeyFile(dataDir);
  assert.notDeepEqual(newKey, oldKey, 'a finished rekey left the new key in the key file');
  if (restartWith === 'old') {
    writeFileSync(join(dataDir, 'root.key'), oldKey.toString('base64') + '\n', { mode: 0o600 });
    const refused = await runCofferWithInput(['server', '--port', '0', '--data-dir', dataDir], '');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /coffer rekey/);
    writeFileSync(join(dataDir, 'root.key'), newKey.toString('base64') + '\n', { mode: 0o600 });
  }
  const restarted = await startChildServer({ dataDir });
  await assertOnlyNewKeyOpens(dataDir, oldKey, newKey);
  await readBack(restarted.url, adminOf(dataDir), written);
  await restarted.stop();
}

async function assertOnlyNewKeyOpens(dataDir: string, oldKey: Buffer, newKey: Buffer): Promise<void> {
  const underNew = sealedRecordsOpening(dataDir, newKey);
  assert.equal(underNew.opening, underNew.total, 'every record opens under the new key');
  assert.equal(sealedRecordsOpening(dataDir, oldKey).opening, 0, 'no record opens under the old key');
}

function metaRow(dataDir: string, name: string): Buffer | undefined {
  const db = new Database(join(dataDir, 'coffer.db'), { readonly: true });
  try {
    return (db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: Buffer } | undefined)?.value;
  } finally {
    db.close();
  }
}

/**
 * The state a crash in the middle of a re-wrap pass leaves, made exactly whatever the server had done: the first
 * half of the backing keys sealed under the new key, the second half under the old one.
 */
function mixRecords(dataDir: string, oldKey: Buffer, newKey: Buffer): void {
  const db = new Database(join(dataDir, 'coffer.db'));
  const toNew = new Keyring(oldKey);
  toNew.adoptRootKey(newKey);
  const toOld = new Keyring(newKey);
  toOld.adoptRootKey(oldKey);
  try {
    const backings = db.prepare('SELECT k.arn, b.key_id, b.backing_key_id, b.sealed_material FROM kms_backing_keys b JOIN kms_keys k ON k.key_id = b.key_id ORDER BY b.key_id').all() as Record<string, unknown>[];
    const half = Math.ceil(backings.length / 2);
    for (const [index, row] of backings.entries()) {
      const outcome = (index < half ? toNew : toOld).reseal(row.sealed_material as Buffer, `${row.arn as string}#${row.backing_key_id as string}`);
      if (outcome.state === 'resealed') db.prepare('UPDATE kms_backing_keys SET sealed_material = ? WHERE key_id = ? AND backing_key_id = ?').run(outcome.sealed, row.key_id, row.backing_key_id);
    }
    assert.ok(half > 0 && half < backings.length);
  } finally {
    toNew.close();
    toOld.close();
    db.close();
  }
}
