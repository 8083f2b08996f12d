/**
 * A same-run A/B of two builds' request thread over HTTP, for a machine others are loading: `node
 * bench/dist/ab-one-process.js --base DIR [--candidate DIR] [--turns N] [--requests N] [--workloads
 * get-hot,kms-decrypt] [--secrets N]`. One server process (pinned to CPU 0, with the candidate checkout's
 * bin/coffer Node flags) runs both builds' startServer() side by side, each on its own copy of one seeded data
 * dir, metrics on as `coffer server` has them; a load process pinned to CPU 1 sends each turn a fixed number of
 * requests (64 connections) to one build, the builds alternating turn by turn (the order flips every turn). Each
 * turn's CPU is read in the server process itself: its main thread (`process.threadCpuUsage`: the request
 * thread, which the HTTP edge, SigV4 and the pipeline run on) and all its threads (the audit writers too). Turns
 * of a second or two put the drifting load of other processes on both builds alike, which whole-server rounds of
 * ab-run do not; the price is a shared heap (a build's garbage may be collected in the other's turn, which pulls
 * the ratio toward 1) and no comparison of Node flags. Prints the medians and the median of the per-turn ratios.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './ab-child.js';
import { TARGET_PREFIX } from './aws-call.js';
import { cofferNodeFlags, removeSnapshot, REPO_ROOT, snapshotBuild, snapshotServerModules } from './coffer-build.js';
import { runLoadSpread } from './load.js';
import { log } from './log.js';
import { DEV_KEY, LOAD_CPUS, SERVER_CPUS } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';
import { KMS_CONTEXT, WORKLOADS, type RequestSource } from './workloads.js';
import type { Fixture } from './fixtures.js';

const SELF = fileURLToPath(import.meta.url);
const BUILDS = ['base', 'candidate'] as const;
type Build = (typeof BUILDS)[number];
type Job = { modules: Record<Build, string>; seeded: string; secrets: number; turns: number; requests: number; workloads: string[] };
type Turn = { build: Build; workload: string; mainMicros: number; allMicros: number; errors: number };
type LoadOrder = { url: string; workload: string; requests: number } | { ciphertexts: string[]; secrets: number };
const quiet = { debug() {}, info() {}, warn() {}, error: (message: string) => process.stderr.write(`${message}\n`) };

type Server = { url: string; close(): Promise<void> };
type ServerModule = {
  openCoffer(config: Record<string, unknown>): Promise<{ pipeline(request: Record<string, unknown>): Promise<{ status: number; body: string }>; close(): Promise<void> }>;
  startServer(config: Record<string, unknown>): Promise<{ http: { url: string }; close(): Promise<void> }>;
};

/** The server process: both builds up, the turns, each turn's CPU per answered request. */
async function serve(job: Job): Promise<Turn[]> {
  const root = mkdtempSync(join(tmpdir(), 'coffer-ab1-'));
  const load = spawnPinned(LOAD_CPUS, [SELF, '--load']);
  try {
    const base = (await import(pathToFileURL(job.modules.base).href)) as ServerModule;
    const ciphertexts = await makeCiphertexts(base, job.seeded);
    const servers = {} as Record<Build, Server>;
    for (const build of BUILDS) {
      const dataDir = join(root, build);
      cpSync(job.seeded, dataDir, { recursive: true });
      const module = build === 'base' ? base : ((await import(pathToFileURL(job.modules[build]).href)) as ServerModule);
      const started = await module.startServer({ dataDir, devMode: true, host: '127.0.0.1', port: 0, logger: quiet, metrics: {}, maintenanceIntervalMs: 0 });
      servers[build] = { url: started.http.url, close: () => started.close() };
    }
    await ask(load, { ciphertexts, secrets: job.secrets });
    const turn = async (build: Build, workload: string): Promise<Turn> => {
      const mainBefore = process.threadCpuUsage();
      const allBefore = process.cpuUsage();
      const { ok, errors } = (await ask(load, { url: servers[build].url, workload, requests: job.requests })) as { ok: number; errors: number };
      const main = process.threadCpuUsage(mainBefore);
      const all = process.cpuUsage(allBefore);
      return { build, workload, mainMicros: (main.user + main.system) / ok, allMicros: (all.user + all.system) / ok, errors };
    };
    for (const workload of job.workloads) for (const build of BUILDS) await turn(build, workload); // warm-up
    const turns: Turn[] = [];
    for (let index = 0; index < job.turns; index++) {
      for (const workload of job.workloads) {
        for (const build of index % 2 === 0 ? BUILDS : [...BUILDS].reverse()) turns.push(await turn(build, workload));
      }
    }
    for (const server of Object.values(servers)) await server.close();
    return turns;
  } finally {
    load.kill();
    rmSync(root, { recursive: true, force: true });
  }
}

/** A key and 64 Decrypt ciphertexts made once in the seeded dir, so both builds' copies hold them. */
async function makeCiphertexts(module: ServerModule, seeded: string): Promise<string[]> {
  const coffer = await module.openCoffer({ dataDir: seeded, devMode: true, maintenanceIntervalMs: 0, logger: quiet });
  const signer = new Signer(DEV_KEY);
  const call = async (operation: string, payload: unknown) => {
    const signed = signer.sign('ab.local', 'kms', `${TARGET_PREFIX.kms}.${operation}`, JSON.stringify(payload));
    const response = await coffer.pipeline({ method: 'POST', path: '/', query: '', headers: { ...signed.headers, 'content-length': String(signed.body.length) }, body: signed.body, sourceIp: '127.0.0.1' });
    if (response.status !== 200) throw new Error(`${operation} answered ${response.status}: ${response.body.slice(0, 200)}`);
    return JSON.parse(response.body) as Record<string, any>;
  };
  try {
    const keyId = (await call('CreateKey', { Description: 'ab-one-process' })).KeyMetadata.KeyId as string;
    const ciphertexts: string[] = [];
    for (let i = 0; i < 64; i++) {
      ciphertexts.push((await call('Encrypt', { KeyId: keyId, Plaintext: Buffer.alloc(1024, i).toString('base64'), EncryptionContext: KMS_CONTEXT })).CiphertextBlob as string);
    }
    return ciphertexts;
  } finally {
    await coffer.close();
  }
}

