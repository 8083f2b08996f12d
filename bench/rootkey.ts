/**
 * The cost of the root of trust (docs/reliability.md, "Root of trust"): opening a passphrase-protected key file (scrypt,
 * 64 MiB), and an online rekey of a data dir with many KMS keys, measured as the rekey's wall time, its re-wrap
 * time from the server's log, and Decrypt latency during it against Decrypt latency just before it (the peer).
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node bench/dist/rootkey.js [KEYS]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';

const BIN = fileURLToPath(new URL('../../bin/coffer', import.meta.url));
/** The built crypto module (dist/, as bin/coffer runs it): bench/ compiles on its own and imports no source. */
type ProtectedKey = unknown;
const { protectRootKey, unprotectRootKey } = (await import(new URL('../../dist/crypto/index.js', import.meta.url).href)) as {
  protectRootKey(key: Buffer, passphrase: string): ProtectedKey;
  unprotectRootKey(file: ProtectedKey, passphrase: string): Buffer;
};
const keys = Number(process.argv[2] ?? 1000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function scryptFigures(): void {
  const file = protectRootKey(randomBytes(32), 'bench passphrase');
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    unprotectRootKey(file, 'bench passphrase');
    times.push(performance.now() - start);
  }
  console.log(`scrypt N=2^16 r=8 p=1 (64 MiB): open a protected key file, median of 5: ${median(times).toFixed(0)} ms`);
}

async function decryptLoop(kms: KMSClient, blob: Uint8Array, until: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!until()) {
    const start = performance.now();
    await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
    latencies.push(performance.now() - start);
  }
  return latencies;
}

async function rekeyFigures(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-rootkey-'));
  const dataDir = join(dir, 'data');
  const server = spawn(process.execPath, [BIN, 'server', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  server.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  server.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    while (!/Coffer listening on (\S+)/.test(stdout) || !/Administrator credentials/.test(stdout)) await new Promise((resolve) => setTimeout(resolve, 100));
    const url = /Coffer listening on (\S+)/.exec(stdout)![1]!;
    const credentials = readFileSync(join(dataDir, 'admin-credentials'), 'utf8');
    const kms = new KMSClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(credentials)![1]!, secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(credentials)![1]! },
    });
    let keyId = '';
    for (let index = 0; index < keys; index++) keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('bench') }));
    const baselineEnd = performance.now() + 3000;
    const baseline = await decryptLoop(kms, CiphertextBlob!, () => performance.now() > baselineEnd);
    let rekeyDone = false;
    const rekeyStart = performance.now();
    const rekey = new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'rekey', '--data-dir', dataDir, '--wait', '600'], { stdio: 'ignore' });
      child.on('close', () => {
        rekeyDone = true;
        resolve(performance.now() - rekeyStart);
      });
    });
    const during = await decryptLoop(kms, CiphertextBlob!, () => rekeyDone);
    const wallMs = await rekey;
    const times = [...stderr.matchAll(/"time":"([^"]+)","level":"info","message":"rekey: new root key adopted|"time":"([^"]+)","level":"info","message":"rekey finished/g)];
    const adopted = Date.parse(times[0]?.[1] ?? '');
    const finished = Date.parse(times[1]?.[2] ?? '');
    const rewrapMs = finished - adopted - 3000;
    console.log(`rekey of ${keys} KMS keys (+ 1 access key), SQLite: coffer rekey wall ${(wallMs / 1000).toFixed(1)} s (3 s of it the grace period); re-wrap ${rewrapMs} ms after the grace period`);
    console.log(`Decrypt latency, sequential: before the rekey p50 ${median(baseline).toFixed(2)} ms p99 ${percentile(baseline, 0.99).toFixed(2)} ms (${baseline.length} calls); during it p50 ${median(during).toFixed(2)} ms p99 ${percentile(during, 0.99).toFixed(2)} ms (${during.length} calls); p50 ratio ${(median(during) / median(baseline)).toFixed(2)}`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('close', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

scryptFigures();
await rekeyFigures();

