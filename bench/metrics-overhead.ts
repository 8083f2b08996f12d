/**
 * What metrics cost on GetSecretValue (issue 18): two Coffers opened in this process from the built server, one
 * with the metrics instruments (the pipeline's end-of-call hook, the timing proxy around the store, the audit
 * wrapper) and one without, each on its own data dir holding one 1 KB secret. The same pre-signed requests go
 * through each pipeline in alternating rounds (A B B A ...), one at a time and 32 at once; CPU microseconds per
 * request (process.cpuUsage) and wall time per request are reported as medians over the rounds, with the ratio
 * on/off as the median of the per-round ratios. HTTP is left out: the instruments sit behind the edge, and the edge's cost is the same either way.
 *
 * Run: npm run bench:metrics (results printed, not asserted). The machine is shared: read the ratio, not the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './coffer-build.js';
import { DEV_KEY } from './peers.js';
import { Signer, type SignedCall } from './signer.js';

type RawResponse = { status: number; body: string };
type Coffer = { pipeline(request: Record<string, unknown>): Promise<RawResponse>; close(): Promise<void> };
type Instruments = {
  registry: { getMetricsAsJSON(): Promise<Array<{ name: string; values: Array<{ value: number; metricName?: string }> }>> };
  observeStore<S extends object>(store: S): S;
  observeCall(service: string, operation: string, outcome: 'success', startedMs: number): void;
};
type ServerModule = {
  openCoffer(config: Record<string, unknown>): Promise<Coffer>;
  createCofferMetrics(options: { processMetrics: boolean }): Instruments;
};

const HOST = 'bench.local';
const SECRET = 'bench-metrics-secret';
const REQUESTS_PER_ROUND = 600;
const ROUNDS = Number(process.env.ROUNDS ?? 40);
const CONCURRENCY = 32;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const server = (await import(pathToFileURL(join(REPO_ROOT, 'dist/server/index.js')).href)) as ServerModule;
const signer = new Signer(DEV_KEY);
const sign = (target: string, payload: unknown): SignedCall => signer.sign(HOST, 'secretsmanager', `secretsmanager.${target}`, JSON.stringify(payload));

async function call(coffer: Coffer, signed: SignedCall): Promise<RawResponse> {
  const headers = { ...signed.headers, 'content-length': String(signed.body.length) };
  return coffer.pipeline({ method: 'POST', path: '/', query: '', headers, body: signed.body, sourceIp: '127.0.0.1' });
}

async function open(label: string, withMetrics: boolean): Promise<{ label: string; coffer: Coffer; dataDir: string; instruments?: Instruments }> {
  const dataDir = mkdtempSync(join(tmpdir(), `coffer-bench-metrics-${label}-`));
  const instruments = withMetrics ? server.createCofferMetrics({ processMetrics: true }) : undefined;
  const coffer = await server.openCoffer({ dataDir, devMode: true, maintenanceIntervalMs: 0, logger: quiet, instruments });
  const created = await call(coffer, sign('CreateSecret', { Name: SECRET, SecretString: 'x'.repeat(1024) }));
  if (created.status !== 200) throw new Error(`CreateSecret answered ${created.status}: ${created.body}`);
  return { label, coffer, dataDir, instruments };
}

/** CPU nanoseconds per call of `run` in a tight loop (CPU time, so other processes on the machine matter little). */
async function nanosPerCall(run: () => unknown, calls = 1_000_000): Promise<number> {
  for (let index = 0; index < 100_000; index++) await run();
  const before = process.cpuUsage();
  for (let index = 0; index < calls; index++) await run();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / calls;
}

/**
 * The instruments alone, against the same work without them: a store method call through the timing proxy, and
 * the pipeline's end-of-call hook. With the store calls per GetSecretValue counted in the run, this gives the
 * added CPU per request, which the A/B above can only bound on a loaded machine.
 */