/** The load process: each order is one run of `requests` requests at 64 connections. */
function generateLoad(): void {
  const signer = new Signer(DEV_KEY);
  let fixture: Fixture | undefined;
  // Signed again each minute: SigV4 refuses a signature more than 5 minutes old.
  const sources = new Map<string, { signedAtMs: number; source: RequestSource }>();
  process.on('message', (order: LoadOrder) => {
    void (async () => {
      if ('ciphertexts' in order) {
        fixture = { corpusSize: order.secrets, randomSetSize: order.secrets, keyId: '', ciphertexts: order.ciphertexts, listTokens: [undefined] };
        return { ok: 0, errors: 0 };
      }
      const key = `${order.url} ${order.workload}`;
      let entry = sources.get(key);
      if (!entry || Date.now() - entry.signedAtMs > 60_000) {
        const workload = WORKLOADS.find((w) => w.id === order.workload);
        if (!workload || !fixture) throw new Error(`unknown workload ${order.workload}`);
        entry = { signedAtMs: Date.now(), source: workload.source(new URL(order.url).host, signer, fixture) };
        sources.set(key, entry);
      }
      const measured = await runLoadSpread([{ url: order.url, source: entry.source }], () => 0, { connections: 64, durationSeconds: 600, timeoutSeconds: 10, amount: order.requests });
      return { ok: measured.ok, errors: measured.errors };
    })().then(
      (answer) => process.send!(answer),
      (error: unknown) => process.send!({ error: error instanceof Error ? error.stack : String(error) }),
    );
  });
}

function spawnPinned(cpus: string, args: string[], nodeFlags: string[] = []): ChildProcess {
  return spawn('taskset', ['-c', cpus, process.execPath, ...nodeFlags, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: REPO_ROOT });
}

function ask(child: ChildProcess, message: unknown): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    child.once('message', (answer: { error?: string }) => (answer.error ? reject(new Error(answer.error)) : resolvePromise(answer)));
    child.send(message as object);
  });
}

async function parent(argv: string[]): Promise<void> {
  const options = { base: '', candidate: join(REPO_ROOT, 'dist'), turns: 30, requests: 2000, workloads: ['get-hot', 'kms-decrypt'], secrets: 200 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--base') options.base = resolve(value());
    else if (argv[i] === '--candidate') options.candidate = resolve(value());
    else if (argv[i] === '--turns') options.turns = Number(value());
    else if (argv[i] === '--requests') options.requests = Number(value());
    else if (argv[i] === '--workloads') options.workloads = value().split(',');
    else if (argv[i] === '--secrets') options.secrets = Number(value());
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.base) throw new Error('usage: node bench/dist/ab-one-process.js --base DIR [--candidate DIR] [--turns N] [--requests N] [--workloads a,b] [--secrets N]');
  snapshotBuild(options.candidate); // seeding opens the candidate in-process
  const modules = snapshotServerModules(options);
  const disk = mkdtempSync(join(tmpdir(), 'coffer-ab1-seed-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-ab1-') : join(disk, 'scratch');
  try {
    const seeded = join(disk, 'seeded');
    await seedCoffer(seeded, join(scratch, 'seed'), options.secrets, new Signer(DEV_KEY));
    const server = spawnPinned(SERVER_CPUS, [SELF, '--server'], cofferNodeFlags());
    const turns = (await ask(server, { modules, seeded, secrets: options.secrets, turns: options.turns, requests: options.requests, workloads: options.workloads } satisfies Job)) as Turn[];
    server.kill();
    process.stdout.write(report(turns, options.workloads));
  } finally {
    rmSync(disk, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    removeSnapshot();
  }
}

function report(turns: Turn[], workloads: string[]): string {
  const lines = ['| workload | thread(s) | base µs/req (median) | candidate µs/req (median) | candidate/base: median of turn ratios (quartiles) | turns with errors |', '|---|---|---:|---:|---:|---:|'];
  for (const workload of workloads) {
    const of = (build: Build) => turns.filter((turn) => turn.workload === workload && turn.build === build);
    const [base, candidate] = [of('base'), of('candidate')];
    for (const measure of ['mainMicros', 'allMicros'] as const) {
      const ratios = candidate.map((turn, index) => turn[measure] / base[index]![measure]).filter(Number.isFinite).sort((a, b) => a - b);
      const quartile = (q: number) => ratios[Math.floor(q * (ratios.length - 1))]!.toFixed(3);
      lines.push(
        `| ${workload} | ${measure === 'mainMicros' ? 'request thread' : 'all'} | ${median(base.map((turn) => turn[measure])).toFixed(1)} | ${median(candidate.map((turn) => turn[measure])).toFixed(1)} | ${median(ratios).toFixed(3)} (${quartile(0.25)}–${quartile(0.75)}) | ${[...base, ...candidate].filter((turn) => turn.errors > 0).length} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

if (process.argv[2] === '--load') generateLoad();
else if (process.argv[2] === '--server') {
  process.once('message', (job: Job) => {
    serve(job).then(
      (turns) => process.send!(turns),
      (error: unknown) => process.send!({ error: error instanceof Error ? error.stack : String(error) }),
    );
  });
} else {
  parent(process.argv.slice(2)).catch((error: unknown) => {
    log(`ab-one-process failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  });
}
