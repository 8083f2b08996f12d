/**
 * One benchmark run, in order: seed Coffer, time cold starts, start the peers and prepare what each needs,
 * then every workload at every connection count, peers interleaved round by round, and last the same
 * workloads through the pipeline in-process.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sendOk, sendSigned } from './aws-call.js';
import { measureColdStarts } from './cold-start.js';
import { COFFER_SERVER_MODULE } from './coffer-build.js';
import { describeMachine, flushLatencyMs, median, sqliteFootprint } from './extras.js';
import { decryptCiphertexts, prepareFixture, type Fixture } from './fixtures.js';
import { measureInProcess } from './in-process.js';
import { runLoad, settle, type LoadOptions, type Measurement } from './load.js';
import { log } from './log.js';
import { DEV_KEY, PEER_NAMES, SERVER_CPUS, startBare, startCoffer, startMoto, startSkeleton, type Peer, type PeerName } from './peers.js';
import type { Cell, Results } from './report.js';
import { seedCoffer, seedOverApi } from './seed.js';
import type { Command, Settings } from './settings.js';
import { isSkeletonPeer, partsLeftOut } from './skeleton-parts.js';
import { Signer } from './signer.js';
import { getSecretValue, WORKLOADS, type Workload } from './workloads.js';

/** Answers of each workload checked per peer before it is loaded. */
const PROBES = 5;

type Peers = Partial<Record<PeerName, Peer>>;
type Fixtures = Partial<Record<PeerName, Fixture>>;

export async function runBench(command: Command, dirs: { disk: string; scratch: string }): Promise<Results> {
  const settings = command.settings;
  const started = performance.now();
  const signer = new Signer(DEV_KEY);
  const cpus = settings.pin ? SERVER_CPUS : undefined;
  const results: Results = {
    command: commandLine(command),
    startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    minutes: 0,
    settings,
    machine: describeMachine(),
    signerMicrosPerRequest: signerCost(signer),
    seed: { cofferSeconds: 0 },
    sqlite: { afterSeed: { fileBytes: 0, auditFileBytes: 0, secrets: 0, versions: 0, bytesPerVersion: 0 } },
    flushLatencyMs: flushLatencyMs(dirs.disk),
    coldStart: {},
    memory: {},
    workloads: [],
    cells: [],
  };

  if (results.machine.usableCores < results.machine.cores && !settings.pin) {
    log(`warning: this process may use ${results.machine.usableCores} of ${results.machine.cores} CPUs (affinity): servers and load share them`);
  }
  const dataDir = join(dirs.disk, 'data');
  log(`seeding Coffer with ${settings.corpusSize} secrets (in-process, scratch dir ${dirs.scratch})`);
  const seeded = await seedCoffer(dataDir, join(dirs.scratch, 'seed'), settings.corpusSize, signer);
  results.seed.cofferSeconds = seeded.seconds;
  results.sqlite.afterSeed = sqliteFootprint(dataDir);
  log(`seeded in ${seeded.seconds.toFixed(1)} s: ${results.sqlite.afterSeed.fileBytes} bytes, ${results.sqlite.afterSeed.versions} versions`);

  await measureColdStarts(results, dataDir, dirs.disk, signer, cpus);

  const peers: Peers = {};
  const fixtures: Fixtures = {};
  try {
    const coffer = (peers.coffer = await startCoffer({ dataDir, cpus, workers: settings.cofferWorkers }));
    await sendOk(coffer.url, coffer.host, signer, getSecretValue(0));
    results.memory.cofferAtStart = coffer.memory();
    fixtures.coffer = await prepareFixture(coffer, signer, { ...settings, keyId: seeded.keyId });
    if (settings.peers.includes('moto')) {
      const moto = (peers.moto = await startMoto({ cpus }));
      log(`seeding moto with ${settings.motoCorpusSize} secrets over HTTP`);
      // One at a time: moto answers 500 now and then to concurrent CreateSecret calls.
      const motoSeeded = await seedOverApi(moto, signer, settings.motoCorpusSize, 1);
      results.seed.motoSeconds = motoSeeded.seconds;
      results.seed.motoCorpusSize = settings.motoCorpusSize;
      fixtures.moto = await prepareFixture(moto, signer, { ...settings, corpusSize: settings.motoCorpusSize, keyId: motoSeeded.keyId });
    }
    for (const name of settings.peers.filter(isSkeletonPeer)) {
      const skeleton = (peers[name] = await startSkeleton({ name, cpus, dataDir: join(dirs.disk, name) }));
      // It holds Coffer's corpus by name (one hot secret, secretName(0)), its own KMS key: the blobs are its own.
      fixtures[name] = { ...fixtures.coffer, ciphertexts: await decryptCiphertexts(skeleton, signer, seeded.keyId) };
    }
    if (settings.peers.includes('bare')) {
      peers.bare = await startBare({ cpus });
      fixtures.bare = fixtures.coffer; // it answers anything: it gets Coffer's requests
    }

    const quiet = { remainingMs: settings.quietBudgetMs };
    for (const workload of selectedWorkloads(settings)) {
      const runnable = await probeWorkload(workload, peers, fixtures, signer, results);
      for (const connections of settings.connections) {
        const cells = runnable.map((name) => addCell(results, workload.id, connections, name));
        for (let round = 0; round < settings.rounds; round++) {
          for (const cell of cells) {
            if (cell.style === 'one-per-connection' && round > 0) continue;
            const peer = peers[cell.peer]!;
            await settle(peer, quiet);
            const measurement = await runLoad(peer, workload.source(peer.host, signer, fixtures[cell.peer]!), loadOptions(cell, settings));
            cell.runs.push(measurement);
            logRun(cell, round, settings.rounds, measurement);
          }
        }
      }
      if (workload.id === 'list') results.memory.cofferAfterList = coffer.memory();
    }
    results.memory.cofferAtEnd = coffer.memory();
    if (peers.moto) results.memory.motoAtEnd = peers.moto.memory();
  } finally {
    await Promise.all(Object.values(peers).map((peer) => peer.stop()));
  }

  results.skeletonAudit = await checkSkeletonAudit(results, dirs.disk);
  log('measuring the pipeline in-process (no HTTP)');
  const workloadIds = selectedWorkloads(settings).map((workload) => workload.id);
  results.inProcessMicros = await measureInProcess({ dataDir, workloadIds, fixture: fixtures.coffer!, budgetMs: settings.inProcessMsPerWorkload }, cpus);
  results.sqlite.afterRun = sqliteFootprint(dataDir);
  results.minutes = (performance.now() - started) / 60_000;
  return results;
}

