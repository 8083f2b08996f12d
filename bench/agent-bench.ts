/**
 * Issue 17's speed goal for the caching agent: `coffer agent`'s cached reads side by side with direct
 * GetSecretValue against the server, in the same run, at 64 connections (autocannon, keep-alive).
 *
 *   npm run build && tsc -p bench/tsconfig.json && node bench/dist/agent-bench.js [--seconds N] [--connections N]
 *
 * Direct: pre-signed GetSecretValue requests for one 1 KB secret (the bench's `get-hot` workload) straight to
 * `coffer server`. Agent: `GET /secretsmanager/get?secretId=…` with the token header to `coffer agent`, whose
 * cache answers after the first read. The server, and then the agent, run pinned to the same CPU (SERVER_CPUS)
 * and the load generator to the other (LOAD_CPUS), so both sides get the same hardware. A bare node:http server
 * answering a body of the same size on the same CPU is the ceiling of any Node server there. Each runs twice,
 * interleaved (direct, agent, bare, direct, agent, bare), after a warm-up, then the same at one connection (latency
 * without queueing); the report gives every run with the answering process's CPU per request (the agent's cost
 * against the server's, whatever the load generator on the other CPU can send).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { REPO_ROOT } from './coffer-build.js';
import { LatencyLog, runLoad, type Measurement } from './load.js';
import { DEV_KEY, freePort, killAllPeers, LOAD_CPUS, pinSelf, SERVER_CPUS, startBare, startCoffer, type Peer } from './peers.js';
import { treeCpuMicros } from './proc-stats.js';
import { Signer } from './signer.js';
import type { RequestSource } from './workloads.js';

const SECRET_NAME = 'bench/agent/db';
const TOKEN = randomBytes(16).toString('hex');
const POOL_SIZE = 2000;

type Side = 'direct' | 'agent' | 'bare';
const SIDES: Side[] = ['direct', 'agent', 'bare'];
type Run = { side: Side; round: number; connections: number; measurement: Pick<Measurement, 'requestsPerSecond' | 'p50Ms' | 'p99Ms' | 'maxMs' | 'errors' | 'ok' | 'serverCpuMicrosPerRequest'> };

async function main(): Promise<void> {
  const seconds = numberFlag('--seconds', 10);
  const connections = numberFlag('--connections', 64);
  pinSelf(LOAD_CPUS);
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-agent-bench-'));
  const children: ChildProcess[] = [];
  let server: Peer | undefined;
  try {
    // startCoffer runs the bench's snapshot of dist/; this bench runs the current build directly.
    server = await startCoffer({ dataDir, cpus: SERVER_CPUS, main: join(REPO_ROOT, 'dist/bundle/main.js') });
    const client = new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: DEV_KEY });
    await client.send(new CreateSecretCommand({ Name: SECRET_NAME, SecretString: JSON.stringify({ username: 'app', password: randomBytes(500).toString('hex') }) }));
    client.destroy();

    const agentPort = await freePort();
    const agent = spawn('taskset', ['-c', SERVER_CPUS, process.execPath, join(REPO_ROOT, 'bin/coffer'), 'agent', '--port', String(agentPort)], {
      cwd: REPO_ROOT,
      env: { ...cleanEnv(), AWS_ACCESS_KEY_ID: DEV_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: DEV_KEY.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: server.url, AWS_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(agent);
    await waitForLine(agent, /listening on/);
    const agentUrl = `http://127.0.0.1:${agentPort}`;

    // The ceiling: a bare node:http server on the same CPU answering a body of the agent's size.
    const agentPath = `/secretsmanager/get?secretId=${encodeURIComponent(SECRET_NAME)}`;
    const agentHeaders = { 'X-Aws-Parameters-Secrets-Token': TOKEN };
    const agentBody = await (await fetch(agentUrl + agentPath, { headers: agentHeaders })).text();
    const bare = await startBare({ cpus: SERVER_CPUS });
    await bare.setBodyBytes(Buffer.byteLength(agentBody));

    const signer = new Signer(DEV_KEY);
    const directSource = (): RequestSource => presignedPool(signer, server!.host);
    const agentCpu = () => treeCpuMicros(agent.pid!);
    const sides: Record<Side, (connections: number, seconds: number) => Promise<Run['measurement']>> = {
      direct: (n, s) => runLoad(server!, directSource(), { connections: n, durationSeconds: s, timeoutSeconds: 10 }),
      agent: (n, s) => getLoad(agentUrl, agentPath, agentHeaders, n, s, agentCpu),
      bare: (n, s) => getLoad(bare.url, agentPath, agentHeaders, n, s, () => bare.cpuMicros()),
    };
    // Warm-up: JIT, the server's read cache, the agent's cache.
    for (const side of SIDES) await sides[side](connections, 2);

    const runs: Run[] = [];
    // At `connections` (throughput and CPU per request), then at one connection (latency without queueing).
    for (const load of [connections, 1]) {
      for (let round = 1; round <= 2; round += 1) {
        for (const side of SIDES) runs.push({ side, round, connections: load, measurement: await sides[side](load, load === 1 ? Math.min(seconds, 5) : seconds) });
      }
    }
    process.stdout.write(report(runs, connections, seconds) + '\n');
  } finally {
    for (const child of children) child.kill('SIGTERM');
    killAllPeers();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Direct GetSecretValue requests, signed just before the run and cycled (as the main bench's read workloads). */
