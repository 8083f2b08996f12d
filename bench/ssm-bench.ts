/**
 * Issue 19's speed goals for Parameter Store, in one run on one server:
 *
 *   npm run build && tsc -p bench/tsconfig.json && node bench/dist/ssm-bench.js [--seconds N] [--connections N] [--parameters N]
 *
 * 1. GetParameter (a String, and a SecureString with and without decryption) against GetSecretValue of a
 *    secret of the same size, at 64 connections (autocannon, keep-alive, pre-signed requests), interleaved in
 *    two rounds after a warm-up. Goal: each within 20 % of GetSecretValue's req/s.
 * 2. A GetParametersByPath page (MaxResults 10, Recursive) out of N parameters (default 10,000) under one
 *    path, at one connection, pages at random places in the tree (NextToken), so the figure is a page's cost
 *    whatever its position. Goal: under 20 ms of server time; reported as the server process's CPU per page
 *    and the page's latency at one connection (server time plus loopback).
 * The server runs pinned to SERVER_CPUS and the load generator to LOAD_CPUS, as the other benches.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { REPO_ROOT } from './coffer-build.js';
import { runLoad, type Measurement } from './load.js';
import { DEV_KEY, killAllPeers, LOAD_CPUS, pinSelf, SERVER_CPUS, startCoffer, type Peer } from './peers.js';
import { Signer } from './signer.js';
import type { RequestSource } from './workloads.js';

const POOL_SIZE = 2000;
const VALUE = JSON.stringify({ username: 'app', password: randomBytes(480).toString('hex') });
const TREE = '/bench/tree';

type Read = { label: string; service: 'secretsmanager' | 'ssm'; target: string; body: object };

const READS: Read[] = [
  { label: 'GetSecretValue', service: 'secretsmanager', target: 'secretsmanager.GetSecretValue', body: { SecretId: 'bench/ssm/peer' } },
  { label: 'GetParameter String', service: 'ssm', target: 'AmazonSSM.GetParameter', body: { Name: '/bench/plain' } },
  { label: 'GetParameter SecureString, decrypted', service: 'ssm', target: 'AmazonSSM.GetParameter', body: { Name: '/bench/secure', WithDecryption: true } },
  { label: 'GetParameter SecureString, not decrypted', service: 'ssm', target: 'AmazonSSM.GetParameter', body: { Name: '/bench/secure' } },
];

async function main(): Promise<void> {
  const seconds = numberFlag('--seconds', 8);
  const connections = numberFlag('--connections', 64);
  const parameterCount = numberFlag('--parameters', 10_000);
  pinSelf(LOAD_CPUS);
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-ssm-bench-'));
  try {
    const server = await startCoffer({ dataDir, cpus: SERVER_CPUS, main: join(REPO_ROOT, 'dist/bundle/main.js') });
    const seedStarted = performance.now();
    await seed(server, parameterCount);
    process.stdout.write(`seeded ${parameterCount} parameters in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`);
    const signer = new Signer(DEV_KEY);
    for (const read of READS) await runLoad(server, pool(signer, server.host, [read]), { connections, durationSeconds: 2, timeoutSeconds: 10 });
    const runs: Array<{ label: string; round: number; measurement: Measurement }> = [];
    for (let round = 1; round <= 2; round += 1) {
      for (const read of READS) {
        runs.push({ label: read.label, round, measurement: await runLoad(server, pool(signer, server.host, [read]), { connections, durationSeconds: seconds, timeoutSeconds: 10 }) });
      }
    }
    const pages = pagesAtRandom(parameterCount);
    await runLoad(server, pool(signer, server.host, pages), { connections: 1, durationSeconds: 2, timeoutSeconds: 10 });
    const byPath = await runLoad(server, pool(signer, server.host, pages), { connections: 1, durationSeconds: seconds, timeoutSeconds: 10 });
    process.stdout.write(report(runs, byPath, connections, seconds, parameterCount) + '\n');
  } finally {
    killAllPeers();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true }); // the server's default anchor file, beside the data dir
  }
}

/** The secret and the two parameters read at 64 connections (same value), and N parameters under TREE in 100 groups. */
async function seed(server: Peer, count: number): Promise<void> {
  const sm = new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: DEV_KEY });
  const ssm = new SSMClient({ endpoint: server.url, region: 'us-east-1', credentials: DEV_KEY });
  await sm.send(new CreateSecretCommand({ Name: 'bench/ssm/peer', SecretString: VALUE }));
  // Advanced, so the tree's N Standard parameters fit in the 10,000 Standard-parameter quota (the tier changes no read).
  await ssm.send(new PutParameterCommand({ Name: '/bench/plain', Value: VALUE, Type: 'String', Tier: 'Advanced' }));
  await ssm.send(new PutParameterCommand({ Name: '/bench/secure', Value: VALUE, Type: 'SecureString', Tier: 'Advanced' }));
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await ssm.send(new PutParameterCommand({ Name: treeName(index), Value: `value-${index}`, Type: 'String' }));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  sm.destroy();
  ssm.destroy();
}

function treeName(index: number): string {
  return `${TREE}/g${String(index % 100).padStart(3, '0')}/p${String(index).padStart(6, '0')}`;
}

/** GetParametersByPath requests whose NextToken starts the page after a random parameter of the tree. */
function pagesAtRandom(count: number): Read[] {
  return Array.from({ length: 200 }, () => {
    const after = treeName(Math.floor(Math.random() * count));
    const NextToken = Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
    return { label: 'page', service: 'ssm' as const, target: 'AmazonSSM.GetParametersByPath', body: { Path: TREE, Recursive: true, MaxResults: 10, NextToken } };
  });
}

/** Requests signed just before the run and cycled. */
function pool(signer: Signer, host: string, reads: Read[]): RequestSource {
  const calls = Array.from({ length: POOL_SIZE }, (_, index) => {
    const read = reads[index % reads.length]!;
    return signer.sign(host, read.service, read.target, JSON.stringify(read.body));
  });
  let index = 0;
  return { next: () => calls[index++ % calls.length]! };
}

function report(runs: Array<{ label: string; round: number; measurement: Measurement }>, byPath: Measurement, connections: number, seconds: number, count: number): string {
  const lines = [
    `${connections} connections, ${seconds} s per run, two interleaved rounds`,
    '',
    '| run | req/s | p50 ms | p99 ms | server CPU µs/req | errors |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const { label, round, measurement: m } of runs) {
    lines.push(`| ${label} (${round}) | ${Math.round(m.requestsPerSecond)} | ${m.p50Ms.toFixed(1)} | ${m.p99Ms.toFixed(1)} | ${Math.round(m.serverCpuMicrosPerRequest)} | ${m.errors} |`);
  }
  const mean = (label: string) => {
    const chosen = runs.filter((run) => run.label === label);
    return chosen.reduce((sum, run) => sum + run.measurement.requestsPerSecond, 0) / chosen.length;
  };
  const peer = mean('GetSecretValue');
  lines.push('');
  for (const read of READS.slice(1)) lines.push(`${read.label}: ${Math.round((mean(read.label) / peer) * 100)} % of GetSecretValue's req/s`);
  lines.push(
    '',
    `GetParametersByPath, 10 of ${count} (Recursive, random pages), 1 connection: ${Math.round(byPath.requestsPerSecond)} pages/s, ` +
      `p50 ${byPath.p50Ms.toFixed(2)} ms, p99 ${byPath.p99Ms.toFixed(2)} ms, server CPU ${(byPath.serverCpuMicrosPerRequest / 1000).toFixed(2)} ms per page, errors ${byPath.errors}`,
  );
  return lines.join('\n');
}

function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

await main();
