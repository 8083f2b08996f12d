/**
 * A same-run A/B of two builds without HTTP and without the load generator's noise: `node bench/dist/ab-in-process.js
 * --base DIR [--candidate DIR] [--rounds N] [--ms M] [--secrets N] [--workloads get-hot,kms-decrypt,put]`. Each round
 * runs the base and then the candidate build in a fresh child process pinned to CPU 0, on a fresh copy of one seeded
 * data dir: its openCoffer() in process, GetSecretValue of the hot secret and KMS Decrypt (and with `put`, durable
 * PutSecretValue to random secrets of the set) handed to the pipeline 64 at a time (as 64 connections would batch
 * them), and the process's CPU (all threads: the audit writer too) per request. What it leaves out is the HTTP
 * edge, the same in both builds of a change to the pipeline.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { removeSnapshot, REPO_ROOT, snapshotBuild, snapshotServerModules } from './coffer-build.js';
import { abTable, readLoad, runAsParentOrChild } from './ab-child.js';
import { log } from './log.js';
import { DEV_KEY, SERVER_CPUS } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';
import { TARGET_PREFIX } from './aws-call.js';
import { decrypt, encrypt, getSecretValue, putSecretValue } from './workloads.js';
import type { SignedCall } from './signer.js';

const WORKLOAD_IDS = ['get-hot', 'kms-decrypt', 'put'] as const;
type WorkloadId = (typeof WORKLOAD_IDS)[number];
type Job = { serverModule: string; dataDir: string; keyId: string; ms: number; secrets: number; workloads: WorkloadId[] };
type Result = Partial<Record<WorkloadId, number>>;
const HOST = 'in-process.local';
const CONCURRENCY = 64;
const SELF = fileURLToPath(import.meta.url);

/** A batch signed once and sent again and again. */
function reusing(sign: (index: number) => SignedCall): () => SignedCall[] {
  let signed: SignedCall[] | undefined;
  return () => (signed ??= Array.from({ length: CONCURRENCY }, (_, index) => sign(index)));
}

async function child(job: Job): Promise<Result> {
  const { openCoffer } = (await import(pathToFileURL(job.serverModule).href)) as {
    openCoffer(config: Record<string, unknown>): Promise<{ pipeline(request: Record<string, unknown>): Promise<{ status: number; body: string }>; close(): Promise<void> }>;
  };
  const quiet = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`${message}\n`) };
  const coffer = await openCoffer({ dataDir: job.dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
  const signer = new Signer(DEV_KEY);
  const sign = (made: { service: string; operation: string; payload: unknown }) =>
    signer.sign(HOST, made.service, `${TARGET_PREFIX[made.service as keyof typeof TARGET_PREFIX]}.${made.operation}`, JSON.stringify(made.payload));
  const send = async ({ headers, body }: SignedCall) => {
    const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body, sourceIp: '127.0.0.1' });
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${response.body.slice(0, 200)}`);
    return response.body;
  };
  try {
    // One ciphertext per request in flight, as the HTTP workload draws from many: checking and decrypting one string
    // over and over trains the CPU's branch predictor on it, and hid ~6 µs of the blob check (bench/RESULTS.md).
    const ciphertexts: string[] = [];
    for (let i = 0; i < CONCURRENCY; i++) ciphertexts.push((JSON.parse(await send(sign(encrypt(job.keyId)))) as { CiphertextBlob: string }).CiphertextBlob);
    // Each batch of 64 calls: the same signed calls for the reads; for puts a new batch (a new ClientRequestToken each).
    const batches: Record<WorkloadId, () => SignedCall[]> = {
      'get-hot': reusing(() => sign(getSecretValue(0))),
      'kms-decrypt': reusing((index) => sign(decrypt(ciphertexts[index]!))),
      put: () => Array.from({ length: CONCURRENCY }, () => sign(putSecretValue(Math.floor(Math.random() * job.secrets)))),
    };
    const result: Result = {};
    for (const id of job.workloads) {
      const runFor = async (ms: number) => {
        const end = performance.now() + ms;
        let requests = 0;
        let micros = 0;
        while (performance.now() < end) {
          // Signed before its CPU is counted (the client's cost), as the load generator's pool is.
          const signed = batches[id]();
          const before = process.cpuUsage();
          await Promise.all(signed.map(send));
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
    await coffer.close();
  }
}

function runChild(job: Job): Promise<Result> {
  const node = spawn('taskset', ['-c', SERVER_CPUS, process.execPath, SELF, '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: REPO_ROOT });
  return new Promise((resolvePromise, reject) => {
    node.once('message', (message: { result?: Result; error?: string }) => (message.result ? resolvePromise(message.result) : reject(new Error(message.error))));
    node.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    node.send(job);
  });
}

async function parent(argv: string[]): Promise<void> {
  const options = { base: '', candidate: join(REPO_ROOT, 'dist'), rounds: 5, ms: 4000, secrets: 200, workloads: ['get-hot', 'kms-decrypt'] as WorkloadId[] };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--base') options.base = resolve(value());
    else if (argv[i] === '--candidate') options.candidate = resolve(value());
    else if (argv[i] === '--rounds') options.rounds = Number(value());
    else if (argv[i] === '--ms') options.ms = Number(value());
    else if (argv[i] === '--secrets') options.secrets = Number(value());
    else if (argv[i] === '--workloads') options.workloads = value().split(',') as WorkloadId[];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.base) throw new Error('usage: node bench/dist/ab-in-process.js --base DIR [--candidate DIR] [--rounds N] [--ms M] [--secrets N] [--workloads get-hot,kms-decrypt,put]');
  const unknown = options.workloads.filter((id) => !WORKLOAD_IDS.includes(id));
  if (unknown.length > 0) throw new Error(`unknown workloads ${unknown.join(', ')} (known: ${WORKLOAD_IDS.join(', ')})`);
  snapshotBuild(options.candidate);
  const builds = snapshotServerModules(options);
  const disk = mkdtempSync(join(tmpdir(), 'coffer-ab-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-ab-') : join(disk, 'scratch');
  const rows: Array<{ round: number; build: string; result: Result }> = [];
  try {
    const seeded = join(disk, 'seeded');
    const { keyId } = await seedCoffer(seeded, join(scratch, 'seed'), options.secrets, new Signer(DEV_KEY));
    for (let round = 1; round <= options.rounds; round++) {
      for (const [build, serverModule] of Object.entries(builds)) {
        const dataDir = join(disk, `data-${build}-${round}`);
        cpSync(seeded, dataDir, { recursive: true });
        const result = await runChild({ serverModule, dataDir, keyId, ms: options.ms, secrets: options.secrets, workloads: options.workloads });
        rmSync(dataDir, { recursive: true, force: true });
        rows.push({ round, build, result });
        log(`round ${round} ${build}: ${options.workloads.map((id) => `${id} ${result[id]!.toFixed(1)} µs`).join(', ')} CPU/request (load ${readLoad()})`);
      }
    }
  } finally {
    rmSync(disk, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    removeSnapshot();
  }
  const of = (build: string, id: WorkloadId) => rows.filter((row) => row.build === build).map((row) => row.result[id]!);
  const measures = options.workloads.map((id) => ({ label: id, base: of('base', id), candidate: of('candidate', id) }));
  process.stdout.write(abTable({ measure: 'workload', unit: 'µs/req' }, measures));
}

runAsParentOrChild('ab-in-process', child, parent);
