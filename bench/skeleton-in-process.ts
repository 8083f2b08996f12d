/**
 * The skeleton's parts without HTTP and without the load generator's noise: `node bench/dist/skeleton-in-process.js
 * [--build DIR] [--rounds N] [--ms M] [--workloads get-hot,kms-decrypt] [--peers coffer,skeleton,skeleton-no-audit,...]`.
 * Each round runs every peer named, one after the other, each in a fresh child process pinned to CPU 0: the skeleton
 * (skeleton.ts, whole or with parts left out) or Coffer's own pipeline (openCoffer() on a seeded data dir, as
 * ab-in-process.ts runs it), GetSecretValue of the hot secret and KMS Decrypt handed to it 64 at a time (as 64
 * connections would batch them), and the process's CPU (all threads: the audit writer too) per request. Beside the
 * HTTP run (`main.js --peers coffer,skeleton,...,bare`) it says what the parts cost when node:http is not in the
 * figure, and how much of Coffer's pipeline is more than the skeleton's work.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
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
type Job = { peer: PeerId; dataDir: string; keyId: string; ms: number; workloads: WorkloadId[] };
type Result = Partial<Record<WorkloadId, number>>;
type Call = { service: 'secretsmanager' | 'kms'; operation: string; payload: unknown };
/** A request handed over as the HTTP edge would: its headers, its body, and the answer's status and body back. */
type Send = (signed: SignedCall) => Promise<{ status: number; body: string }>;

const HOST = 'in-process.local';
const CONCURRENCY = 64;
const SELF = fileURLToPath(import.meta.url);

/** Coffer's pipeline (openCoffer) or the skeleton, in this process; `close` ends it. */
async function openPeer(job: Job): Promise<{ send: Send; close(): Promise<void> }> {
  const headersOf = ({ headers, body }: SignedCall) => ({ ...headers, 'content-length': String(body.length) });
  if (job.peer === 'coffer') {
    const { openCoffer } = (await import(pathToFileURL(COFFER_SERVER_MODULE).href)) as {
      openCoffer(config: Record<string, unknown>): Promise<{ pipeline(request: Record<string, unknown>): Promise<{ status: number; body: string }>; close(): Promise<void> }>;
    };
    const quiet = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`${message}\n`) };
    const coffer = await openCoffer({ dataDir: job.dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
    return {
      send: (signed) => coffer.pipeline({ method: 'POST', path: '/', query: '', headers: headersOf(signed), body: signed.body, sourceIp: '127.0.0.1' }),
      close: () => coffer.close(),
    };
  }
  const skeleton = await openSkeleton(SNAPSHOT_DIST, job.dataDir, new Set(partsLeftOut(job.peer)));
  return {
    send: (signed) => skeleton.handle({ method: 'POST', url: '/', headers: headersOf(signed), body: signed.body, sourceIp: '127.0.0.1' }),
    close: () => skeleton.close(),
  };
}

async function child(job: Job): Promise<Result> {
  const peer = await openPeer(job);
  const signer = new Signer(DEV_KEY);
  const sign = (call: Call) => signer.sign(HOST, call.service, `${TARGET_PREFIX[call.service]}.${call.operation}`, JSON.stringify(call.payload));
  const send = async (signed: SignedCall) => {
    const response = await peer.send(signed);
    if (response.status !== 200) throw new Error(`${job.peer} answered ${response.status}: ${response.body.slice(0, 200)}`);
    return response.body;
  };
  try {
    // One ciphertext per request in flight, as in ab-in-process.ts (one blob decrypted over and over hid ~6 µs).
    const ciphertexts: string[] = [];
    for (let i = 0; i < CONCURRENCY; i++) ciphertexts.push((JSON.parse(await send(sign(encrypt(job.keyId)))) as { CiphertextBlob: string }).CiphertextBlob);
    const batches: Record<WorkloadId, SignedCall[]> = {
      'get-hot': Array.from({ length: CONCURRENCY }, () => sign(getSecretValue(0))),
      'kms-decrypt': ciphertexts.map((ciphertext) => sign(decrypt(ciphertext))),
    };
    const result: Result = {};
    for (const id of job.workloads) {
      const runFor = async (ms: number) => {
        const end = performance.now() + ms;
        let requests = 0;
        let micros = 0;
        while (performance.now() < end) {
          const before = process.cpuUsage();
          await Promise.all(batches[id].map(send));
          const used = process.cpuUsage(before);
          micros += used.user + used.system;
          requests += CONCURRENCY;
        }
        return micros / requests;
      };
      await runFor(job.ms / 3);
      result[id] = await runFor(job.ms);
    }
    return result;
  } finally {
    await peer.close();
  }
}