/**
 * The audit log of each skeleton that kept the audit event, read with the build's own `coffer audit verify` code:
 * its chain intact, and at least one event per answer measured (probes, warm-ups and the Decrypt fixture's
 * Encrypt calls add a few more), so the skeleton's figures include the event it promises.
 */
async function checkSkeletonAudit(results: Results, disk: string): Promise<Results['skeletonAudit']> {
  const names = results.settings.peers.filter(isSkeletonPeer).filter((name) => !partsLeftOut(name).includes('audit'));
  if (names.length === 0) return undefined;
  const { openAuditLog } = (await import(pathToFileURL(COFFER_SERVER_MODULE).href)) as {
    openAuditLog(dataDir: string): Promise<{ verify(): Promise<{ intact: boolean; events: number }>; close(): Promise<void> }>;
  };
  const checked: NonNullable<Results['skeletonAudit']> = {};
  for (const name of names) {
    const answered = results.cells.filter((cell) => cell.peer === name).reduce((sum, cell) => sum + cell.runs.reduce((runs, run) => runs + run.ok, 0), 0);
    const auditLog = await openAuditLog(join(disk, name));
    try {
      const { intact, events } = await auditLog.verify();
      checked[name] = { intact, events, answered };
      log(`${name}: audit chain ${intact ? 'intact' : 'BROKEN'}, ${events} events for ${answered} answers measured`);
    } finally {
      await auditLog.close();
    }
  }
  return checked;
}

/**
 * Checks a few answers of `workload` from each peer, sizes the bare server's body to Coffer's answer and
 * warms every peer up; returns the peers that answer it correctly (Coffer must; a peer that lacks the
 * operation is left out of that workload).
 */
