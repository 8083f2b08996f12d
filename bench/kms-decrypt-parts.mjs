/**
 * KMS Decrypt's own part, in process, without HTTP, SigV4 or the audit event: the Decrypt operation function as
 * the pipeline calls it (input already parsed), its input schema, and the output's wire form (the Plaintext's
 * base64 and the JSON), each timed alone; with two builds, a same-run A/B in alternated rounds.
 *   node bench/kms-decrypt-parts.mjs [--rounds N] [--calls N] [--pool N] DIST [DIST2]
 * Every call draws its ciphertext from a pool of distinct ones (1 KiB plaintexts, the load's encryption context),
 * as the HTTP load does: one ciphertext repeated hides costs that depend on the content.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { takeOption } from './script-options.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => Number(takeOption(args, name, fallback));
const rounds = option('--rounds', 11);
// --only N: time only the N-th part (0: the operation), e.g. under --cpu-prof.
const only = option('--only', -1);
const calls = option('--calls', 4000);
const poolSize = option('--pool', 1000);
if (args.length === 0) throw new Error('usage: node bench/kms-decrypt-parts.mjs [--rounds N] [--calls N] [--pool N] DIST [DIST2]');
const CONTEXT = { purpose: 'coffer-bench' };
const quiet = { debug() {}, info() {}, warn() {}, error: (message) => process.stderr.write(`${message}\n`) };

async function setUp(dist, label) {
  const { openCoffer } = await import(`file://${resolve(dist)}/server/index.js`);
  const { encodeJsonBody, decodeJsonBody } = await import(`file://${resolve(dist)}/protocol/json11.js`);
  const dataDir = mkdtempSync(join(tmpdir(), 'kms-decrypt-parts-'));
  const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
  const ops = coffer.kms.table.operations;
  const ctx = () => ({
    requestId: randomUUID(),
    principal: { accountId: '000000000000', arn: 'arn:aws:iam::000000000000:root', accessKeyId: 'test' },
    region: 'us-east-1',
    clock: { now: () => new Date() },
    sourceIp: '127.0.0.1',
    access: { checks: 0 },
  });
  const keyId = (await ops.CreateKey.run(ctx(), { Description: 'bench' })).KeyMetadata.KeyId;
  const plaintext = randomBytes(1024);
  const bodies = [];
  for (let i = 0; i < poolSize; i++) {
    const encrypted = await ops.Encrypt.run(ctx(), { KeyId: keyId, Plaintext: { reveal: () => plaintext }, EncryptionContext: CONTEXT });
    // The request body as the client sends it: the blob in base64.
    bodies.push(Buffer.from(JSON.stringify({ CiphertextBlob: encrypted.CiphertextBlob.toString('base64'), EncryptionContext: CONTEXT })));
  }
  const parse = (body) => {
    const parsed = ops.Decrypt.schema.safeParse(decodeJsonBody(body));
    if (!parsed.success) throw new Error('schema refused the input');
    return parsed.data;
  };
  const parsedOnce = bodies.map(parse);
  // The API's Decrypt releases the blob its schema decoded when the call ends (kms/api-ciphertext.ts): each call
  // gets a copy of the parsed input whose blob it may release, as a request parsed afresh would be.
  const inputs = parsedOnce.map((input) => ({ get: () => ({ ...input, CiphertextBlob: Buffer.copyBytesFrom(input.CiphertextBlob) }) }));
  const expected = plaintext.toString('base64');
  const check = (output) => {
    const wire = JSON.parse(encodeJsonBody(output));
    if (wire.Plaintext !== expected) throw new Error(`${label}: wrong plaintext`);
  };
  check(await ops.Decrypt.run(ctx(), inputs[0].get()));
  let next = 0;
  const pick = () => (next = (next + 1) % poolSize);
  const outputs = await Promise.all(inputs.slice(0, 64).map((input) => ops.Decrypt.run(ctx(), input.get())));
  return {
    label,
    close: async () => {
      await coffer.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    parts: {
      // The operation function alone, 64 in flight as the pipeline hands them over at 64 connections.
      'Decrypt operation (parsed input → output)': async (n) => {
        for (let done = 0; done < n; done += 64) {
          const batch = [];
          for (let i = 0; i < 64; i++) batch.push(ops.Decrypt.run(ctx(), inputs[pick()].get()));
          await Promise.all(batch);
        }
      },
      'input: JSON body → schema (base64 decode of the blob)': async (n) => {
        for (let i = 0; i < n; i++) parse(bodies[pick()]);
      },
      'output: wire JSON (Plaintext base64)': async (n) => {
        for (let i = 0; i < n; i++) encodeJsonBody(outputs[i & 63]);
      },
    },
  };
}

const builds = [];
for (const [index, dist] of args.entries()) builds.push(await setUp(dist, args.length === 1 ? 'build' : index === 0 ? 'base' : 'candidate'));
const results = new Map();
if (only >= 0) for (const build of builds) build.parts = { [Object.keys(build.parts)[only]]: Object.values(build.parts)[only] };
for (const build of builds) for (const [part, run] of Object.entries(build.parts)) await run(calls * 3); // warm up
for (let round = 0; round < rounds; round++) {
  for (const build of builds) {
    for (const [part, run] of Object.entries(build.parts)) {
      const before = process.cpuUsage();
      await run(calls);
      const used = process.cpuUsage(before);
      const key = `${part}|${build.label}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push((used.user + used.system) / calls);
    }
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const labels = builds.map((build) => build.label);
const pair = labels.length > 1;
console.log(`| part (CPU µs per call, median of ${rounds}) | ${labels.join(' | ')} |${pair ? ' ratio | per-round ratios |' : ''}`);
console.log(`|---|${labels.map(() => '---:').join('|')}|${pair ? '---:|---|' : ''}`);
for (const part of Object.keys(builds[0].parts)) {
  const rows = labels.map((label) => results.get(`${part}|${label}`));
  const values = rows.map(median);
  const perRound = pair ? ` ${(values[1] / values[0]).toFixed(3)} | ${rows[0].map((base, round) => (rows[1][round] / base).toFixed(2)).join(', ')} |` : '';
  console.log(`| ${part} | ${values.map((v) => v.toFixed(2)).join(' | ')} |${perRound}`);
}
for (const build of builds) await build.close();