function runChild(job: Job): Promise<Result> {
  // With the Node flags `coffer server` runs with (bin/coffer: the young generation's size decides GC's share).
  const node = spawn('taskset', ['-c', SERVER_CPUS, process.execPath, ...cofferNodeFlags(), SELF, '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: REPO_ROOT });
  return new Promise((resolvePromise, reject) => {
    node.once('message', (message: { result?: Result; error?: string }) => (message.result ? resolvePromise(message.result) : reject(new Error(message.error))));
    node.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    node.send(job);
  });
}

const USAGE =
  'usage: node bench/dist/skeleton-in-process.js [--build DIR] [--rounds N] [--ms M] [--workloads get-hot,kms-decrypt] ' +
  `[--peers coffer,${SKELETON_PEERS.join(',')}]`;

async function parent(argv: string[]): Promise<void> {
  const options = { build: join(REPO_ROOT, 'dist'), rounds: 5, ms: 3000, workloads: [...WORKLOAD_IDS] as WorkloadId[], peers: ['coffer', ...SKELETON_PEERS] as PeerId[] };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--build') options.build = resolve(value());
    else if (argv[i] === '--rounds') options.rounds = Number(value());
    else if (argv[i] === '--ms') options.ms = Number(value());
    else if (argv[i] === '--workloads') options.workloads = value().split(',') as WorkloadId[];
    else if (argv[i] === '--peers') options.peers = value().split(',') as PeerId[];
    else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  const unknownWorkloads = options.workloads.filter((id) => !WORKLOAD_IDS.includes(id));
  if (unknownWorkloads.length > 0) throw new Error(`unknown workloads ${unknownWorkloads.join(', ')}\n${USAGE}`);
  const unknownPeers = options.peers.filter((peer) => peer !== 'coffer' && !isSkeletonPeer(peer));
  if (unknownPeers.length > 0) throw new Error(`unknown peers ${unknownPeers.join(', ')}\n${USAGE}`);
  snapshotBuild(options.build);
  const disk = mkdtempSync(join(tmpdir(), 'coffer-skeleton-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-skeleton-') : join(disk, 'scratch');
  const rows: Array<{ round: number; peer: PeerId; result: Result }> = [];
  try {
    const seeded = join(disk, 'seeded');
    const { keyId } = await seedCoffer(seeded, join(scratch, 'seed'), 200, new Signer(DEV_KEY));
    for (let round = 1; round <= options.rounds; round++) {
      for (const peer of options.peers) {
        const dataDir = join(disk, `data-${peer}-${round}`);
        // Coffer on a copy of the seeded data dir; a skeleton makes its own (an empty coffer.db beside audit.db).
        if (peer === 'coffer') cpSync(seeded, dataDir, { recursive: true });
        const result = await runChild({ peer, dataDir, keyId, ms: options.ms, workloads: options.workloads });
        rmSync(dataDir, { recursive: true, force: true });
        rows.push({ round, peer, result });
        log(`round ${round} ${peer}: ${options.workloads.map((id) => `${id} ${result[id]!.toFixed(1)} µs`).join(', ')} CPU/request (load ${readLoad()})`);
      }
    }
  } finally {
    rmSync(disk, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    removeSnapshot();
  }
  process.stdout.write(partsTable(rows, options));
}

/**
 * Each peer's median µs/request and its rounds; beside each skeleton variant, the skeleton less it round by round
 * (the part it leaves out), and beside Coffer, Coffer less the skeleton (what the pipeline does beyond the floor).
 */
function partsTable(rows: Array<{ round: number; peer: PeerId; result: Result }>, options: { rounds: number; workloads: WorkloadId[]; peers: PeerId[] }): string {
  const lines = ['| workload | peer | µs/req (median) | skeleton − peer (median of rounds) | rounds |', '|---|---|---:|---:|---|'];
  for (const id of options.workloads) {
    const of = (peer: PeerId) => rows.filter((row) => row.peer === peer).map((row) => row.result[id]!);
    const skeleton = of('skeleton');
    for (const peer of options.peers) {
      const values = of(peer);
      const differences = skeleton.length === values.length ? values.map((value, index) => skeleton[index]! - value) : [];
      const difference = peer === 'skeleton' || differences.length === 0 ? '' : median(differences).toFixed(1);
      lines.push(`| ${id} | ${peer} | ${median(values).toFixed(1)} | ${difference} | ${values.map((value) => value.toFixed(1)).join(', ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}

runAsParentOrChild('skeleton-in-process', child, parent);
