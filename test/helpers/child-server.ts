import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KMSClient } from '@aws-sdk/client-kms';
import type { AccessKey } from './signed-fetch.js';

/** The repository root (this file runs from build-test/test/helpers/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const COFFER_BIN = fileURLToPath(new URL('../../../bin/coffer', import.meta.url));

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type ChildServer = {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /**
   * The administrator key this start created, if it created one: as printed (`--print-credentials`), or read
   * from the admin-credentials file the announcement names.
   */
  printedAdmin: AccessKey | undefined;
  exited: Promise<Exit>;
  /** Sends a signal (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  kms(options?: { region?: string; credentials?: AccessKey }): KMSClient;
};

export type SpawnOptions = {
  dataDir: string;
  /** Extra arguments after `server --port 0 --data-dir D`. */
  args?: string[];
  /** Added to a clean environment (no COFFER_* or AWS_* from the parent). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Listen on this port instead of a free one (a restart that keeps its URL, so clients keep working). */
  port?: number | string;
  /** Run bin/coffer as an executable, as a user's shell does (its first line picks Node and its flags), not `node bin/coffer`. */
  direct?: boolean;
};

/**
 * Every process started here, so a test file's `after` can make sure none outlives it. Each test file runs
 * in its own process under `node --test`, so this set belongs to one file.
 */
const running = new Set<ChildProcess>();

export async function killChildServers(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  running.clear();
}

export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('COFFER_') || name.startsWith('AWS_')) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

function spawnCoffer(options: SpawnOptions, port: string) {
  const args = [COFFER_BIN, 'server', '--port', port, '--data-dir', options.dataDir, ...(options.args ?? [])];
  const child = spawn(options.direct ? args[0]! : process.execPath, options.direct ? args.slice(1) : args, {
    cwd: REPO_ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  // 'exit' can come before the pipes are drained; 'close' comes after both.
  const closed = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited, closed };
}

/**
 * Runs `coffer server --port 0` as a child process and resolves once it prints
 * "Coffer listening on URL" and answers GET /health. Rejects with its output if it exits first.
 */
export async function startChildServer(options: SpawnOptions): Promise<ChildServer> {
  const { child, stdout, stderr, exited, closed } = spawnCoffer(options, String(options.port ?? 0));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print its URL within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.stdout!.off('data', look);
      child.kill('SIGKILL');
      reject(new Error(`coffer server ${why}\n--- stdout\n${stdout()}\n--- stderr\n${stderr()}`));
    };
    const look = () => {
      const match = /Coffer listening on (http:\/\/\S+)/.exec(stdout());
      // The URL and the administrator credentials are separate writes: wait for both, or a start that made the
      // admin key could be read (under load) as one that did not.
      if (!match || !announcedAdmin(stdout())) return;
      clearTimeout(timer);
      child.stdout!.off('data', look);
      resolve(match[1]!);
    };
    child.stdout!.on('data', look);
    closed.then((exit) => fail(`exited early (${JSON.stringify(exit)})`));
  });
  await waitForHealth(url, timeoutMs);
  const printedAdmin = createdAdmin(stdout(), options.dataDir);
  return {
    url,
    pid: child.pid!,
    process: child,
    stdout,
    stderr,
    printedAdmin,
    exited: closed,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      return closed;
    },
    kms: (clientOptions = {}) =>
      new KMSClient({
        endpoint: url,
        region: clientOptions.region ?? 'us-east-1',
        credentials: clientOptions.credentials ?? printedAdmin ?? { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      }),
  };
}

const ADMIN_KEY_LINES = /export AWS_ACCESS_KEY_ID=(\S+)\nexport AWS_SECRET_ACCESS_KEY=(\S+)/;

/** The server has printed its administrator credentials line (and, with --print-credentials, the key itself). */
function announcedAdmin(stdout: string): boolean {
  if (/^Administrator credentials \(also in/m.test(stdout)) return /export AWS_SECRET_ACCESS_KEY=\S+\n/.test(stdout);
  return /^Administrator credentials[^\n]*\n/m.test(stdout);
}

function createdAdmin(stdout: string, dataDir: string): AccessKey | undefined {
  const text = ADMIN_KEY_LINES.test(stdout)
    ? stdout
    : /^Administrator credentials created/m.test(stdout)
      ? readFileSync(join(dataDir, 'admin-credentials'), 'utf8')
      : '';
  const admin = ADMIN_KEY_LINES.exec(text);
  return admin ? { accessKeyId: admin[1]!, secretAccessKey: admin[2]! } : undefined;
}

/** Runs `coffer server` expecting it to fail at start; resolves with its exit and output. */
export async function runCofferUntilExit(options: SpawnOptions): Promise<Exit & { stdout: string; stderr: string }> {
  const { child, stdout, stderr, closed } = spawnCoffer(options, String(options.port ?? 0));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // A server that unexpectedly starts is stopped as soon as it says so, and the test sees exit code 0.
  const look = () => {
    if (/Coffer listening on/.test(stdout())) child.kill('SIGTERM');
  };
  child.stdout!.on('data', look);
  const exit = await closed;
  clearTimeout(timer);
  return { ...exit, stdout: stdout(), stderr: stderr() };
}

export async function waitForHealth(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(new URL('/health', url));
      await response.text();
      if (response.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/health did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
