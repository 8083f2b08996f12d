/**
 * The audit event's own cost, same-run A/B of two builds: `node bench/dist/audit-handoff.js --base DIR/dist
 * [--candidate DIR/dist] [--rounds N] [--ms M]`. Each round runs the base and then the candidate in a fresh child
 * process pinned to CPU 0 (as the server is) on a fresh data dir: the SQLite store with its audit writer thread,
 * and the recorder's `record` of a KMS Decrypt call (the pipeline's one audit call per request) 64 at a time.
 * Reported per event: the process's CPU (all threads: the writer's seal, INSERT and commit too) and the main
 * thread's alone (process.threadCpuUsage), which is what a request's thread pays for the hand-off.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { abTable, readLoad, runAsParentOrChild } from './ab-child.js';
import { log } from './log.js';
import { SERVER_CPUS } from './peers.js';

type Job = { dist: string; dataDir: string; ms: number };
type Result = { processMicros: number; mainMicros: number; events: number };
const CONCURRENCY = 64;
const SELF = fileURLToPath(import.meta.url);

type Recorder = { record(call: Record<string, unknown>): Promise<unknown> };

async function child(job: Job): Promise<Result> {
  const { SqliteStore } = (await import(pathToFileURL(join(job.dist, 'store/sqlite/index.js')).href)) as {
    SqliteStore: new (path: string) => { migrate(): void; close(): void };
  };
  const { createAuditRecorder } = (await import(pathToFileURL(join(job.dist, 'audit/index.js')).href)) as {
    createAuditRecorder(deps: Record<string, unknown>): Recorder;
  };
  const store = new SqliteStore(join(job.dataDir, 'coffer.db'));
  store.migrate();
  const quiet = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`${message}\n`) };
  const recorder = createAuditRecorder({ store, logger: quiet, failClosed: false });
  const principal = { accountId: '000000000000', arn: 'arn:aws:iam::000000000000:user/bench', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' };
  const blob = Buffer.alloc(180, 7).toString('base64');
  const call = (n: number) => ({
    requestId: `7f1c2e3a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    time: new Date(),
    service: 'kms',
    operation: 'Decrypt',
    principal,
    region: 'us-east-1',
    sourceIp: '127.0.0.1',
    userAgent: 'aws-sdk-js/3.0.0 ua/2.1 os/linux lang/js md/nodejs#24.0.0 api/kms#3.0.0',
    input: { CiphertextBlob: blob },
    output: { KeyId: 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab', Plaintext: 'x', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    resources: [{ ARN: 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab', accountId: '000000000000' }],
  });
  let n = 0;
  const runFor = async (ms: number): Promise<Result> => {
    const end = performance.now() + ms;
    let events = 0;
    const before = process.cpuUsage();
    const mainBefore = process.threadCpuUsage();
    while (performance.now() < end) {
      const calls = Array.from({ length: CONCURRENCY }, () => recorder.record(call(n++)));
      const records = await Promise.all(calls);
      if (records.some((record) => record === undefined)) throw new Error('an event was not appended');
      events += CONCURRENCY;
    }
    const used = process.cpuUsage(before);
    const main = process.threadCpuUsage(mainBefore);
    return { processMicros: (used.user + used.system) / events, mainMicros: (main.user + main.system) / events, events };
  };
  try {
    await runFor(job.ms / 3);
    return await runFor(job.ms);
  } finally {
    store.close();
  }
}

function runChild(job: Job): Promise<Result> {
  const node = spawn('taskset', ['-c', SERVER_CPUS, process.execPath, SELF, '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolvePromise, reject) => {
    node.once('message', (message: { result?: Result; error?: string }) => (message.result ? resolvePromise(message.result) : reject(new Error(message.error))));
    node.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    node.send(job);
  });
}

async function parent(argv: string[]): Promise<void> {
  const options = { base: '', candidate: resolve(fileURLToPath(new URL('../../dist', import.meta.url))), rounds: 5, ms: 3000 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--base') options.base = resolve(value());
    else if (argv[i] === '--candidate') options.candidate = resolve(value());
    else if (argv[i] === '--rounds') options.rounds = Number(value());
    else if (argv[i] === '--ms') options.ms = Number(value());
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.base) throw new Error('usage: node bench/dist/audit-handoff.js --base DIR/dist [--candidate DIR/dist] [--rounds N] [--ms M]');
  const disk = mkdtempSync(join(tmpdir(), 'coffer-audit-ab-'));
  const rows: Array<{ build: string; result: Result }> = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const [build, dist] of [['base', options.base], ['candidate', options.candidate]] as const) {
        const dataDir = mkdtempSync(join(disk, `${build}-${round}-`));
        const result = await runChild({ dist, dataDir, ms: options.ms });
        rmSync(dataDir, { recursive: true, force: true });
        rows.push({ build, result });
        log(`round ${round} ${build}: ${result.processMicros.toFixed(1)} µs process CPU, ${result.mainMicros.toFixed(1)} µs main thread per event (${result.events} events, load ${readLoad()})`);
      }
    }
  } finally {
    rmSync(disk, { recursive: true, force: true });
  }
  const of = (build: string, key: 'processMicros' | 'mainMicros') => rows.filter((row) => row.build === build).map((row) => row.result[key]);
  const measures = ([['process CPU (all threads)', 'processMicros'], ['main thread CPU', 'mainMicros']] as const).map(([label, key]) => ({
    label,
    base: of('base', key),
    candidate: of('candidate', key),
  }));
  process.stdout.write(abTable({ measure: 'per event', unit: 'µs' }, measures));
}

runAsParentOrChild('audit-handoff', child, parent);
