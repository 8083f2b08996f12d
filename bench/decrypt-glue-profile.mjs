/**
 * A CPU profile of Coffer's in-process pipeline under KMS Decrypt (or GetSecretValue of one secret), 64 calls at a
 * time, as ab-in-process.ts hands them over, for the decrypt-glue session's table of µs per part:
 *   node --cpu-prof --cpu-prof-dir=DIR bench/decrypt-glue-profile.mjs [--dist DIR] [--workload kms-decrypt|get-hot] [--ms N]
 * then `node bench/decrypt-glue-profile.mjs --summarize FILE.cpuprofile --requests N` (N printed by the run).
 * Unbundled tsc output (dist/server/index.js), so every function keeps its file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { takeOption } from './script-options.mjs';

const args = process.argv.slice(2);
const summarize = takeOption(args, '--summarize', '');
if (summarize) {
  const { summarizeProfile, renderProfile } = await import('./dist/cpu-profile.js');
  console.log(renderProfile(summarizeProfile(summarize), { top: Number(takeOption(args, '--top', 60)), requests: Number(takeOption(args, '--requests', 0)) || undefined }));
  process.exit(0);
}
const dist = resolve(takeOption(args, '--dist', 'dist'));
const workload = takeOption(args, '--workload', 'kms-decrypt');
const ms = Number(takeOption(args, '--ms', 8000));
const { Signer } = await import('./dist/signer.js');
const { DEV_KEY } = await import('./dist/peers.js');
const { TARGET_PREFIX } = await import('./dist/aws-call.js');
const { openCoffer } = await import(`file://${dist}/server/index.js`);
const quiet = { debug() {}, info() {}, warn() {}, error: (message) => process.stderr.write(`${message}\n`) };
const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'decrypt-glue-profile-'));
const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
const signer = new Signer(DEV_KEY);
const sign = (service, operation, payload) => signer.sign('in-process.local', service, `${TARGET_PREFIX[service]}.${operation}`, JSON.stringify(payload));
const send = async ({ headers, body }) => {
  const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body, sourceIp: '127.0.0.1' });
  if (response.status !== 200) throw new Error(`answered ${response.status}: ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body);
};
const CONTEXT = { purpose: 'coffer-bench' };
let batch;
if (workload === 'kms-decrypt') {
  const { KeyMetadata } = await send(sign('kms', 'CreateKey', { Description: 'bench' }));
  const plaintext = Buffer.alloc(1024, 7).toString('base64');
  batch = [];
  for (let i = 0; i < 64; i++) {
    const { CiphertextBlob } = await send(sign('kms', 'Encrypt', { KeyId: KeyMetadata.KeyId, Plaintext: plaintext, EncryptionContext: CONTEXT }));
    batch.push(sign('kms', 'Decrypt', { CiphertextBlob, EncryptionContext: CONTEXT }));
  }
} else {
  await send(sign('secretsmanager', 'CreateSecret', { Name: 'hot', SecretString: 'x'.repeat(1024) }));
  batch = Array.from({ length: 64 }, () => sign('secretsmanager', 'GetSecretValue', { SecretId: 'hot' }));
}
let requests = 0;
const end = performance.now() + ms;
while (performance.now() < end) {
  await Promise.all(batch.map(send));
  requests += 64;
}
console.log(`requests ${requests}`);
await coffer.close();
rmSync(dataDir, { recursive: true, force: true });