async function instrumentCosts(instruments: Instruments, storeCallsPerRequest: number): Promise<void> {
  class Store {
    #value = { name: 'x' };
    async getSecretByName(): Promise<{ name: string }> {
      return this.#value;
    }
  }
  const plain = new Store();
  const timed = instruments.observeStore(new Store());
  const direct = await nanosPerCall(() => plain.getSecretByName());
  const proxied = await nanosPerCall(() => timed.getSecretByName());
  const hook = await nanosPerCall(() => instruments.observeCall('secretsmanager', 'GetSecretValue', 'success', performance.now()));
  console.log('Instruments alone (CPU ns per call, tight loop):');
  console.log(`  store method: ${direct.toFixed(0)} direct, ${proxied.toFixed(0)} through the timing proxy (+${(proxied - direct).toFixed(0)})`);
  console.log(`  end-of-call hook (counter + histogram): ${hook.toFixed(0)}`);
  console.log(`  store calls per GetSecretValue: ${storeCallsPerRequest.toFixed(1)}`);
  const added = storeCallsPerRequest * (proxied - direct) + hook;
  console.log(`  => about ${(added / 1000).toFixed(2)} µs added per GetSecretValue, besides the audit wrapper (one timed promise)`);
}

/** CPU and wall microseconds per request of one round. */
async function round(coffer: Coffer, requests: SignedCall[], concurrency: number): Promise<{ cpu: number; wall: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const response = await call(coffer, requests[next++]!);
      if (response.status !== 200) throw new Error(`GetSecretValue answered ${response.status}: ${response.body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return { cpu: (cpu.user + cpu.system) / requests.length, wall: ((performance.now() - started) * 1000) / requests.length };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const variants = [await open('off', false), await open('on', true)];
const requests = Array.from({ length: REQUESTS_PER_ROUND }, () => sign('GetSecretValue', { SecretId: SECRET }));
try {
  for (const concurrency of [1, CONCURRENCY]) {
    // Warm-up: JIT and the read cache, for both.
    for (const variant of variants) await round(variant.coffer, requests, concurrency);
    const results = new Map(variants.map((variant) => [variant.label, { cpu: [] as number[], wall: [] as number[] }]));
    for (let index = 0; index < ROUNDS; index++) {
      const order = index % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const measured = await round(variant.coffer, requests, concurrency);
        results.get(variant.label)!.cpu.push(measured.cpu);
        results.get(variant.label)!.wall.push(measured.wall);
      }
    }
    const off = results.get('off')!;
    const on = results.get('on')!;
    // Each round's on and off ran back to back, under the same load from the rest of the machine: their ratio is
    // steadier than the ratio of the two medians.
    const pairedRatio = (figure: 'cpu' | 'wall') => median(on[figure].map((value, index) => value / off[figure][index]!));
    const line = (label: string, figures: { cpu: number[]; wall: number[] }) =>
      `  metrics ${label.padEnd(3)}  CPU ${median(figures.cpu).toFixed(1)} µs/request  wall ${median(figures.wall).toFixed(1)} µs/request`;
    console.log(`GetSecretValue (1 KB, one secret), ${concurrency} at a time, ${ROUNDS} rounds of ${REQUESTS_PER_ROUND}, medians:`);
    console.log(line('off', off));
    console.log(line('on', on));
    console.log(`  on/off, median of the per-round ratios: CPU ${pairedRatio('cpu').toFixed(3)}  wall ${pairedRatio('wall').toFixed(3)}`);
  }
  const on = variants.find((variant) => variant.instruments)!;
  const families = await on.instruments!.registry.getMetricsAsJSON();
  const count = (name: string, metricName: string) =>
    families.find((family) => family.name === name)?.values.filter((value) => value.metricName === metricName).reduce((sum, value) => sum + value.value, 0) ?? 0;
  const storeCalls = count('coffer_store_operation_duration_seconds', 'coffer_store_operation_duration_seconds_count');
  const calls = count('coffer_request_duration_seconds', 'coffer_request_duration_seconds_count');
  await instrumentCosts(on.instruments!, storeCalls / calls);
} finally {
  for (const variant of variants) {
    await variant.coffer.close();
    rmSync(variant.dataDir, { recursive: true, force: true });
  }
}