async function probeWorkload(workload: Workload, peers: Peers, fixtures: Fixtures, signer: Signer, results: Results): Promise<PeerName[]> {
  const runnable: PeerName[] = [];
  let bodyBytes = 0;
  for (const name of PEER_NAMES) {
    const peer = peers[name];
    if (!peer || name === 'bare') continue;
    const source = workload.source(peer.host, signer, fixtures[name]!);
    let problem: string | undefined;
    let bytes = 0;
    for (let i = 0; i < PROBES && !problem; i++) {
      const answer = await sendSigned(peer.url, source.next());
      bytes += Buffer.byteLength(answer.text);
      problem = answer.status !== 200 ? `answered ${answer.status}: ${answer.text.slice(0, 200)}` : workload.check(answer, fixtures[name]!);
    }
    if (problem) {
      if (name === 'coffer') throw new Error(`Coffer fails the ${workload.id} probe: ${problem}`);
      log(`${name} left out of ${workload.id}: ${problem}`);
      continue;
    }
    if (name === 'coffer') bodyBytes = Math.round(bytes / PROBES);
    runnable.push(name);
  }
  if (peers.bare) {
    await peers.bare.setBodyBytes(bodyBytes);
    runnable.push('bare');
  }
  results.workloads.push({ id: workload.id, title: workload.title, bodyBytes });
  if (results.settings.warmupSeconds > 0) {
    for (const name of runnable) {
      const peer = peers[name]!;
      await runLoad(peer, workload.source(peer.host, signer, fixtures[name]!), { connections: 1, durationSeconds: results.settings.warmupSeconds, timeoutSeconds: 60 });
    }
  }
  return runnable;
}

/**
 * A cell whose 1-connection p50 times the connections exceeds the run would see hardly any answer inside
 * it (and leave the server working through the backlog long after): each connection sends one request.
 */
function addCell(results: Results, workload: string, connections: number, peer: PeerName): Cell {
  const single = results.cells.find((cell) => cell.workload === workload && cell.peer === peer && cell.connections === 1);
  const p50 = single ? median(single.runs.map((run) => run.p50Ms)) : 0;
  const style = connections > 1 && p50 * connections > results.settings.durationSeconds * 1000 ? 'one-per-connection' : 'timed';
  const cell: Cell = { workload, connections, peer, style, runs: [] };
  results.cells.push(cell);
  return cell;
}

function loadOptions(cell: Cell, settings: Settings): LoadOptions {
  const options = { connections: cell.connections, durationSeconds: settings.durationSeconds, timeoutSeconds: 10 };
  return cell.style === 'one-per-connection' ? { ...options, amount: cell.connections, timeoutSeconds: 600 } : options;
}

export function selectedWorkloads(settings: Settings): Workload[] {
  if (settings.workloads.length === 0) return WORKLOADS;
  const unknown = settings.workloads.filter((id) => !WORKLOADS.some((workload) => workload.id === id));
  if (unknown.length > 0) throw new Error(`unknown workload(s) ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.id).join(', ')}`);
  return WORKLOADS.filter((workload) => settings.workloads.includes(workload.id));
}

/** Microseconds to sign one request with the bench signer (pools are signed before every run). */
function signerCost(signer: Signer): number {
  const { service, operation, payload } = getSecretValue(0);
  const sign = () => signer.sign('127.0.0.1:1', service, `secretsmanager.${operation}`, JSON.stringify(payload));
  for (let i = 0; i < 2_000; i++) sign();
  const count = 20_000;
  const started = performance.now();
  for (let i = 0; i < count; i++) sign();
  return ((performance.now() - started) * 1000) / count;
}

function commandLine(command: Command): string {
  if (command.argv.length === 0) return 'npm run bench';
  if (command.argv.length === 1 && command.argv[0] === '--quick') return 'npm run bench:quick';
  return `node bench/dist/main.js ${command.argv.join(' ')}`;
}

function logRun(cell: Cell, round: number, rounds: number, m: Measurement): void {
  log(
    `${cell.workload} c=${cell.connections} ${cell.peer} ${round + 1}/${rounds}: ${Math.round(m.requestsPerSecond)} req/s, ` +
      `p50 ${m.p50Ms.toFixed(2)} p99 ${m.p99Ms.toFixed(2)} max ${m.maxMs.toFixed(1)} ms, errors ${m.errors}, ` +
      `server ${Math.round(m.serverCpuMicrosPerRequest)} µs/req (${m.serverCores.toFixed(2)} cores), other ${m.otherCores.toFixed(2)} cores`,
  );
}
