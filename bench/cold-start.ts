/**
 * Cold start: spawn → first answered health request, and spawn → first 200 to a signed request.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { send, type Call } from './aws-call.js';
import { median } from './extras.js';
import { settleMachine } from './load.js';
import { log } from './log.js';
import { startBare, startCoffer, startMoto, type Peer } from './peers.js';
import type { Results } from './report.js';
import type { Signer } from './signer.js';
import { getSecretValue } from './workloads.js';

const getRandomPassword: Call = { service: 'secretsmanager', operation: 'GetRandomPassword', payload: { PasswordLength: 32 } };

export type ColdStart = { healthMs: number; firstSignedMs: number };

/** Starts a server, times it to its first answered health request and its first signed 200, stops it. */
export async function coldStart(start: () => Promise<Peer>, call: Call, signer: Signer): Promise<ColdStart> {
  const peer = await start();
  try {
    // Coffer answers /health while it opens the store; a signed request waits for it.
    const answer = await send(peer.url, peer.host, signer, call);
    if (answer.status !== 200) throw new Error(`cold start: ${call.operation} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
    return { healthMs: peer.healthAfterMs, firstSignedMs: performance.now() - peer.startedAt };
  } finally {
    await peer.stop();
  }
}

/**
 * Cold starts, each `settings.coldStarts` times: Coffer on an empty data dir and on the seeded one, moto and
 * the bare server. Before each Coffer start the machine is given a moment to go quiet.
 */
export async function measureColdStarts(
  results: Results,
  seededDataDir: string,
  diskDir: string,
  signer: Signer,
  cpus: string | undefined,
): Promise<void> {
  const { settings } = results;
  const fresh: typeof results.coldStart = { coffer: [], 'coffer-seeded': [], moto: [], bare: [] };
  const idle = { remainingMs: settings.quietBudgetMs / 10 };
  for (let i = 0; i < settings.coldStarts; i++) {
    const emptyDir = join(diskDir, `cold-${i}`);
    await settleMachine(idle);
    fresh.coffer!.push(await coldStart(() => startCoffer({ dataDir: emptyDir, cpus }), getRandomPassword, signer));
    rmSync(emptyDir, { recursive: true, force: true });
    await settleMachine(idle);
    fresh['coffer-seeded']!.push(await coldStart(() => startCoffer({ dataDir: seededDataDir, cpus }), getSecretValue(0), signer));
    if (settings.peers.includes('moto')) fresh.moto!.push(await coldStart(() => startMoto({ cpus }), getRandomPassword, signer));
    if (settings.peers.includes('bare')) fresh.bare!.push(await coldStart(() => startBare({ cpus }), getRandomPassword, signer));
  }
  results.coldStart = fresh;
  const firstSigned = (starts: ColdStart[] = []) => median(starts.map((start) => start.firstSignedMs)).toFixed(0);
  log(`cold start to the first signed answer (median): empty ${firstSigned(fresh.coffer)} ms, seeded ${firstSigned(fresh['coffer-seeded'])} ms`);
}

