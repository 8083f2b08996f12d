/**
 * The servers measured side by side, each a child process of the bench so its CPU time and memory can be read
 * from /proc: Coffer (`coffer server` from the build snapshot, see coffer-build.ts), moto_server, a bare
 * node:http server that answers every request with a fixed body (the ceiling of this machine under the same load
 * generator), and the skeleton (skeleton-server.ts: only the work no call may drop, with the snapshot's code; the
 * floor), whole or with one part left out (skeleton-parts.ts).
 * Every child started here is tracked and killed when the bench exits, however it exits.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { cofferMain, cofferNodeFlags, REPO_ROOT, SNAPSHOT_DIST } from './coffer-build.js';
import { treeCpuMicros, treeMemory, type Memory } from './proc-stats.js';
import { partsLeftOut, SKELETON_PEERS, type SkeletonPeerName } from './skeleton-parts.js';

export type PeerName = 'coffer' | 'moto' | 'bare' | SkeletonPeerName;
/** Every peer a run can name (--peers), in the order a round runs them. */
export const PEER_NAMES: readonly PeerName[] = ['coffer', 'moto', ...SKELETON_PEERS, 'bare'];

export type Peer = {
  name: PeerName;
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, the Host header that is signed. */
  host: string;
  port: number;
  pid: number;
  /** performance.now() when the process was spawned. */
  startedAt: number;
  /** Milliseconds from spawn to the first answered GET /health (moto: GET /moto-api/, bare: any request). */
  healthAfterMs: number;
  cpuMicros(): number;
  memory(): Memory;
  /** Bare server only: the size of the body it answers with from now on. */
  setBodyBytes(bytes: number): Promise<void>;
  stop(): Promise<void>;
};

/** The key `--dev` mode accepts as the administrator; every peer is signed with it. */
export const DEV_KEY = { accessKeyId: 'test', secretAccessKey: 'test' };

/** With --pin (and in profiles): the servers run on CPU 0, the bench (load generator) on CPU 1. */
export const SERVER_CPUS = '0';
export const LOAD_CPUS = '1';

const BARE_SERVER = fileURLToPath(new URL('./bare-server.js', import.meta.url));
const SKELETON_SERVER = fileURLToPath(new URL('./skeleton-server.js', import.meta.url));

const running = new Set<ChildProcess>();

/** Kills every child still running (used on exit paths; stop() is the orderly way). */
export function killAllPeers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
process.once('exit', killAllPeers);

export type StartOptions = {
  /** Pin the server to these CPUs (taskset list, e.g. "0"); unpinned when undefined. */
  cpus?: string;
};

export type CofferOptions = StartOptions & {
  dataDir: string;
  nodeArgs?: string[];
  workers?: number;
  /** More `coffer server` flags, e.g. ['--store', url, '--pool-size', '20'] for a PostgreSQL node. */
  serverArgs?: string[];
  /** Environment set for the server on top of the cleaned one (COFFER_ROOT_KEY for nodes sharing a database). */
  env?: Record<string, string>;
  /** The CLI entry to run: the snapshot's (cofferMain()) unless given, e.g. a compared build's. */
  main?: string;
  /** Node flags in place of this checkout's bin/coffer's (cofferNodeFlags()), e.g. a compared build's own. */
  nodeFlags?: string[];
  /** A file for the server's stdout (V8's --trace-gc lines, say); discarded when undefined. */
  stdoutFile?: string;
};

