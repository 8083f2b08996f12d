import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { childEnv } from './child-server.js';
import type { AccessKey } from './signed-fetch.js';

export type ShellResult = { code: number; stdout: string; stderr: string };

/**
 * Runs a shell command line with `bash -c` in `cwd`, the way a user types it: the AWS CLI finds its key
 * and region in the environment, and no config or credentials file of the machine's user is read.
 */
export function shell(
  command: string,
  options: { cwd: string; credentials?: AccessKey; region?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<ShellResult> {
  const env = childEnv({
    AWS_CONFIG_FILE: join(options.cwd, '.aws-config-absent'),
    AWS_SHARED_CREDENTIALS_FILE: join(options.cwd, '.aws-credentials-absent'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...(options.credentials
      ? { AWS_ACCESS_KEY_ID: options.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey }
      : {}),
    ...(options.region ? { AWS_DEFAULT_REGION: options.region } : {}),
    ...options.env,
  });
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', command],
      { cwd: options.cwd, env, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Fails with the command's output when it did not exit 0. */
export async function shellOk(command: string, options: Parameters<typeof shell>[1]): Promise<string> {
  const result = await shell(command, options);
  if (result.code !== 0) {
    throw new Error(`\`${command}\` exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result.stdout;
}
