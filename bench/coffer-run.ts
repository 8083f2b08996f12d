/**
 * What `coffer run` adds before its child starts (issue 17): the wall time from spawn to exit of a trivial
 * child (`/bin/true`) run directly, and the same child under `coffer run` with five secrets (five JSON keys of
 * five secrets, so five GetSecretValue calls), against a `coffer server --dev` on this machine, alternated
 * run by run in the same process. The child does nothing, so the difference is Coffer's start, the SDK's
 * load, credential and Region resolution, the five calls, and the spawn.
 *
 *   npm run build && tsc -p bench/tsconfig.json && node bench/dist/coffer-run.js [--runs N]
 *
 * Also timed, to explain the difference: `node -e 0` (Node's own start) and each entry the `coffer` command
 * has (`--entry FILE` adds one, for example the full bundle `dist/bundle/main.js`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { median } from './extras.js';
import { DEV_KEY, freePort } from './peers.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COFFER_BIN = join(REPO_ROOT, 'bin/coffer');
const SECRETS = 5;

type Timed = { label: string; command: string; args: string[] };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runs = Number(valueOf(argv, '--runs') ?? '30');
  const extraEntries = argv.flatMap((arg, index) => (arg === '--entry' ? [argv[index + 1]!] : []));
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-run-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [COFFER_BIN, 'server', '--dev', '--port', String(port), '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitForHealth(url);
    const client = new SecretsManagerClient({ endpoint: url, region: 'us-east-1', credentials: DEV_KEY });
    const secretArgs: string[] = [];
    for (let i = 0; i < SECRETS; i++) {
      const name = `bench/run/secret-${i}-${Date.now()}`;
      await client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ password: `value-${i}` }) }));
      secretArgs.push('--secret', `SECRET_${i}=${name}:password`);
    }
    client.destroy();
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dataDir,
      AWS_ACCESS_KEY_ID: DEV_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEV_KEY.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: url,
    };
    const variants: Timed[] = [
      { label: 'child directly (/bin/true)', command: '/bin/true', args: [] },
      { label: `coffer run, ${SECRETS} secrets, child /bin/true`, command: process.execPath, args: [COFFER_BIN, 'run', ...secretArgs, '--', '/bin/true'] },
      { label: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
      { label: 'coffer --version', command: process.execPath, args: [COFFER_BIN, '--version'] },
      ...extraEntries.map((entry) => ({ label: `${entry} run, ${SECRETS} secrets`, command: process.execPath, args: [join(REPO_ROOT, entry), 'run', ...secretArgs, '--', '/bin/true'] })),
    ];
    const samples = new Map<string, number[]>(variants.map((variant) => [variant.label, []]));
    for (const variant of variants) await time(variant, env); // warm the page cache once
    for (let round = 0; round < runs; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) samples.get(variant.label)!.push(await time(variant, env));
    }
    const direct = median(samples.get(variants[0]!.label)!);
    const lines = [`| what | median ms | p90 ms | added to the direct child (median) |`, `|---|---|---|---|`];
    for (const variant of variants) {
      const values = samples.get(variant.label)!;
      const sorted = [...values].sort((a, b) => a - b);
      lines.push(`| ${variant.label} | ${median(values).toFixed(0)} | ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(0)} | ${(median(values) - direct).toFixed(0)} |`);
    }
    process.stdout.write(`${runs} runs each, alternated\n\n${lines.join('\n')}\n`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  }
}

/** Spawn to exit, in ms; a non-zero exit is an error (the bench must measure working runs). */
function time(variant: Timed, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(variant.command, variant.args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${variant.label}: exit ${code}: ${stderr}`));
    });
  });
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('coffer server did not answer /health within 30 s');
}

function valueOf(argv: string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index === -1 ? undefined : argv[index + 1];
}

await main();
