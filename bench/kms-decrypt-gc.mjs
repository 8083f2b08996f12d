/**
 * What KMS Decrypt's calls leave for the garbage collector, in process (issue 21's Decrypt tail): signed Decrypt
 * (or GetSecretValue) requests handed to a build's request pipeline (SigV4, schema, operation, audit, JSON; no
 * HTTP), 64 in flight, and per round: CPU per call, mark-compacts and scavenges per 10,000 calls, and the
 * ArrayBuffer bytes (Buffers' memory outside V8's heap, `process.memoryUsage().arrayBuffers`) after a scavenge.
 * Bytes that keep rising from one scavenge to the next were promoted: only a mark-compact frees them.
 *   node --max-semi-space-size=32 bench/kms-decrypt-gc.mjs [--workload decrypt|get] [--calls N] [--rounds N]
 *     [--snapshot PATH] [--lifetimes MODULE] DIST
 * Run one build per process (taskset -c 0) and alternate the processes: two builds in one process share one heap.
 * --lifetimes loads a diagnosis module first (it may watch collections) and prints its report() at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { writeHeapSnapshot } from 'node:v8';
import { takeOption } from './script-options.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => takeOption(args, name, fallback);
const workload = option('--workload', 'decrypt');
const calls = Number(option('--calls', 40000));
const rounds = Number(option('--rounds', 3));
const inFlight = Number(option('--in-flight', 64));
// --snapshot PATH: a heap snapshot in the middle of the last round (diagnosis: which ArrayBuffers are alive and why).
const snapshot = option('--snapshot', undefined);
// --lifetimes MODULE: a diagnosis module loaded first; its report() is printed at the end.
const lifetimes = option('--lifetimes', undefined);
const diagnosis = lifetimes ? await import(resolve(lifetimes)) : undefined;
if (args.length === 0) throw new Error('usage: node bench/kms-decrypt-gc.mjs [--workload decrypt|get] [--calls N] [--rounds N] DIST [DIST2]');
const { Signer } = await import(new URL('./dist/signer.js', import.meta.url).href);
const { DEV_KEY } = await import(new URL('./dist/peers.js', import.meta.url).href);
const CONTEXT = { purpose: 'coffer-bench' };
const HOST = 'gc.local';
const quiet = { debug() {}, info() {}, warn() {}, error: (message) => process.stderr.write(`${message}\n`) };
const signer = new Signer(DEV_KEY);

async function setUp(dist, label) {
  const { openCoffer } = await import(`file://${resolve(dist)}/server/index.js`);
  const dataDir = mkdtempSync(join(tmpdir(), 'kms-decrypt-gc-'));
  const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
  const call = async (service, operation, payload) => {
    const target = service === 'kms' ? `TrentService.${operation}` : `secretsmanager.${operation}`;
    const { headers, body } = signer.sign(HOST, service, target, JSON.stringify(payload));
    const response = await coffer.pipeline({
      method: 'POST',
      path: '/',
      query: '',
      headers: { ...headers, 'content-length': String(body.length) },
      body: Buffer.from(body),
      sourceIp: '127.0.0.1',
    });
    if (response.status !== 200) throw new Error(`${label} ${operation} answered ${response.status}: ${response.body.slice(0, 200)}`);
    return JSON.parse(response.body);
  };
  const requests = [];
  if (workload === 'decrypt') {
    const keyId = (await call('kms', 'CreateKey', { Description: 'bench' })).KeyMetadata.KeyId;
    const plaintext = randomBytes(1024).toString('base64');
    for (let i = 0; i < 200; i++) {
      const { CiphertextBlob } = await call('kms', 'Encrypt', { KeyId: keyId, Plaintext: plaintext, EncryptionContext: CONTEXT });
      requests.push(['kms', 'Decrypt', { CiphertextBlob, EncryptionContext: CONTEXT }]);
    }
  } else {
    await call('secretsmanager', 'CreateSecret', { Name: 'gc-hot', SecretString: randomBytes(700).toString('base64') });
    requests.push(['secretsmanager', 'GetSecretValue', { SecretId: 'gc-hot' }]);
  }
  let next = 0;
  return {
    label,
    close: async () => {
      await coffer.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    run: async (n, snapshotAt) => {
      let started = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (started < n) {
            started += 1;
            if (snapshotAt !== undefined && started === snapshotAt) writeHeapSnapshot(snapshot);
            const [service, operation, payload] = requests[next++ % requests.length];
            await call(service, operation, payload);
          }
        }),
      );
    },
  };
}

/** Scavenges, mark-compacts, and the ArrayBuffer bytes each scavenge found (allocated since the last one, less what it kept). */
function watchCollections() {
  const counts = { scavenges: 0, markCompacts: 0, freedAtScavenge: 0, heldAfterScavenge: [] };
  let before = process.memoryUsage().arrayBuffers;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = entry.detail.kind;
      const now = process.memoryUsage().arrayBuffers;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        counts.scavenges += 1;
        counts.heldAfterScavenge.push(now);
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.markCompacts += 1;
      before = now;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { counts, stop: () => observer.disconnect(), before: () => before };
}

const builds = [];
for (const [index, dist] of args.entries()) builds.push(await setUp(dist, args.length === 1 ? 'build' : index === 0 ? 'base' : 'candidate'));
for (const build of builds) await build.run(calls / 4); // warm up
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const rows = [];
for (let round = 0; round < rounds; round++) {
  for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
    const watch = watchCollections();
    const cpu = process.cpuUsage();
    const last = round === rounds - 1 && build === builds[0];
    await build.run(calls, snapshot && last ? calls / 2 : undefined);
    const used = process.cpuUsage(cpu);
    await new Promise((done) => setImmediate(done));
    watch.stop();
    const held = watch.counts.heldAfterScavenge;
    rows.push({
      label: build.label,
      round,
      cpu: (used.user + used.system) / calls,
      markCompacts: (watch.counts.markCompacts * 10000) / calls,
      scavenges: (watch.counts.scavenges * 10000) / calls,
      heldMb: held.length ? median(held) / 1048576 : 0,
    });
  }
}
console.log(`| build | round | CPU µs/call | mark-compacts per 10,000 calls | scavenges per 10,000 | arrayBuffers after a scavenge, median MB |`);
console.log(`|---|---:|---:|---:|---:|---:|`);
for (const row of rows) {
  console.log(`| ${row.label} | ${row.round + 1} | ${row.cpu.toFixed(1)} | ${row.markCompacts.toFixed(2)} | ${row.scavenges.toFixed(1)} | ${row.heldMb.toFixed(2)} |`);
}
for (const build of builds) await build.close();
await diagnosis?.report();
