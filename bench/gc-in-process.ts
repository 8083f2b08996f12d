/**
 * What a workload allocates and promotes, in process (issue 21's peak RSS): `node --max-semi-space-size=32
 * bench/dist/gc-in-process.js --dist DIR --seeded DATADIR [--workload list|get-random] [--calls N]
 * [--in-flight N]`. One process opens DIR's openCoffer() on a fresh copy of a seeded data dir (rss-probe.ts makes
 * one: 100,000 secrets), hands it ListSecrets pages of 100 spread over the corpus or GetSecretValue at random over
 * the whole corpus, N in flight (64: as 64 connections batch them), and prints CPU per call (all threads),
 * young-generation bytes allocated and old-generation growth across scavenges (promoted) per call from
 * node:v8's GCProfiler, full collections, and VmHWM. Run it pinned (`taskset -c 0`) and alternate builds: it has
 * no HTTP and no load generator, so it separates builds where the HTTP probe's RSS does not (bench/RESULTS.md).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GCProfiler, type GCProfilerResult } from 'node:v8';
import { TARGET_PREFIX } from './aws-call.js';
import { DEV_KEY } from './peers.js';
import { secretName } from './seed.js';
import { Signer, type SignedCall } from './signer.js';

type Coffer = {
  pipeline(request: Record<string, unknown>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
};

const argv = process.argv.slice(2);
const option = (flag: string, fallback?: string) => {
  const index = argv.indexOf(flag);
  const value = index === -1 ? fallback : argv[index + 1];
  if (value === undefined) throw new Error(`${flag} is required`);
  return value;
};
const dist = resolve(option('--dist', 'dist'));
const seeded = option('--seeded');
const workload = option('--workload', 'list');
const calls = Number(option('--calls', workload === 'list' ? '1500' : '15000'));
const inFlight = Number(option('--in-flight', '64'));
const corpus = Number(option('--secrets', '100000'));

const dataDir = mkdtempSync(join(tmpdir(), 'coffer-gc-'));
cpSync(seeded, dataDir, { recursive: true });
const { openCoffer } = (await import(pathToFileURL(join(dist, 'server/index.js')).href)) as { openCoffer(config: Record<string, unknown>): Promise<Coffer> };
const quiet = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`${message}\n`) };
const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
try {
  const signer = new Signer(DEV_KEY);
  const sign = (operation: string, payload: unknown) => signer.sign('gc.local', 'secretsmanager', `${TARGET_PREFIX.secretsmanager}.${operation}`, JSON.stringify(payload));
  const send = async ({ headers, body }: SignedCall) => {
    const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body, sourceIp: '127.0.0.1' });
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${response.body.slice(0, 200)}`);
    return response.body;
  };
  const next = workload === 'list' ? await listCalls(send, sign) : randomGets(sign);
  const profiler = new GCProfiler();
  profiler.start();
  const cpuBefore = process.cpuUsage();
  let started = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < calls) {
        started += 1;
        await send(next());
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const gc = summarize(profiler.stop());
  const vmHwmMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  process.stdout.write(
    `${workload} ×${calls}, ${inFlight} in flight: CPU ${((cpu.user + cpu.system) / calls).toFixed(0)} µs/call, young allocated ` +
      `${(gc.allocated / calls / 1024).toFixed(0)} KB/call, promoted ${(gc.promoted / calls / 1024).toFixed(1)} KB/call, ` +
      `${gc.scavenges} scavenges, ${gc.fullCollections} full collections, VmHWM ${vmHwmMb.toFixed(0)} MB\n`,
  );
} finally {
  await coffer.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/** NextTokens of 50 pages spread over the corpus (as rss-probe.ts), then those pages in turn. */
async function listCalls(send: (call: SignedCall) => Promise<string>, sign: (operation: string, payload: unknown) => SignedCall) {
  const tokens: (string | undefined)[] = [undefined];
  let token: string | undefined;
  for (let page = 1; ; page++) {
    token = (JSON.parse(await send(sign('ListSecrets', token ? { MaxResults: 100, NextToken: token } : { MaxResults: 100 }))) as { NextToken?: string }).NextToken;
    if (!token) break;
    if (page % Math.max(1, Math.floor(corpus / 100 / 50)) === 0) tokens.push(token);
  }
  let index = 0;
  return () => {
    const page = tokens[index++ % tokens.length];
    return sign('ListSecrets', page ? { MaxResults: 100, NextToken: page } : { MaxResults: 100 });
  };
}

function randomGets(sign: (operation: string, payload: unknown) => SignedCall) {
  let seed = 11;
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return sign('GetSecretValue', { SecretId: secretName(seed % corpus) });
  };
}

/** Young bytes allocated (new space before each scavenge) and promoted (old + large-object growth across it). */
function summarize(result: GCProfilerResult) {
  const used = (spaces: GCProfilerResult['statistics'][number]['beforeGC'], ...names: string[]) =>
    spaces.heapSpaceStatistics.filter((space) => names.includes(space.spaceName)).reduce((sum, space) => sum + space.spaceUsedSize, 0);
  let allocated = 0;
  let promoted = 0;
  let scavenges = 0;
  let fullCollections = 0;
  for (const gc of result.statistics) {
    if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep') {
      scavenges += 1;
      allocated += used(gc.beforeGC, 'new_space');
      promoted += used(gc.afterGC, 'old_space', 'large_object_space') - used(gc.beforeGC, 'old_space', 'large_object_space');
    } else fullCollections += 1;
  }
  return { allocated, promoted, scavenges, fullCollections };
}
