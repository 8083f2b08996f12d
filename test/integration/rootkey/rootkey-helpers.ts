import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Database from 'better-sqlite3';
import { Keyring } from '../../../src/crypto/index.js';
import { childEnv, COFFER_BIN, REPO_ROOT } from '../../helpers/child-server.js';
import type { AccessKey } from '../../helpers/signed-fetch.js';

export type Outcome = { code: number | null; stdout: string; stderr: string };

/** Runs `coffer ARGS` with `input` on its stdin (shares, passphrases), in a clean environment plus `env`. */
export function runCofferWithInput(args: string[], input: string, env: Record<string, string> = {}): Promise<Outcome> {
  const child = spawn(process.execPath, [COFFER_BIN, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export function adminOf(dataDir: string): AccessKey {
  const text = readFileSync(join(dataDir, 'admin-credentials'), 'utf8');
  return { accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(text)![1]!, secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(text)![1]! };
}

export function clients(url: string, credentials: AccessKey) {
  const options = { endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 };
  return { kms: new KMSClient(options), secrets: new SecretsManagerClient(options) };
}

/** Data written before a rekey: ciphertexts and secrets whose values the test checks afterwards. */
export type Written = { keyId: string; ciphertexts: { blob: Uint8Array; plaintext: string }[]; secrets: { name: string; value: string }[] };

export async function writeSample(url: string, credentials: AccessKey, keyId: string, count: number, tag: string): Promise<Written> {
  const { kms, secrets } = clients(url, credentials);
  const written: Written = { keyId, ciphertexts: [], secrets: [] };
  for (let index = 0; index < count; index++) {
    const plaintext = `rootkey test data ${tag} ${index}`;
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext) }));
    written.ciphertexts.push({ blob: CiphertextBlob!, plaintext });
    const name = `rootkey/${tag}/${index}`;
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: `value ${tag} ${index}` }));
    written.secrets.push({ name, value: `value ${tag} ${index}` });
  }
  return written;
}

/** Every ciphertext decrypts and every secret reads back: throws naming the first that does not. */
export async function readBack(url: string, credentials: AccessKey, written: Written): Promise<void> {
  const { kms, secrets } = clients(url, credentials);
  for (const { blob, plaintext } of written.ciphertexts) {
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
    if (Buffer.from(Plaintext!).toString() !== plaintext) throw new Error(`ciphertext of "${plaintext}" decrypted to something else`);
  }
  for (const { name, value } of written.secrets) {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
    if (SecretString !== value) throw new Error(`secret ${name} read back as something else`);
  }
}

/**
 * The records of a SQLite data dir sealed under the root key, tried with `key`: how many open under it and how
 * many in all (owners as kms/key-material.ts and auth/credentials.ts bind them).
 */
export function sealedRecordsOpening(dataDir: string, key: Buffer): { opening: number; total: number } {
  const db = new Database(join(dataDir, 'coffer.db'), { readonly: true });
  const keyring = new Keyring(key);
  try {
    const backings = db.prepare('SELECT k.arn, b.backing_key_id, b.sealed_material FROM kms_backing_keys b JOIN kms_keys k ON k.key_id = b.key_id').all() as Record<string, unknown>[];
    const accessKeys = db.prepare('SELECT access_key_id, sealed_secret FROM access_keys').all() as Record<string, unknown>[];
    let opening = 0;
    for (const row of backings) if (keyring.openUncached(row.sealed_material as Buffer, `${row.arn as string}#${row.backing_key_id as string}`)) opening += 1;
    for (const row of accessKeys) if (keyring.openUncached(row.sealed_secret as Buffer, `access-key:${row.access_key_id as string}`)) opening += 1;
    return { opening, total: backings.length + accessKeys.length };
  } finally {
    keyring.close();
    db.close();
  }
}

export function readKeyFile(dataDir: string): Buffer {
  return Buffer.from(readFileSync(join(dataDir, 'root.key'), 'utf8').trim(), 'base64');
}

/** Polls `condition` until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
