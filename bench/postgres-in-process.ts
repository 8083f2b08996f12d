/**
 * A same-run A/B of two builds on one PostgreSQL node without HTTP and without the load generator:
 * `node bench/dist/postgres-in-process.js --base DIR [--candidate DIR] [--rounds N] [--ms M] [--secrets N]
 * [--workloads get-hot,get-random] [--pool-size N]`. One database, seeded once through the candidate; each round
 * runs the base and then the candidate in a fresh child process pinned to CPU 0, its openCoffer() in process on that
 * database (a fresh data dir, the same root key), with GetSecretValue handed to the pipeline 64 at a time (as 64
 * connections would batch them). Per request: the node's CPU (all its threads), the CPU of the PostgreSQL backends
 * serving the database (read from /proc: needs root or the postgres user), and the node's throughput on its one
 * core. Before get-random every secret of the set is read once (its LastAccessedDate is then today's, so the random
 * reads do not write). What it leaves out is the HTTP edge, the same in both builds of a store change. Each round
 * also runs the candidate on SQLite (the same corpus, seeded once, a fresh copy per round), so that PostgreSQL's
 * cost can be put against SQLite's in the same run: the share is SQLite's CPU per request (all its threads: the
 * audit writer's too) ÷ the PostgreSQL node's plus its backends'.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { removeSnapshot, REPO_ROOT, snapshotBuild, snapshotServerModules } from './coffer-build.js';
import { abTable, median, readLoad, runAsParentOrChild } from './ab-child.js';
import { log } from './log.js';
import { DEV_KEY, SERVER_CPUS } from './peers.js';
import { createBenchDatabase, cpuSpent } from './postgres-db.js';
import { processCpuMicros } from './proc-stats.js';
import { seedCoffer, seedPostgres } from './seed.js';
import { Signer } from './signer.js';
import { TARGET_PREFIX } from './aws-call.js';
import { getSecretValue } from './workloads.js';
import type { SignedCall } from './signer.js';

const WORKLOAD_IDS = ['get-hot', 'get-random'] as const;
type WorkloadId = (typeof WORKLOAD_IDS)[number];
type Job = { serverModule: string; dataDir: string; /** absent: the node runs on SQLite in dataDir */ url?: string; rootKeyBase64: string; poolSize: number; ms: number; secrets: number; workloads: WorkloadId[] };
/** Per workload: the node's and the backends' CPU per request (µs), and requests per second. */
type Figures = { nodeMicros: number; databaseMicros: number; perSecond: number };
type Result = Partial<Record<WorkloadId, Figures>>;
const HOST = 'in-process.local';
const CONCURRENCY = 64;
const SELF = fileURLToPath(import.meta.url);

