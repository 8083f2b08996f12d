import { spawn, type ChildProcess } from 'node:child_process';
import { COFFER_BIN, childEnv } from './child-server.js';
import type { Keys } from './principals.js';
import type { TestServer } from './start-server.js';

/**
 * The built `bin/coffer` as a child process, for the remote CLI commands (`coffer run`, `coffer render`)
 * against a test server. Asynchronous on purpose: the test server runs in the test's own process, so a
 * synchronous spawn would stop it from answering.
 */
export type CofferOutcome = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type CofferProcess = {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout has a line matching `pattern` (rejects if the process ends first or after timeoutMs). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CofferOutcome>;
};

/** Environment for a CLI child: nothing from the test's AWS_* or COFFER_*, plus the server's URL and `keys`. */
export function cliEnv(server: TestServer, keys: Keys = server.admin, extra: Record<string, string> = {}): Record<string, string> {
  return childEnv({
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
    AWS_ENDPOINT_URL: server.url,
    AWS_REGION: 'us-east-1',
    ...extra,
  });
}

export function startCoffer(args: string[], env: Record<string, string>, options: { cwd?: string } = {}): CofferProcess {
  const child = spawn(process.execPath, [COFFER_BIN, ...args], { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  let closed = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CofferOutcome>((resolve) => {
    child.on('close', (code, signal) => {
      closed = true;
      for (const listener of listeners) listener();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
        }, timeoutMs);
        const check = () => {
          if (pattern.test(stdout)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          } else if (closed) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`coffer ended before printing ${pattern}; stdout: ${stdout}; stderr: ${stderr}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `coffer ARGS` to its end. */
export function runCoffer(args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<CofferOutcome> {
  return startCoffer(args, env, options).done;
}

/** A child command (for `coffer run -- ...`) that prints the named variables as one JSON line. */
export function printEnvCommand(names: string[]): string[] {
  return [process.execPath, '-e', `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, process.env[n] ?? null]))))`];
}