export async function startCoffer(options: CofferOptions): Promise<Peer> {
  const port = await freePort();
  const startedAt = performance.now();
  const server = [options.main ?? cofferMain(), 'server', '--host', '127.0.0.1', '--port', String(port), '--data-dir', options.dataDir, '--dev', ...(options.serverArgs ?? [])];
  const workers = options.workers ?? 1;
  // `--workers` only above 1, so that a build from before cluster mode (--build DIR) still runs as one process.
  const args = [...(options.nodeFlags ?? cofferNodeFlags()), ...(options.nodeArgs ?? []), ...server, ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const env = { ...cleanEnv(), ...options.env };
  const stdout = options.stdoutFile === undefined ? 'ignore' : openSync(options.stdoutFile, 'a');
  const child = track(spawn(...pinned(options.cpus, process.execPath, args), { cwd: REPO_ROOT, env, stdio: ['ignore', stdout, 'pipe'] }));
  const healthAfterMs = (await waitForHttp(child, port, '/health')) - startedAt;
  return peer('coffer', child, port, startedAt, healthAfterMs);
}

export async function startMoto(options: StartOptions = {}): Promise<Peer> {
  const port = await freePort();
  const startedAt = performance.now();
  const child = track(spawn(...pinned(options.cpus, motoServerPath(), ['-H', '127.0.0.1', '-p', String(port)]), { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
  const healthAfterMs = (await waitForHttp(child, port, '/moto-api/')) - startedAt;
  return peer('moto', child, port, startedAt, healthAfterMs);
}

export async function startBare(options: StartOptions = {}): Promise<Peer> {
  const port = await freePort();
  const startedAt = performance.now();
  const [command, args] = pinned(options.cpus, process.execPath, [BARE_SERVER, String(port)]);
  const child = track(spawn(command, args, { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
  const healthAfterMs = (await waitForHttp(child, port, '/')) - startedAt;
  return peer('bare', child, port, startedAt, healthAfterMs);
}

export type SkeletonOptions = StartOptions & {
  name: SkeletonPeerName;
  /** Where its coffer.db (left empty) and audit.db go: a directory of its own on the disk Coffer's data dir is on. */
  dataDir: string;
};

/** The skeleton (skeleton-server.ts) on the snapshot's code, with the Node flags Coffer runs with (bin/coffer). */
export async function startSkeleton(options: SkeletonOptions): Promise<Peer> {
  const port = await freePort();
  const startedAt = performance.now();
  const without = partsLeftOut(options.name).join(',');
  const args = [...cofferNodeFlags(), SKELETON_SERVER, String(port), SNAPSHOT_DIST, options.dataDir, without];
  const child = track(spawn(...pinned(options.cpus, process.execPath, args), { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
  const healthAfterMs = (await waitForHttp(child, port, '/')) - startedAt;
  return peer(options.name, child, port, startedAt, healthAfterMs);
}

function peer(name: PeerName, child: ChildProcess, port: number, startedAt: number, healthAfterMs: number): Peer {
  const pid = child.pid!;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    pid,
    startedAt,
    healthAfterMs,
    cpuMicros: () => treeCpuMicros(pid),
    memory: () => treeMemory(pid),
    async setBodyBytes(bytes) {
      if (name !== 'bare') throw new Error('only the bare server takes a body size');
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.send({ bodyBytes: bytes }, (error) => error && reject(error));
      });
    },
    stop: () => stopChild(child),
  };
}

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    running.delete(child);
    if (!(child as { stopping?: boolean }).stopping) {
      process.stderr.write(`bench: child ${child.spawnfile} exited early (code ${code}, signal ${signal})\n${stderr}\n`);
    }
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  (child as { stopping?: boolean }).stopping = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Polls GET `path` every 2 ms until any HTTP answer; returns performance.now() of that answer. */
async function waitForHttp(child: ChildProcess, port: number, path: string, timeoutMs = 60_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${child.spawnfile} exited before answering`);
    if (await answers(port, path)) return performance.now();
    if (performance.now() > deadline) throw new Error(`${child.spawnfile} did not answer on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function answers(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The command line, run under `taskset -c CPUS` when CPUs are given (taskset execs it: the pid stays). */
function pinned(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

/** Pins every thread of this process (the load generator) to `cpus`. */
export function pinSelf(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

/** MOTO_SERVER, else the real script behind a pyenv shim (so the pid is python's), else PATH. */
export function motoServerPath(): string {
  if (process.env.MOTO_SERVER) return process.env.MOTO_SERVER;
  try {
    return execFileSync('pyenv', ['which', 'moto_server'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'moto_server';
  }
}

/** The parent's environment without COFFER_* and AWS_* settings. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('COFFER_') && !name.startsWith('AWS_')) env[name] = value;
  }
  return env;
}
