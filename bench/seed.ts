/**
 * The corpus every workload reads: N secrets of a 1 KB SecretString each, named bench/secret-000000..., and
 * one symmetric KMS key. Every secret is a real sealed secret, created by a signed CreateSecret.
 *
 * Coffer is seeded in-process: the built server's openCoffer() and its request pipeline (SigV4 verify,
 * schema, KMS GenerateDataKey, seal, store), in a scratch data dir on tmpfs so that 100,000 synchronous
 * commits do not each wait for a disk flush; the finished data dir (database, root key) is then copied to
 * the disk the server runs from. Peers that can't be opened in-process (moto) are seeded over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { forEachConcurrently, sendOk, TARGET_PREFIX, type Call } from './aws-call.js';
import { openInProcess, type InProcessCoffer } from './coffer-build.js';
import type { Peer } from './peers.js';
import type { Signer } from './signer.js';

export const SECRET_VALUE_BYTES = 1024;

export function secretName(index: number): string {
  return `bench/secret-${String(index).padStart(6, '0')}`;
}

/** 1,024 printable characters, different for every call. */
export function secretValue(): string {
  return randomBytes((SECRET_VALUE_BYTES / 4) * 3).toString('base64');
}

export type Seeded = { keyId: string; seconds: number };

const createKey: Call = { service: 'kms', operation: 'CreateKey', payload: { Description: 'coffer bench key' } };
const createSecret = (index: number): Call => ({
  service: 'secretsmanager',
  operation: 'CreateSecret',
  payload: { Name: secretName(index), SecretString: secretValue(), Description: 'coffer bench secret' },
});

/** Creates `dataDir` holding `secrets` sealed secrets and one KMS key, built in `scratchDir` first. */
export async function seedCoffer(dataDir: string, scratchDir: string, secrets: number, signer: Signer): Promise<Seeded> {
  const started = performance.now();
  rmSync(scratchDir, { recursive: true, force: true });
  const keyId = await seedInProcess(await openInProcess(scratchDir), secrets, signer);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  cpSync(scratchDir, dataDir, { recursive: true });
  rmSync(scratchDir, { recursive: true, force: true });
  if (!existsSync(join(dataDir, 'coffer.db'))) throw new Error(`seeding left no database in ${dataDir}`);
  return { keyId, seconds: (performance.now() - started) / 1000 };
}

/**
 * Seeds the PostgreSQL database at `url` with the same corpus, through an in-process node of it (root key
 * `rootKeyBase64`, the one every node of the run is then started with; `dataDir` is that node's own dir).
 */
export async function seedPostgres(url: string, rootKeyBase64: string, dataDir: string, secrets: number, signer: Signer): Promise<Seeded> {
  const started = performance.now();
  const keyId = await seedInProcess(await openInProcess(dataDir, { postgres: { url }, rootKeyBase64 }), secrets, signer);
  return { keyId, seconds: (performance.now() - started) / 1000 };
}

/** One KMS key and `secrets` secrets through `coffer`'s pipeline, 16 at a time; closes it; returns the key id. */
async function seedInProcess(coffer: InProcessCoffer, secrets: number, signer: Signer): Promise<string> {
  const invoke = async (request: Call) => {
    const response = await coffer.call(signer.sign('seed.local', request.service, `${TARGET_PREFIX[request.service]}.${request.operation}`, JSON.stringify(request.payload)));
    if (response.status !== 200) throw new Error(`seeding ${request.operation} answered ${response.status}: ${response.body.slice(0, 300)}`);
    return JSON.parse(response.body);
  };
  try {
    const keyId: string = (await invoke(createKey)).KeyMetadata.KeyId;
    await forEachConcurrently(secrets, 16, async (index) => {
      await invoke(createSecret(index));
    });
    return keyId;
  } finally {
    await coffer.close();
  }
}

/** Seeds a running peer through its API, `concurrency` calls at a time. */
export async function seedOverApi(peer: Peer, signer: Signer, secrets: number, concurrency: number): Promise<Seeded> {
  const started = performance.now();
  const keyId = (await sendOk(peer.url, peer.host, signer, createKey)).KeyMetadata.KeyId as string;
  await forEachConcurrently(secrets, concurrency, async (index) => {
    await sendOk(peer.url, peer.host, signer, createSecret(index));
  });
  return { keyId, seconds: (performance.now() - started) / 1000 };
}
