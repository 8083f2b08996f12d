/**
 * The request thread's share of one call's audit event, by part, two builds' modules in one process, alternated
 * rounds, medians of the time per call (one thread, no I/O: its wall time is its CPU; run it pinned, `taskset -c 0`):
 *   node bench/audit-event-parts.mjs BASE_DIST [CANDIDATE_DIST]   (CANDIDATE_DIST defaults to this checkout's dist)
 * Calls as the pipeline hands them over for GetSecretValue, KMS Decrypt and PutSecretValue. Parts: buildEvent
 * (ids, redaction, bounds, identity, resources), its canonical JSON, and the recorder's whole `record` up to the
 * store (cap check, index fields, group commit's promises) against a store that seals at once, so the figure is
 * the request thread's work alone, without the writer thread's hand-off.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

if (!process.argv[2]) throw new Error('usage: node bench/audit-event-parts.mjs BASE_DIST [CANDIDATE_DIST]');
const builds = { base: resolve(process.argv[2]), branch: resolve(process.argv[3] ?? fileURLToPath(new URL('../dist', import.meta.url))) };
const BATCH = 64;

const principal = { accountId: '111111111111', arn: 'arn:aws:iam::111111111111:user/bench', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' };
const userAgent = 'aws-sdk-js/3.936.0 ua/2.1 os/linux#6.1.0 lang/js md/nodejs#24.11.1 api/secrets-manager#3.936.0 m/E,N';
const secretArn = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hot-AbCdEf';
const keyArn = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function callsOf(core) {
  const base = (n, service, operation) => ({
    requestId: `7f1c2e3a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    time: new Date(),
    service, operation, principal, region: 'us-east-1', sourceIp: '127.0.0.1', userAgent,
    claimedAccessKeyId: principal.accessKeyId,
  });
  return {
    GetSecretValue: (n) => ({
      ...base(n, 'secretsmanager', 'GetSecretValue'),
      input: { SecretId: 'hot' },
      output: { ARN: secretArn, Name: 'hot', VersionId: '0b7b7f0e-6a3d-4d8e-9c55-3f1f2a8f5d11', SecretString: new core.Sensitive('x'.repeat(1024)), VersionStages: ['AWSCURRENT'], CreatedDate: new Date() },
    }),
    Decrypt: (n) => ({
      ...base(n, 'kms', 'Decrypt'),
      input: { CiphertextBlob: 'A'.repeat(1448) },
      output: { KeyId: keyArn, Plaintext: new core.Sensitive(Buffer.alloc(32)), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    }),
    PutSecretValue: (n) => ({
      ...base(n, 'secretsmanager', 'PutSecretValue'),
      input: { SecretId: 'put-17', SecretString: 'x'.repeat(1024), ClientRequestToken: '4d8e9c55-0b7b-7f0e-6a3d-3f1f2a8f5d11' },
      output: { ARN: secretArn, Name: 'put-17', VersionId: '4d8e9c55-0b7b-7f0e-6a3d-3f1f2a8f5d11', VersionStages: ['AWSCURRENT'] },
    }),
  };
}

/** A store that seals at once: what is left of `record` is the request thread's own work. */
function instantStore() {
  let sequence = 0;
  return {
    async appendAuditEvents(drafts) {
      return drafts.map((draft) => ({ ...draft, sequence: ++sequence, prevHash: '', hash: '' }));
    },
    async probeAuditAppend() {},
    async lookupAuditEvents() { return []; },
  };
}

const setups = {};
for (const [name, dir] of Object.entries(builds)) {
  const audit = await import(`file://${dir}/audit/index.js`);
  const core = await import(`file://${dir}/core/index.js`);
  const calls = callsOf(core);
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const recorder = audit.createAuditRecorder({ store: instantStore(), logger: quiet, failClosed: false });
  const parts = {};
  for (const [operation, make] of Object.entries(calls)) {
    const call = make(0);
    const event = audit.buildEvent(call);
    parts[`${operation}: buildEvent`] = { sync: () => audit.buildEvent(call) };
    parts[`${operation}: canonical JSON of the event`] = { sync: () => (audit.canonicalEventJson ?? audit.canonicalJson)(event) };
    // Made once, outside the timing: the figure is the recorder's alone.
    const batch = Array.from({ length: BATCH }, (_, i) => make(i));
    parts[`${operation}: record (all of it, store instant)`] = {
      async: async () => {
        const pending = [];
        for (let i = 0; i < BATCH; i++) pending.push(recorder.record(batch[i]));
        const records = await Promise.all(pending);
        if (records[0] === undefined) throw new Error('not recorded');
      },
    };
  }
  setups[name] = parts;
}

async function timeOnce(part) {
  if (part.sync) {
    const N = 2000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) part.sync();
    return Number(process.hrtime.bigint() - t) / N / 1000;
  }
  const ROUNDS = 30;
  const t = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) await part.async();
  return Number(process.hrtime.bigint() - t) / (ROUNDS * BATCH) / 1000;
}

const results = {};
const names = Object.keys(builds);
const partNames = Object.keys(setups.base);
for (const part of partNames) for (const name of names) { results[`${part}|${name}`] = []; for (let i = 0; i < 5; i++) await timeOnce(setups[name][part]); }
for (let round = 0; round < 21; round++) for (const part of partNames) for (const name of round % 2 ? [...names].reverse() : names) {
  results[`${part}|${name}`].push(await timeOnce(setups[name][part]));
}
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log('| part (request thread, µs per call) | base µs (median of 21) | this branch | ratio |');
console.log('|---|---:|---:|---:|');
for (const part of partNames) {
  const b = median(results[`${part}|base`]);
  const c = median(results[`${part}|branch`]);
  console.log(`| ${part} | ${b.toFixed(2)} | ${c.toFixed(2)} | ${(c / b).toFixed(2)} |`);
}
