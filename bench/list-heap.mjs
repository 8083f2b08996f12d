/**
 * What a build holds live over a large corpus, in process (no HTTP, no load generator: figures that do not depend
 * on the machine's load). Over a copy of a seeded data dir (bench/rss-probe.ts --seeded makes one), signed requests
 * handed to the build's pipeline, 64 in flight:
 *   1. `--reads N` GetSecretValue of random secrets (fills the read cache), then two full collections: the live heap
 *      and external memory the cache's records hold;
 *   2. `--calls N` calls of each filtered kind (ListSecrets by name filter in the default order, by last-accessed
 *      date, BatchGetSecretValue by filter), at offsets spread over the corpus, `--in-flight K` at a time: the most
 *      heap used seen (live and not yet collected: sampled after every answer, a full collection every `--gc-every`
 *      answers) and the thread's CPU per call.
 *   node --expose-gc bench/list-heap.mjs --data DIR [--secrets 100000] [--reads 15000] [--calls 32] [--in-flight 8] DIST
 * Run it once per build (main's dist/ and this checkout's), alternately, with the same flags.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { takeOption } from './script-options.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => takeOption(args, name, fallback);
const seeded = option('--data', undefined);
const secrets = Number(option('--secrets', 100_000));
const reads = Number(option('--reads', 15_000));
const calls = Number(option('--calls', 32));
const inFlight = Number(option('--in-flight', 8));
const gcEvery = Number(option('--gc-every', 4));
if (!seeded || !args[0] || typeof globalThis.gc !== 'function') {
  throw new Error('usage: node --expose-gc bench/list-heap.mjs --data DIR [--secrets N] [--reads N] [--calls N] [--in-flight K] DIST');
}
const { Signer } = await import(new URL('./dist/signer.js', import.meta.url).href);
const { DEV_KEY } = await import(new URL('./dist/peers.js', import.meta.url).href);
const { secretName } = await import(new URL('./dist/seed.js', import.meta.url).href);
const quiet = { debug() {}, info() {}, warn() {}, error: (message) => process.stderr.write(`${message}\n`) };
const signer = new Signer(DEV_KEY);
const dist = resolve(args[0]);
const { openCoffer } = await import(`file://${dist}/server/index.js`);
const dataDir = join(mkdtempSync(join(tmpdir(), 'list-heap-')), 'data');
cpSync(seeded, dataDir, { recursive: true });
const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
const call = async (operation, payload) => {
  const { headers, body } = signer.sign('heap.local', 'secretsmanager', `secretsmanager.${operation}`, JSON.stringify(payload));
  const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body: Buffer.from(body), sourceIp: '127.0.0.1' });
  if (response.status !== 200) throw new Error(`${operation} answered ${response.status}: ${String(response.body).slice(0, 200)}`);
};
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const fullGc = () => (globalThis.gc(), globalThis.gc());

async function inParallel(count, width, one) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await one(next++);
  }));
}

let seed = 7;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
try {
  fullGc();
  const before = process.memoryUsage();
  await inParallel(reads, 64, () => call('GetSecretValue', { SecretId: secretName(Math.floor(random() * secrets)) }));
  fullGc();
  const cached = process.memoryUsage();
  process.stdout.write(`${dist}: after ${reads} random reads, live heap ${mb(cached.heapUsed)} MB (+${mb(cached.heapUsed - before.heapUsed)}), external ${mb(cached.external)} MB\n`);
  const offset = (index) => Buffer.from(JSON.stringify({ offset: Math.floor(((index + 1) * secrets) / (calls + 1)) })).toString('base64url');
  const kinds = {
    'ListSecrets name filter': (index) => call('ListSecrets', { Filters: [{ Key: 'name', Values: ['bench/'] }], MaxResults: 100, NextToken: offset(index) }),
    'ListSecrets by last-accessed': (index) => call('ListSecrets', { Filters: [{ Key: 'name', Values: ['bench/'] }], SortBy: 'last-accessed-date', MaxResults: 100, NextToken: offset(index) }),
    'BatchGetSecretValue filter': (index) => call('BatchGetSecretValue', { Filters: [{ Key: 'name', Values: ['bench/'] }], MaxResults: 20, NextToken: offset(index) }),
  };
  for (const [kind, one] of Object.entries(kinds)) {
    fullGc();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    let answered = 0;
    const cpu = process.cpuUsage();
    await inParallel(calls, inFlight, async (index) => {
      await one(index);
      answered += 1;
      if (answered % gcEvery === 0) globalThis.gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    });
    const used = process.cpuUsage(cpu);
    process.stdout.write(`  ${kind}: ${calls} calls, ${inFlight} in flight: most heap used ${mb(peak)} MB (+${mb(peak - base)}), ${((used.user + used.system) / 1000 / calls).toFixed(1)} ms CPU a call\n`);
  }
} finally {
  await coffer.close();
  rmSync(dirname(dataDir), { recursive: true, force: true });
}

