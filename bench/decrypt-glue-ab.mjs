/**
 * Same-process A/B of Coffer's pipeline between builds, for the decrypt-glue session: each build's openCoffer() on a
 * data dir of its own, in ONE process pinned to one CPU (run it under `taskset -c 0`), the builds alternated batch
 * set by batch set, so the machine's noise falls on both alike. KMS Decrypt (one ciphertext per request in flight,
 * 1 KiB plaintexts, the load's encryption context) and GetSecretValue of one 1 KiB secret, 64 calls at a time as 64
 * connections batch them; the process's CPU (all threads: the audit writers too) per request, median of rounds.
 * `--metrics` (or `+metrics` after one build's DIST) opens each Coffer with metrics instruments on (the HTTP server's default; ab-in-process.ts and
 * skeleton-in-process.ts run without them).
 *   taskset -c 0 node bench/decrypt-glue-ab.mjs [--rounds N] [--batches N] [--metrics] [--thread] [--workloads kms-decrypt,get-hot] NAME=DIST ...
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { takeOption } from './script-options.mjs';

const args = process.argv.slice(2);
const rounds = Number(takeOption(args, '--rounds', 30));
const batches = Number(takeOption(args, '--batches', 20));
const workloads = takeOption(args, '--workloads', 'kms-decrypt,get-hot').split(',');
// --thread: the request thread's CPU alone (process.threadCpuUsage), without the audit writer threads' (the same
// work in every build, and the noisiest part on a shared machine).
const threadAt = args.indexOf('--thread');
const usage = threadAt >= 0 ? () => process.threadCpuUsage() : () => process.cpuUsage();
if (threadAt >= 0) args.splice(threadAt, 1);
const metricsAt = args.indexOf('--metrics');
const withMetrics = metricsAt >= 0;
if (withMetrics) args.splice(metricsAt, 1);
if (args.length === 0) throw new Error('usage: taskset -c 0 node bench/decrypt-glue-ab.mjs [--rounds N] [--batches N] [--metrics] NAME=DIST ...');
const { Signer } = await import('./dist/signer.js');
const { DEV_KEY } = await import('./dist/peers.js');
const { TARGET_PREFIX } = await import('./dist/aws-call.js');
const quiet = { debug() {}, info() {}, warn() {}, error: (message) => process.stderr.write(`${message}\n`) };
const CONTEXT = { purpose: 'coffer-bench' };
const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

async function open(name, dist, metricsOn) {
  const server = await import(`file://${resolve(dist)}/server/index.js`);
  const dataDir = mkdtempSync(join(root, `decrypt-glue-ab-${name}-`));
  const instruments = metricsOn ? server.createCofferMetrics({ processMetrics: false }) : undefined;
  const coffer = await server.openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet, auditWriterAtOpen: true, instruments });
  const signer = new Signer(DEV_KEY);
  const sign = (service, operation, payload) => signer.sign('in-process.local', service, `${TARGET_PREFIX[service]}.${operation}`, JSON.stringify(payload));
  const send = async ({ headers, body }) => {
    const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body, sourceIp: '127.0.0.1' });
    if (response.status !== 200) throw new Error(`${name} answered ${response.status}: ${response.body.slice(0, 300)}`);
    return response.body;
  };
  const { KeyMetadata } = JSON.parse(await send(sign('kms', 'CreateKey', { Description: 'bench' })));
  const plaintext = Buffer.alloc(1024, 7).toString('base64');
  const decrypts = [];
  for (let i = 0; i < 64; i++) {
    const { CiphertextBlob } = JSON.parse(await send(sign('kms', 'Encrypt', { KeyId: KeyMetadata.KeyId, Plaintext: plaintext, EncryptionContext: CONTEXT })));
    decrypts.push(sign('kms', 'Decrypt', { CiphertextBlob, EncryptionContext: CONTEXT }));
  }
  await send(sign('secretsmanager', 'CreateSecret', { Name: 'hot', SecretString: 'x'.repeat(1024) }));
  const gets = Array.from({ length: 64 }, () => sign('secretsmanager', 'GetSecretValue', { SecretId: 'hot' }));
  const check = JSON.parse(await send(decrypts[0]));
  if (check.Plaintext !== plaintext) throw new Error(`${name}: wrong plaintext`);
  return { name, batchOf: { 'kms-decrypt': decrypts, 'get-hot': gets }, send, close: async () => { await coffer.close(); rmSync(dataDir, { recursive: true, force: true }); } };
}

const builds = [];
for (const arg of args) {
  // NAME=DIST, or NAME=DIST+metrics for this build alone with metrics on.
  const [name, spec] = arg.includes('=') ? arg.split('=') : [arg, arg];
  const [dist, extra] = spec.split('+');
  builds.push(await open(name, dist, withMetrics || extra === 'metrics'));
}
const results = new Map();
async function runOnce(build, workload, count) {
  const batch = build.batchOf[workload];
  const before = usage();
  for (let i = 0; i < count; i++) await Promise.all(batch.map(build.send));
  const after = usage();
  return (after.user - before.user + after.system - before.system) / (count * 64);
}
for (const build of builds) for (const workload of workloads) await runOnce(build, workload, batches * 3);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? builds : [...builds].reverse();
  for (const workload of workloads) {
    for (const build of order) {
      const key = `${workload}|${build.name}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push(await runOnce(build, workload, batches));
    }
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const base = builds[0].name;
console.log(`| workload | build | µs/req (median of ${rounds} rounds) | − ${base} (median of per-round differences) | quartiles |`);
console.log('|---|---|---:|---:|---|');
for (const workload of workloads) {
  for (const build of builds) {
    const values = results.get(`${workload}|${build.name}`);
    const baseValues = results.get(`${workload}|${base}`);
    const diffs = values.map((value, round) => value - baseValues[round]).sort((a, b) => a - b);
    const q = (f) => diffs[Math.floor(f * (diffs.length - 1))].toFixed(2);
    console.log(`| ${workload} | ${build.name} | ${median(values).toFixed(2)} | ${build.name === base ? '' : median(diffs).toFixed(2)} | ${build.name === base ? '' : `${q(0.25)} … ${q(0.75)}`} |`);
  }
}
for (const build of builds) await build.close();
