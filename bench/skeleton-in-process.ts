/**
 * The skeleton's parts without HTTP and without the load generator's noise: `node bench/dist/skeleton-in-process.js
 * [--build DIR] [--runs N] [--rounds N] [--batches N] [--workloads get-hot,kms-decrypt] [--peers coffer,skeleton,...]
 * [--node-args "FLAGS"]`.
 * Each run is one child process pinned to CPU 0 (with bin/coffer's Node flags) that opens every peer named side by
 * side: the skeleton (skeleton.ts), whole or with parts left out, each with its own audit.db and writer thread, and
 * Coffer's own pipeline (openCoffer() on a seeded data dir, as ab-in-process.ts runs it). GetSecretValue of the hot
 * secret and KMS Decrypt go to them 64 at a time (as 64 connections would batch them), the peers alternated round by
 * round (`--batches` batches each per round), and the process's CPU (all threads: the audit writers too; an idle
 * writer costs nothing) is counted per request for the peer whose batch ran. Alternating in one process puts the
 * machine's noise on every peer alike, so the per-round differences (a part's cost) hold where separate runs did not
 * (load 6–10: one skeleton's rounds spread 52–58 µs, a variant's 34–69). Beside the HTTP run (`main.js --peers
 * coffer,skeleton,...,bare`) it says what the parts cost without node:http, and how much of Coffer's pipeline is
 * more than the skeleton's work.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { COFFER_SERVER_MODULE, cofferNodeFlags, removeSnapshot, REPO_ROOT, SNAPSHOT_DIST, snapshotBuild } from './coffer-build.js';
import { median, readLoad, runAsParentOrChild } from './ab-child.js';
import { TARGET_PREFIX } from './aws-call.js';
import { log } from './log.js';
import { DEV_KEY, SERVER_CPUS } from './peers.js';
import { seedCoffer } from './seed.js';
import { isSkeletonPeer, partsLeftOut, SKELETON_PEERS, type SkeletonPeerName } from './skeleton-parts.js';
import { openSkeleton } from './skeleton.js';
import { Signer, type SignedCall } from './signer.js';
import { decrypt, encrypt, getSecretValue } from './workloads.js';

const WORKLOAD_IDS = ['get-hot', 'kms-decrypt'] as const;
type WorkloadId = (typeof WORKLOAD_IDS)[number];
type PeerId = 'coffer' | SkeletonPeerName;
type Job = { peers: PeerId[]; dir: string; cofferDataDir: string; keyId: string; rounds: number; batches: number; workloads: WorkloadId[] };
/** µs of CPU per request, per workload and peer, one value per round. */
type Result = Partial<Record<WorkloadId, Partial<Record<PeerId, number[]>>>>;
/** The same split by thread: the main (request) thread's share, one value per round (the rest is the other threads'). */
type MainShare = Partial<Record<WorkloadId, Partial<Record<PeerId, number[]>>>>;
type Call = { service: 'secretsmanager' | 'kms'; operation: string; payload: unknown };
/** A request handed over as the HTTP edge would: its headers, its body, and the answer's status and body back. */
type Send = (signed: SignedCall) => Promise<{ status: number; body: string }>;

const HOST = 'in-process.local';
const CONCURRENCY = 64;
const SELF = fileURLToPath(import.meta.url);

/** Coffer's pipeline (openCoffer) or the skeleton, in this process; `close` ends it. */
async function openPeer(peer: PeerId, dataDir: string): Promise<{ send: Send; close(): Promise<void> }> {
  const headersOf = ({ headers, body }: SignedCall) => ({ ...headers, 'content-length': String(body.length) });
  if (peer === 'coffer') {
    const { openCoffer } = (await import(pathToFileURL(COFFER_SERVER_MODULE).href)) as {
      openCoffer(config: Record<string, unknown>): Promise<{ pipeline(request: Record<string, unknown>): Promise<{ status: number; body: string }>; close(): Promise<void> }>;
    };
    const quiet = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`${message}\n`) };
    const coffer = await openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
    return {
      send: (signed) => coffer.pipeline({ method: 'POST', path: '/', query: '', headers: headersOf(signed), body: signed.body, sourceIp: '127.0.0.1' }),
      close: () => coffer.close(),
    };
  }
  const skeleton = await openSkeleton(SNAPSHOT_DIST, dataDir, new Set(partsLeftOut(peer)));
  return {
    send: (signed) => skeleton.handle({ method: 'POST', url: '/', headers: headersOf(signed), body: signed.body, sourceIp: '127.0.0.1' }),
    close: () => skeleton.close(),
  };
}

