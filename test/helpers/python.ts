import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv } from './child-server.js';
import type { AccessKey } from './signed-fetch.js';

export type PythonResult = { code: number; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type PythonOptions = {
  /** The scratch directory the script is written to and run in. */
  cwd: string;
  credentials: AccessKey;
  /** Coffer's URL, given to boto3 as AWS_ENDPOINT_URL (honoured by boto3 1.28 and later). */
  endpointUrl: string;
  region?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
};

/**
 * Writes `source` to `cwd/fileName` and runs it with `python3 fileName`, the way a user runs a sample:
 * boto3 finds the key, region and endpoint in the environment, and no config or credentials file of the
 * machine's user is read. The child is killed after `timeoutMs` (default 60 s).
 */
export function runPython(fileName: string, source: string, options: PythonOptions): Promise<PythonResult> {
  writeFileSync(join(options.cwd, fileName), source);
  const env = childEnv({
    AWS_CONFIG_FILE: join(options.cwd, '.aws-config-absent'),
    AWS_SHARED_CREDENTIALS_FILE: join(options.cwd, '.aws-credentials-absent'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: options.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: options.region ?? 'us-east-1',
    AWS_ENDPOINT_URL: options.endpointUrl,
    // The SDK's retries would turn a server error into a slow run; a sample must work on the first try.
    AWS_MAX_ATTEMPTS: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ...options.env,
  });
  return new Promise((resolve) => {
    execFile(
      'python3',
      [fileName],
      { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        const signal = error && 'signal' in error ? ((error.signal as NodeJS.Signals | null) ?? null) : null;
        resolve({ code, signal, stdout, stderr });
      },
    );
  });
}

/** Runs a script and fails with its output unless it exits 0. */
export async function runPythonOk(fileName: string, source: string, options: PythonOptions): Promise<string> {
  const result = await runPython(fileName, source, options);
  if (result.code !== 0) {
    throw new Error(
      `python3 ${fileName} exited ${result.code}${result.signal ? ` (${result.signal})` : ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result.stdout;
}
