/**
 * `node bench/dist/main.js profile`: Coffer under `node --cpu-prof` with one workload's load (GetSecretValue
 * of the hot secret at 64 connections unless told otherwise), then the profile summarized for the samples
 * taken during the load window only. The .cpuprofile stays in the temp dir for DevTools or speedscope.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderProfile, summarizeProfile } from './cpu-profile.js';
import { prepareFixture } from './fixtures.js';
import { runLoad } from './load.js';
import { log } from './log.js';
import { SERVER_CPUS, startCoffer } from './peers.js';
import { seedCoffer } from './seed.js';
import type { Settings } from './settings.js';
import type { Signer } from './signer.js';
import { WORKLOADS } from './workloads.js';

export async function runProfile(settings: Settings, dirs: { disk: string; scratch: string }, signer: Signer): Promise<string> {
  const workload = WORKLOADS.find((w) => w.id === (settings.workloads[0] ?? 'get-hot'));
  if (!workload) throw new Error(`unknown workload ${settings.workloads[0]}`);
  const connections = settings.connections[settings.connections.length - 1]!;
  const durationSeconds = settings.mode === 'full' ? Math.max(settings.durationSeconds, 10) : settings.durationSeconds;
  const corpus = workload.id === 'list' ? settings.corpusSize : settings.randomSetSize;

  const dataDir = join(dirs.disk, 'data');
  log(`profile: seeding ${corpus} secrets`);
  const { keyId } = await seedCoffer(dataDir, join(dirs.scratch, 'seed'), corpus, signer);
  const profileDir = join(tmpdir(), `coffer-bench-prof-${Date.now()}`);
  mkdirSync(profileDir, { recursive: true });
  const coffer = await startCoffer({ dataDir, cpus: settings.pin ? SERVER_CPUS : undefined, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  let requests: number;
  let window: { fromMicros: number; toMicros: number };
  try {
    const fixture = await prepareFixture(coffer, signer, { ...settings, corpusSize: corpus, keyId });
    await runLoad(coffer, workload.source(coffer.host, signer, fixture), { connections: 1, durationSeconds: 1, timeoutSeconds: 60 });
    log(`profile: ${workload.id} at ${connections} connections for ${durationSeconds} s`);
    const fromMicros = monotonicMicros();
    const measurement = await runLoad(coffer, workload.source(coffer.host, signer, fixture), { connections, durationSeconds, timeoutSeconds: 10 });
    window = { fromMicros, toMicros: monotonicMicros() };
    requests = measurement.ok;
    log(`profile: ${Math.round(measurement.requestsPerSecond)} req/s, ${Math.round(measurement.serverCpuMicrosPerRequest)} µs server CPU per request`);
  } finally {
    await coffer.stop(); // SIGTERM: Coffer exits cleanly and node writes the profile
  }
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${profileDir}`);
  const path = join(profileDir, file);
  return [
    `CPU profile of Coffer under ${workload.id} at ${connections} connections${settings.pin ? ` (server pinned to CPU ${SERVER_CPUS}, load generator to the other)` : ''}: ${path}`,
    renderProfile(summarizeProfile(path, window), { requests }),
  ].join('\n');
}

/** `node bench/dist/main.js analyze FILE`: the whole profile, no window. */
export function analyzeProfile(path: string): string {
  return renderProfile(summarizeProfile(path));
}

function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
