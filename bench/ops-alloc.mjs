/**
 * Where a GetSecretValue's or a KMS Decrypt's allocation goes on the request thread, in process: signed requests
 * handed to a build's pipeline (SigV4, schema, operation, audit, JSON; no HTTP), 64 in flight, V8's sampling heap
 * profiler (collected objects kept), bytes per call by allocating function (self) and the total.
 *   node bench/ops-alloc.mjs [--workload decrypt|get] [--calls N] [--top N] [--no-inline] DIST
 * Use `node --no-turbo-inlining` so inlined callees are named.
 */
import { Session } from 'node:inspector/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { takeOption } from './script-options.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => takeOption(args, name, fallback);
const workload = option('--workload', 'decrypt');
const calls = Number(option('--calls', 19200));
const top = Number(option('--top', 40));
const inFlight = 64;
const { Signer } = await import(new URL('./dist/signer.js', import.meta.url).href);
const { DEV_KEY } = await import(new URL('./dist/peers.js', import.meta.url).href);
const CONTEXT = { purpose: 'coffer-bench' };
const quiet = { debug() {}, info() {}, warn() {}, error: (message) => process.stderr.write(`${message}\n`) };
const signer = new Signer(DEV_KEY);
const dist = resolve(args[0]);
const { openCoffer } = await import(`file://${dist}/server/index.js`);
const dataDir = mkdtempSync(join(tmpdir(), 'ops-alloc-'));
const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
const call = async (service, operation, payload) => {
  const target = service === 'kms' ? `TrentService.${operation}` : `secretsmanager.${operation}`;
  const { headers, body } = signer.sign('alloc.local', service, target, JSON.stringify(payload));
  const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body: Buffer.from(body), sourceIp: '127.0.0.1' });
  if (response.status !== 200) throw new Error(`${operation} answered ${response.status}: ${response.body.slice(0, 200)}`);
  return response;
};
const requests = [];
if (workload === 'decrypt') {
  const keyId = JSON.parse((await call('kms', 'CreateKey', { Description: 'bench' })).body).KeyMetadata.KeyId;
  const plaintext = randomBytes(1024).toString('base64');
  for (let i = 0; i < 200; i++) {
    const { CiphertextBlob } = JSON.parse((await call('kms', 'Encrypt', { KeyId: keyId, Plaintext: plaintext, EncryptionContext: CONTEXT })).body);
    requests.push(['kms', 'Decrypt', { CiphertextBlob, EncryptionContext: CONTEXT }]);
  }
} else {
  await call('secretsmanager', 'CreateSecret', { Name: 'alloc-hot', SecretString: randomBytes(700).toString('base64') });
  requests.push(['secretsmanager', 'GetSecretValue', { SecretId: 'alloc-hot' }]);
}
let next = 0;
const run = async (n) => {
  let started = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (started < n) {
      started += 1;
      const [service, operation, payload] = requests[next++ % requests.length];
      await call(service, operation, payload);
    }
  }));
};
await run(12800);
// The signing and the bench's own request building are the client's: measured alone, then taken off.
const signOnly = async (n) => { for (let i = 0; i < n; i++) { const [s, o, p] = requests[i % requests.length]; signer.sign('alloc.local', s, s === 'kms' ? `TrentService.${o}` : `secretsmanager.${o}`, JSON.stringify(p)); } };
const session = new Session();
session.connect();
const profileOf = async (body) => {
  await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await body();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const bySite = new Map();
  let total = 0;
  const walk = (node, stack) => {
    const frame = node.callFrame;
    const name = `${frame.functionName || '(anon)'} ${frame.url.replace(/^.*\/dist\//, '').replace(/^file:\/\/.*node_modules\//, 'nm/')}:${frame.lineNumber + 1}`;
    const self = node.selfSize;
    if (self) { bySite.set(name, (bySite.get(name) ?? 0) + self); total += self; }
    for (const child of node.children) walk(child, stack);
  };
  walk(profile.head, []);
  return { bySite, total };
};
const signing = await profileOf(() => signOnly(calls));
const measured = await profileOf(() => run(calls));
console.log(`${workload}: ${(measured.total / calls / 1024).toFixed(2)} KB per call sampled (signing alone ${(signing.total / calls / 1024).toFixed(2)} KB per call, included in it)`);
const rows = [...measured.bySite].sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [site, bytes] of rows) console.log(`${(bytes / calls).toFixed(0).padStart(6)} B  ${site}`);
await coffer.close();
rmSync(dataDir, { recursive: true, force: true });
