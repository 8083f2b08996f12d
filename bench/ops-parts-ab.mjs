/**
 * Same-run A/B of the operations' own parts of GetSecretValue and KMS Decrypt (issue 21, ops-cpu), two builds'
 * modules in one process, alternated rounds, CPU time (process.cpuUsage: a preempted core does not count), medians:
 * the canonical encryption context (the secret's two keys, and a one-key context), a blob's AAD, the Decrypt input
 * schema over a parsed JSON body, a CiphertextBlob's base64 decode and its header's ids (decodeBlob), and the AES-GCM open of a 1 KiB value.
 *   node bench/ops-parts-ab.mjs [--rounds N] BASE_DIST [CANDIDATE_DIST]   (CANDIDATE_DIST: this checkout's dist)
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at < 0 ? 21 : Number(args.splice(at, 2)[1]);
if (!args[0]) throw new Error('usage: node bench/ops-parts-ab.mjs [--rounds N] BASE_DIST [CANDIDATE_DIST]');
const builds = { base: resolve(args[0]), branch: resolve(args[1] ?? fileURLToPath(new URL('../dist', import.meta.url))) };
const secretContext = { SecretARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hot-AbCdEf', SecretVersionId: '6f1c2c53-8a3e-4a1e-9a7f-0c1d2e3f4a5b' };
const kmsContext = { purpose: 'coffer-bench' };
const blobs = Array.from({ length: 1000 }, () => randomBytes(1024 + 61).toString('base64'));
const bodies = blobs.map((blob) => Buffer.from(JSON.stringify({ CiphertextBlob: blob, EncryptionContext: kmsContext })));
const key = randomBytes(32);
// Blobs as one key's backing key makes them: one header (format, key id, backing key id), distinct IV, tag, bytes.
const blobHeader = Buffer.concat([Buffer.from([1]), randomBytes(32)]);
const decodedBlobs = blobs.map(() => Buffer.concat([blobHeader, randomBytes(12 + 16 + 1024)]));
const header = randomBytes(33);
const setups = {};
for (const [name, dir] of Object.entries(builds)) {
  const crypto = await import(`file://${dir}/crypto/index.js`);
  const shapes = await import(`file://${dir}/core/shapes.js`);
  const json = await import(`file://${dir}/protocol/json11.js`);
  const { schemas: kmsSchemas } = await import(`file://${dir}/kms/schemas.js`);
  const schema = kmsSchemas.Decrypt;
  const parsedBodies = bodies.map((body) => json.decodeJsonBody(body));
  const sealed = crypto.sealToBuffer(key, randomBytes(1024), crypto.canonicalEncryptionContext(secretContext));
  let next = 0;
  setups[name] = {
    'canonicalEncryptionContext, the secret\'s two keys': () => crypto.canonicalEncryptionContext(secretContext),
    'canonicalEncryptionContext, one key': () => crypto.canonicalEncryptionContext(kmsContext),
    'blobAad (header + one-key context)': () => crypto.blobAad(header, kmsContext),
    'decodeBase64 of a 1 KiB plaintext\'s CiphertextBlob': () => shapes.decodeBase64(blobs[next++ % 1000]),
    'decodeBlob of a CiphertextBlob (ids as UUID text)': () => crypto.decodeBlob(decodedBlobs[next++ % 1000]),
    'Decrypt input: JSON body → schema': () => {
      const parsed = schema.safeParse(json.decodeJsonBody(bodies[next++ % 1000]));
      if (!parsed.success) throw new Error('refused');
    },
    'Decrypt input schema alone (body already parsed)': () => {
      const parsed = schema.safeParse(parsedBodies[next++ % 1000]);
      if (!parsed.success) throw new Error('refused');
    },
    'AES-GCM open of a 1 KiB value (openFromBuffer, control)': () => crypto.openFromBuffer(key, sealed, crypto.canonicalEncryptionContext(secretContext)),
  };
}
const parts = Object.keys(setups.base);
const results = {};
for (const part of parts) for (const name of Object.keys(builds)) { results[`${part}|${name}`] = []; for (let i = 0; i < 20000; i++) setups[name][part](); }
const N = 4000;
for (let round = 0; round < rounds; round++) for (const part of parts) for (const name of round % 2 ? ['branch', 'base'] : ['base', 'branch']) {
  const f = setups[name][part];
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) f();
  const used = process.cpuUsage(before);
  results[`${part}|${name}`].push((used.user + used.system) / N);
}
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log(`| part | base µs (median of ${rounds}) | this branch | ratio | rounds below 1 |`);
console.log('|---|---:|---:|---:|---|');
for (const part of parts) {
  const b = results[`${part}|base`], c = results[`${part}|branch`];
  const below = c.filter((v, i) => v < b[i]).length;
  console.log(`| ${part} | ${median(b).toFixed(3)} | ${median(c).toFixed(3)} | ${(median(c) / median(b)).toFixed(3)} | ${below} of ${rounds} |`);
}