function presignedPool(signer: Signer, host: string): RequestSource {
  const body = JSON.stringify({ SecretId: SECRET_NAME });
  const pool = Array.from({ length: POOL_SIZE }, () => signer.sign(host, 'secretsmanager', 'secretsmanager.GetSecretValue', body));
  let index = 0;
  return { next: () => pool[index++ % pool.length]! };
}

/** The same GET over and over, latency per response as load.ts records it (float ms). */
async function getLoad(url: string, path: string, headers: Record<string, string>, connections: number, seconds: number, cpuMicros: () => number): Promise<Run['measurement']> {
  const latencies = new LatencyLog();
  let ok = 0;
  const cpuBefore = cpuMicros();
  const started = performance.now();
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    pipelining: 1,
    sampleInt: 100,
    requests: [{ method: 'GET', path, headers }],
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode === 200) {
      ok += 1;
      latencies.add(responseTimeMs);
    }
  });
  const result = await instance;
  const elapsed = (performance.now() - started) / 1000;
  return {
    requestsPerSecond: ok / elapsed,
    ok,
    errors: result.errors + result.non2xx,
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    maxMs: latencies.percentile(100),
    serverCpuMicrosPerRequest: (cpuMicros() - cpuBefore) / Math.max(ok, 1),
  };
}

function report(runs: Run[], connections: number, seconds: number): string {
  const lines = [
    `${connections} connections, ${seconds} s per run; then 1 connection`,
    '',
    '| run | connections | req/s | p50 ms | p99 ms | max ms | CPU µs/req of the answering process | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { side, round, connections: n, measurement: m } of runs) {
    lines.push(
      `| ${side} ${round} | ${n} | ${Math.round(m.requestsPerSecond)} | ${m.p50Ms.toFixed(2)} | ${m.p99Ms.toFixed(2)} | ${m.maxMs.toFixed(1)} | ${m.serverCpuMicrosPerRequest.toFixed(1)} | ${m.errors} |`,
    );
  }
  const mean = (side: Side, load: number, pick: (m: Run['measurement']) => number) => {
    const chosen = runs.filter((run) => run.side === side && run.connections === load);
    return chosen.reduce((sum, run) => sum + pick(run.measurement), 0) / chosen.length;
  };
  const rps = (m: Run['measurement']) => m.requestsPerSecond;
  const cpu = (m: Run['measurement']) => m.serverCpuMicrosPerRequest;
  const p99 = (m: Run['measurement']) => m.p99Ms;
  lines.push(
    '',
    `at ${connections}: agent / direct req/s ${(mean('agent', connections, rps) / mean('direct', connections, rps)).toFixed(1)}x; ` +
      `agent / bare node:http req/s ${Math.round((mean('agent', connections, rps) / mean('bare', connections, rps)) * 100)} %; ` +
      `CPU per request direct / agent ${(mean('direct', connections, cpu) / mean('agent', connections, cpu)).toFixed(1)}x; ` +
      `p99 agent ${mean('agent', connections, p99).toFixed(2)} ms, bare ${mean('bare', connections, p99).toFixed(2)} ms, direct ${mean('direct', connections, p99).toFixed(2)} ms`,
    `at 1: p99 agent ${mean('agent', 1, p99).toFixed(2)} ms, bare ${mean('bare', 1, p99).toFixed(2)} ms, direct ${mean('direct', 1, p99).toFixed(2)} ms`,
  );
  return lines.join('\n');
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (pattern.test(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`coffer agent exited (${code}) before it listened`)));
  });
}

function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

/** The environment without COFFER_* and AWS_* settings (as peers.ts gives its servers). */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([name, value]) => value !== undefined && !name.startsWith('COFFER_') && !name.startsWith('AWS_'))) as Record<string, string>;
}

await main();