/**
 * CPU ns of this process's main thread and of all its other threads together (audit writers, V8's GC helpers, libuv),
 * from /proc's schedstat (ns resolution, where /proc's stat counts 10 ms ticks). Node names every thread `node`, so
 * the writer threads are not told apart from the GC helpers here: bench/dist/audit-threads.js does that in a server.
 */
function threadCpuNs(): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const task of readdirSync('/proc/self/task')) {
    let ns: number;
    try {
      ns = Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      continue; // a thread that ended meanwhile
    }
    if (Number(task) === process.pid) main += ns;
    else others += ns;
  }
  return { main, others };
}

async function child(job: Job): Promise<{ result: Result; mainShare: MainShare }> {
  const signer = new Signer(DEV_KEY);
  const sign = (call: Call) => signer.sign(HOST, call.service, `${TARGET_PREFIX[call.service]}.${call.operation}`, JSON.stringify(call.payload));
  const opened = new Map<PeerId, { send: Send; close(): Promise<void> }>();
  try {
    for (const peer of job.peers) opened.set(peer, await openPeer(peer, peer === 'coffer' ? job.cofferDataDir : join(job.dir, peer)));
    const batches = new Map<PeerId, Record<WorkloadId, SignedCall[]>>();
    for (const [peer, { send }] of opened) {
      const ok = async (signed: SignedCall) => {
        const response = await send(signed);
        if (response.status !== 200) throw new Error(`${peer} answered ${response.status}: ${response.body.slice(0, 200)}`);
        return response.body;
      };
      // One ciphertext per request in flight, as in ab-in-process.ts (one blob decrypted over and over hid ~6 µs).
      const ciphertexts: string[] = [];
      for (let i = 0; i < CONCURRENCY; i++) ciphertexts.push((JSON.parse(await ok(sign(encrypt(job.keyId)))) as { CiphertextBlob: string }).CiphertextBlob);
      batches.set(peer, {
        'get-hot': Array.from({ length: CONCURRENCY }, () => sign(getSecretValue(0))),
        'kms-decrypt': ciphertexts.map((ciphertext) => sign(decrypt(ciphertext))),
      });
    }
    const result: Result = {};
    const mainShare: MainShare = {};
    for (const id of job.workloads) {
      /** CPU µs per request of `count` batches of the peer, each checked answer by answer. */
      const runBatches = async (peer: PeerId, count: number) => {
        const { send } = opened.get(peer)!;
        const calls = batches.get(peer)![id];
        let micros = 0;
        for (let batch = 0; batch < count; batch++) {
          const before = process.cpuUsage();
          const answers = await Promise.all(calls.map(send));
          const used = process.cpuUsage(before);
          micros += used.user + used.system;
          const failed = answers.find((answer) => answer.status !== 200);
          if (failed) throw new Error(`${peer} answered ${failed.status}: ${failed.body.slice(0, 200)}`);
        }
        return micros / (count * CONCURRENCY);
      };
      for (const peer of job.peers) await runBatches(peer, job.batches * 3);
      const perPeer: Partial<Record<PeerId, number[]>> = (result[id] = {});
      const mainPerPeer: Partial<Record<PeerId, number[]>> = (mainShare[id] = {});
      for (let round = 0; round < job.rounds; round++) {
        for (const peer of job.peers) {
          const threadsBefore = threadCpuNs();
          (perPeer[peer] ??= []).push(await runBatches(peer, job.batches));
          const threadsAfter = threadCpuNs();
          const main = threadsAfter.main - threadsBefore.main;
          (mainPerPeer[peer] ??= []).push(main / (main + threadsAfter.others - threadsBefore.others));
        }
      }
    }
    return { result, mainShare };
  } finally {
    for (const peer of opened.values()) await peer.close();
  }
}

function runChild(job: Job, nodeArgs: string[]): Promise<{ result: Result; mainShare: MainShare }> {
  // With the Node flags `coffer server` runs with (bin/coffer: the young generation's size decides GC's share), and
  // any given with --node-args after them (a flag to measure before it goes on bin/coffer's line).
  const node = spawn('taskset', ['-c', SERVER_CPUS, process.execPath, ...cofferNodeFlags(), ...nodeArgs, SELF, '--child'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: REPO_ROOT,
  });
  return new Promise((resolvePromise, reject) => {
    node.once('message', (message: { result?: { result: Result; mainShare: MainShare }; error?: string }) =>
      message.result ? resolvePromise(message.result) : reject(new Error(message.error)),
    );
    node.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    node.send(job);
  });
}

const USAGE =
  'usage: node bench/dist/skeleton-in-process.js [--build DIR] [--runs N] [--rounds N] [--batches N] [--workloads get-hot,kms-decrypt] ' +
  `[--peers coffer,${SKELETON_PEERS.join(',')}] [--node-args "FLAGS"]`;