async function child(job: Job): Promise<Result> {
  const { openCoffer } = (await import(pathToFileURL(job.serverModule).href)) as {
    openCoffer(config: Record<string, unknown>): Promise<{ pipeline(request: Record<string, unknown>): Promise<{ status: number; body: string }>; close(): Promise<void> }>;
  };
  const quiet = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`${message}\n`) };
  const url = job.url;
  const coffer = await openCoffer({
    dataDir: job.dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet,
    ...(url && { postgres: { url, poolSize: job.poolSize }, rootKeyBase64: job.rootKeyBase64 }),
  });
  const admin = url ? postgres(url, { max: 1, onnotice: () => undefined }) : undefined;
  const backendCpu = async () => {
    if (!admin || !url) return new Map<number, number>();
    const pids = await admin.unsafe('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [new URL(url).pathname.slice(1)]);
    return new Map(pids.map((row) => [Number(row.pid), processCpuMicros(Number(row.pid))]));
  };
  const signer = new Signer(DEV_KEY);
  const signed = new Map<number, SignedCall>();
  const sign = (index: number) => {
    const made = getSecretValue(index);
    let call = signed.get(index);
    if (!call) signed.set(index, (call = signer.sign(HOST, made.service, `${TARGET_PREFIX.secretsmanager}.${made.operation}`, JSON.stringify(made.payload))));
    return call;
  };
  const send = async ({ headers, body }: SignedCall) => {
    const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...headers, 'content-length': String(body.length) }, body, sourceIp: '127.0.0.1' });
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${response.body.slice(0, 200)}`);
  };
  const pick: Record<WorkloadId, () => number> = { 'get-hot': () => 0, 'get-random': () => Math.floor(Math.random() * job.secrets) };
  try {
    // Every secret read once: its LastAccessedDate is today's, and its signed call is made before any CPU is counted.
    for (let first = 0; first < job.secrets; first += CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, job.secrets - first) }, (_, offset) => send(sign(first + offset))));
    }
    const result: Result = {};
    for (const id of job.workloads) {
      const runFor = async (ms: number): Promise<Figures> => {
        const backendsBefore = await backendCpu();
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        let requests = 0;
        while (performance.now() < started + ms) {
          await Promise.all(Array.from({ length: CONCURRENCY }, () => send(sign(pick[id]()))));
          requests += CONCURRENCY;
        }
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        const databaseMicros = cpuSpent(backendsBefore, await backendCpu());
        return { nodeMicros: (cpu.user + cpu.system) / requests, databaseMicros: databaseMicros / requests, perSecond: requests / seconds };
      };
      await runFor(job.ms / 3);
      result[id] = await runFor(job.ms);
    }
    return result;
  } finally {
    await coffer.close();
    await admin?.end({ timeout: 5 });
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
  const options = { base: '', candidate: join(REPO_ROOT, 'dist'), rounds: 5, ms: 4000, secrets: 2000, poolSize: 10, workloads: ['get-hot', 'get-random'] as WorkloadId[] };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--base') options.base = resolve(value());
    else if (argv[i] === '--candidate') options.candidate = resolve(value());
    else if (argv[i] === '--rounds') options.rounds = Number(value());
    else if (argv[i] === '--ms') options.ms = Number(value());
    else if (argv[i] === '--secrets') options.secrets = Number(value());
    else if (argv[i] === '--pool-size') options.poolSize = Number(value());
    else if (argv[i] === '--workloads') options.workloads = value().split(',') as WorkloadId[];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.base) throw new Error('usage: node bench/dist/postgres-in-process.js --base DIR [--candidate DIR] [--rounds N] [--ms M] [--secrets N] [--pool-size N] [--workloads get-hot,get-random]');
  const unknown = options.workloads.filter((id) => !WORKLOAD_IDS.includes(id));
  if (unknown.length > 0) throw new Error(`unknown workloads ${unknown.join(', ')} (known: ${WORKLOAD_IDS.join(', ')})`);
  snapshotBuild(options.candidate);
  const builds = snapshotServerModules(options);
  const disk = mkdtempSync(join(tmpdir(), 'coffer-pg-ab-'));
  const database = await createBenchDatabase();
  const rows: Array<{ round: number; build: string; result: Result }> = [];
  try {
    const rootKeyBase64 = randomBytes(32).toString('base64');
    log(`seeding ${database.name} with ${options.secrets} secrets`);
    await seedPostgres(database.url, rootKeyBase64, join(disk, 'seed'), options.secrets, new Signer(DEV_KEY));
    await database.analyze();
    const sqliteSeeded = join(disk, 'sqlite-seeded');
    await seedCoffer(sqliteSeeded, join(disk, 'sqlite-scratch'), options.secrets, new Signer(DEV_KEY));
    const targets = { ...builds, sqlite: builds.candidate };
    for (let round = 1; round <= options.rounds; round++) {
      for (const [build, serverModule] of Object.entries(targets)) {
        const dataDir = join(disk, `data-${build}-${round}`);
        if (build === 'sqlite') cpSync(sqliteSeeded, dataDir, { recursive: true });
        const url = build === 'sqlite' ? undefined : database.url;
        const result = await runChild({ serverModule, dataDir, url, rootKeyBase64, poolSize: options.poolSize, ms: options.ms, secrets: options.secrets, workloads: options.workloads });
        rmSync(dataDir, { recursive: true, force: true });
        rows.push({ round, build, result });
        const shown = options.workloads.map((id) => {
          const figures = result[id]!;
          return `${id} node ${figures.nodeMicros.toFixed(1)} + postgres ${figures.databaseMicros.toFixed(1)} µs, ${figures.perSecond.toFixed(0)}/s`;
        });
        log(`round ${round} ${build}: ${shown.join('; ')} (load ${readLoad()})`);
      }
    }
  } finally {
    await database.drop();
    rmSync(disk, { recursive: true, force: true });
    removeSnapshot();
  }
  const of = (build: string, id: WorkloadId, figure: keyof Figures) => rows.filter((row) => row.build === build).map((row) => row.result[id]![figure]);
  const measures = (figure: keyof Figures) => options.workloads.map((id) => ({ label: `${id} ${figure}`, base: of('base', id, figure), candidate: of('candidate', id, figure) }));
  process.stdout.write(abTable({ measure: 'workload', unit: 'µs/req' }, [...measures('nodeMicros'), ...measures('databaseMicros')]));
  process.stdout.write(abTable({ measure: 'workload', unit: 'req/s' }, measures('perSecond')));
  // SQLite's CPU per request ÷ PostgreSQL's (node + backends), round by round: the share of SQLite's throughput per unit of CPU.
  const total = (build: string, id: WorkloadId) => rows.filter((row) => row.build === build).map((row) => row.result[id]!.nodeMicros + row.result[id]!.databaseMicros);
  const shares = options.workloads.map((id) => {
    const sqlite = total('sqlite', id);
    const of = (build: string) => total(build, id).map((micros, index) => (100 * sqlite[index]!) / micros);
    return { label: `${id} % of SQLite per unit of CPU`, base: of('base'), candidate: of('candidate') };
  });
  process.stdout.write(abTable({ measure: 'share', unit: '%' }, shares));
  process.stdout.write(`SQLite CPU µs/req (median): ${options.workloads.map((id) => `${id} ${median(total('sqlite', id)).toFixed(1)}`).join(', ')}\n`);
}

runAsParentOrChild('postgres-in-process', child, parent);
