import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, COFFER_BIN, REPO_ROOT, type Exit } from './child-server.js';

export type ChildAgent = {
  url: string;
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** GET path (with query) from the agent with these headers; the answer's status and text. */
  get(path: string, headers?: Record<string, string>, method?: string): Promise<{ status: number; body: string }>;
  stop(): Promise<Exit>;
};

const running = new Set<ChildProcess>();

/** Kills every agent this test file started and did not stop (each test file runs in its own process). */
export async function killChildAgents(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child, 'SIGKILL')));
}

function spawnAgent(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [COFFER_BIN, 'agent', ...args], {
    cwd: REPO_ROOT,
    // A clean environment: no AWS_* from the test runner, only what the test gives.
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, closed };
}

/** Runs the built `bin/coffer agent ARGS` and resolves once it prints "listening on URL". */
export async function startChildAgent(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<ChildAgent> {
  const { child, stdout, stderr, closed } = spawnAgent(args, env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print its URL within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`coffer agent ${why}\n--- stdout\n${stdout()}\n--- stderr\n${stderr()}`));
    };
    const look = () => {
      const match = /^Agent\/\S+ listening on (http:\/\/\S+)$/m.exec(stdout());
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', look);
      resolve(match[1]!);
    };
    child.stdout!.on('data', look);
    void closed.then((exit) => fail(`exited early (${JSON.stringify(exit)})`));
  });
  return {
    url,
    process: child,
    stdout,
    stderr,
    async get(path, headers = {}, method = 'GET') {
      const response = await fetch(url + path, { method, headers });
      return { status: response.status, body: await response.text() };
    },
    stop: () => stopChild(child, 'SIGTERM').then(() => closed),
  };
}

/** Runs `coffer agent ARGS` expecting it to refuse to start; its exit and output. */
export async function runAgentUntilExit(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<Exit & { stdout: string; stderr: string }> {
  const { child, stdout, stderr, closed } = spawnAgent(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // An agent that unexpectedly starts is stopped as soon as it says so (and the test sees exit code 0).
  child.stdout!.on('data', () => {
    if (/listening on/.test(stdout())) child.kill('SIGTERM');
  });
  const exit = await closed;
  clearTimeout(timer);
  return { ...exit, stdout: stdout(), stderr: stderr() };
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