async function parent(argv: string[]): Promise<void> {
  const options = {
    build: join(REPO_ROOT, 'dist'),
    runs: 1,
    rounds: 30,
    batches: 10,
    workloads: [...WORKLOAD_IDS] as WorkloadId[],
    peers: ['coffer', ...SKELETON_PEERS] as PeerId[],
    nodeArgs: [] as string[],
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--build') options.build = resolve(value());
    else if (argv[i] === '--runs') options.runs = Number(value());
    else if (argv[i] === '--rounds') options.rounds = Number(value());
    else if (argv[i] === '--batches') options.batches = Number(value());
    else if (argv[i] === '--workloads') options.workloads = value().split(',') as WorkloadId[];
    else if (argv[i] === '--peers') options.peers = value().split(',') as PeerId[];
    else if (argv[i] === '--node-args') options.nodeArgs = value().split(' ').filter(Boolean);
    else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  const unknownWorkloads = options.workloads.filter((id) => !WORKLOAD_IDS.includes(id));
  if (unknownWorkloads.length > 0) throw new Error(`unknown workloads ${unknownWorkloads.join(', ')}\n${USAGE}`);
  const unknownPeers = options.peers.filter((peer) => peer !== 'coffer' && !isSkeletonPeer(peer));
  if (unknownPeers.length > 0) throw new Error(`unknown peers ${unknownPeers.join(', ')}\n${USAGE}`);
  snapshotBuild(options.build);
  const disk = mkdtempSync(join(tmpdir(), 'coffer-skeleton-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-skeleton-') : join(disk, 'scratch');
  const results: Result[] = [];
  const mainShares: MainShare[] = [];
  try {
    const seeded = join(disk, 'seeded');
    const { keyId } = await seedCoffer(seeded, join(scratch, 'seed'), 200, new Signer(DEV_KEY));
    for (let run = 1; run <= options.runs; run++) {
      // Coffer on a copy of the seeded data dir; each skeleton makes its own (an empty coffer.db beside audit.db).
      const dir = join(disk, `run-${run}`);
      const cofferDataDir = join(dir, 'coffer');
      cpSync(seeded, cofferDataDir, { recursive: true });
      log(`run ${run}: ${options.peers.join(', ')} alternated, ${options.rounds} rounds of ${options.batches} batches of ${CONCURRENCY} (load ${readLoad()})`);
      const { result, mainShare } = await runChild({ peers: options.peers, dir, cofferDataDir, keyId, rounds: options.rounds, batches: options.batches, workloads: options.workloads }, options.nodeArgs);
      rmSync(dir, { recursive: true, force: true });
      results.push(result);
      mainShares.push(mainShare);
      log(`run ${run} done (load ${readLoad()})`);
    }
  } finally {
    rmSync(disk, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    removeSnapshot();
  }
  process.stdout.write(partsTable(results, mainShares, options));
}

/**
 * Per run, each peer's median µs/request over its rounds, and beside each the skeleton less it, round by round
 * (adjacent batches of the same round), median: for a skeleton variant the part it leaves out, for Coffer (negative)
 * what its pipeline does beyond the skeleton.
 */
function partsTable(results: Result[], mainShares: MainShare[], options: { workloads: WorkloadId[]; peers: PeerId[] }): string {
  const lines = [
    '| workload | peer | run | µs/req (median of rounds) | main thread / other threads µs/req | skeleton − peer (median of rounds) | quartiles of the difference |',
    '|---|---|---:|---:|---|---:|---|',
  ];
  for (const id of options.workloads) {
    for (const peer of options.peers) {
      results.forEach((result, run) => {
        const values = result[id]![peer]!;
        const skeleton = result[id]!.skeleton;
        const differences = skeleton && peer !== 'skeleton' ? values.map((value, index) => skeleton[index]! - value) : [];
        const difference = differences.length > 0 ? median(differences).toFixed(1) : '';
        const spread = differences.length > 0 ? `${quartile(differences, 0.25).toFixed(1)} … ${quartile(differences, 0.75).toFixed(1)}` : '';
        // Each round's CPU split by the main thread's share of it (schedstat), medians of the rounds.
        const shares = mainShares[run]![id]![peer]!;
        const mainMicros = median(values.map((value, index) => value * shares[index]!));
        const otherMicros = median(values.map((value, index) => value * (1 - shares[index]!)));
        lines.push(`| ${id} | ${peer} | ${run + 1} | ${median(values).toFixed(1)} | ${mainMicros.toFixed(1)} / ${otherMicros.toFixed(1)} | ${difference} | ${spread} |`);
      });
    }
  }
  return lines.join('\n') + '\n';
}

function quartile(values: number[], at: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * at))]!;
}

runAsParentOrChild('skeleton-in-process', child, parent);
