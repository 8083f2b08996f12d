/**
 * Peak RSS with a large corpus (issue 21): `coffer server` pinned to CPU 0 over N seeded secrets (100,000 by
 * default), 64 connections of GetSecretValue at random over ALL of them, then ListSecrets pages spread over the
 * whole corpus, then both together (half the connections each). The server's VmRSS is sampled every 20 ms and
 * its VmHWM read at the end (/proc, the server's whole process tree); its V8 heap and external memory come from
 * GET /metrics (prom-client's process metrics) once a second. p99 per phase comes from the load generator. Each
 * phase's end also gives the read cache's hit rate over the phase (its counters in /metrics): what the cache's byte
 * bound bought in that phase, against what it cost in RSS.
 *
 *   npm run build && tsc -p bench/tsconfig.json && node bench/dist/rss-probe.js [flags]
 *     --secrets N        corpus (100000)
 *     --gets N           GetSecretValue calls in the first phase (15000)
 *     --pages N          ListSecrets pages in the second phase (1500); the third phase sends N of each
 *   Phases are a number of calls, not a duration: how full the read cache gets, and so the heap, would otherwise
 *   depend on how fast a (shared) machine answered.
 *     --rounds R         alternated rounds over the builds (2)
 *     --seeded DIR       a seeded data dir to copy for every server (made and kept there when missing)
 *     --compare L=DIR    another compiled tree (e.g. main's dist/) measured in the same rounds, with the Node flags
 *                        of DIR/../bin/coffer; repeatable
 *     --node-args L=ARGS a variant of this build with more Node flags ("--max-semi-space-size=8"); repeatable
 *     --env L=VAR=VALUE  a variant of this build with one more environment variable, as bin/coffer's `env -S` line
 *                        sets them (`glibcs=GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072`); repeatable
 *   Every build runs with the environment assignments of its bin/coffer's `env -S` line (MALLOC_ARENA_MAX=2),
 *   as `coffer` run as a program does.
 *     --heaps            load bench/dist/tail-preload.js into every server and print, at the end of each phase, each
 *                        thread's V8 heap (committed/used MB), the audit writer's isolate among them (not in /metrics)
 *     --filtered         ListSecrets pages with a filter that every secret matches (`name: bench/`), at offsets
 *                        spread over the corpus: the filtered path, which matches in memory (use fewer --pages: a
 *                        page deep into 100,000 secrets reads up to all of them)
 *     --sort-by S        with --filtered: the ListSecrets SortBy (last-accessed-date: every seeded secret ties, as
 *                        the probe read each once today)
 *     --batch            the list phases send BatchGetSecretValue with that filter instead (20 values a call), at
 *                        the same offset tokens
 *
 * Every server starts from a fresh copy of the seeded data dir, so every build sees the same files.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cofferMain, cofferNodeFlags, openInProcess, removeSnapshot, REPO_ROOT, snapshotBuild, snapshotCompareBuild } from './coffer-build.js';
import { forEachConcurrently, sendOk, TARGET_PREFIX } from './aws-call.js';
import { median, splitSpec, valueOf, valuesOf } from './extras.js';
import { runLoadSpread, type Measurement } from './load.js';
import { DEV_KEY, killAllPeers, LOAD_CPUS, pinSelf, SERVER_CPUS, startCoffer, type Peer } from './peers.js';
import { treeMemory } from './proc-stats.js';
import { seedCoffer } from './seed.js';
import { selfCheck, Signer } from './signer.js';
import { getSecretValue, LIST_PAGE_SIZE, pool, rng, type RequestSource } from './workloads.js';

type Variant = { label: string; main: string; nodeFlags: string[]; nodeArgs: string[]; env: Record<string, string> };
type PhaseResult = { phase: string; measurement: Measurement; peakRssMb: number; atEnd: string };
type RunResult = {
  label: string;
  round: number;
  afterStartRssMb: number;
  peakRssMb: number;
  vmHwmMb: number;
  endRssMb: number;
  heapUsedMaxMb: number;
  heapTotalMaxMb: number;
  externalMaxMb: number;
  phases: PhaseResult[];
};

const METRICS_TOKEN = 'rss-probe';
const PRELOAD = fileURLToPath(new URL('./tail-preload.js', import.meta.url));
const LIST_TOKENS = 50;
/** BatchGetSecretValue's most values a call. */
const BATCH_SIZE = 20;
const READ_ONCE_MARKER = `read-once-${new Date().toISOString().slice(0, 10)}`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const secrets = Number(valueOf(argv, '--secrets') ?? '100000');
  const amounts = { gets: Number(valueOf(argv, '--gets') ?? '15000'), pages: Number(valueOf(argv, '--pages') ?? '1500') };
  const rounds = Number(valueOf(argv, '--rounds') ?? '2');
  const seededArg = valueOf(argv, '--seeded');
  const heaps = argv.includes('--heaps');
  const listing: Listing = {
    filtered: argv.includes('--filtered') || argv.includes('--batch'),
    batch: argv.includes('--batch'),
    sortBy: valueOf(argv, '--sort-by'),
  };
  await selfCheck();
  pinSelf(LOAD_CPUS);
  snapshotBuild();
  const ownEnv = shebangEnv();
  const variants: Variant[] = [{ label: 'this', main: cofferMain(), nodeFlags: cofferNodeFlags(), nodeArgs: [], env: ownEnv }];
  for (const spec of valuesOf(argv, '--compare')) {
    const [label, dir] = splitSpec(spec);
    // A compared build runs with its own checkout's bin/coffer flags and environment (DIR/../bin/coffer), none when absent.
    const bin = join(dir, '..', 'bin/coffer');
    const present = existsSync(bin);
    variants.push({ label, main: snapshotCompareBuild(label, dir), nodeFlags: present ? cofferNodeFlags(bin) : [], nodeArgs: [], env: present ? shebangEnv(bin) : {} });
  }
  for (const spec of valuesOf(argv, '--node-args')) {
    const [label, args] = splitSpec(spec);
    variants.push({ label, main: cofferMain(), nodeFlags: cofferNodeFlags(), nodeArgs: args.split(/\s+/).filter(Boolean), env: ownEnv });
  }
  for (const spec of valuesOf(argv, '--env')) {
    const [label, assignment] = splitSpec(spec);
    const [name, value] = splitSpec(assignment);
    variants.push({ label, main: cofferMain(), nodeFlags: cofferNodeFlags(), nodeArgs: [], env: { ...ownEnv, [name]: value } });
  }
  const work = mkdtempSync(join(tmpdir(), 'coffer-rss-'));
  const seeded = seededArg ?? join(work, 'seeded');
  const signer = new Signer(DEV_KEY);
  const cleanUp = () => {
    killAllPeers();
    rmSync(work, { recursive: true, force: true });
    removeSnapshot();
  };
  process.once('SIGINT', () => (cleanUp(), process.exit(130)));
  try {
    if (!existsSync(join(seeded, 'coffer.db'))) {
      const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-rss-') : join(work, 'scratch');
      const result = await seedCoffer(seeded, scratch, secrets, signer);
      // The audit anchors file the seeding server wrote beside its scratch dir (server/audit-log.ts).
      rmSync(`${scratch}.audit-anchors`, { force: true });
      process.stdout.write(`seeded ${secrets} secrets in ${result.seconds.toFixed(1)} s into ${seeded}\n`);
    }
    if (!existsSync(join(seeded, READ_ONCE_MARKER))) await readEverySecretOnce(seeded, secrets, signer);
    const results: RunResult[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const dataDir = join(work, `data-${variant.label}-${round}`);
        cpSync(seeded, dataDir, { recursive: true });
        try {
          const heapTrace = heaps ? join(work, `heaps-${variant.label}-${round}.txt`) : undefined;
          const result = await measure(variant, dataDir, secrets, amounts, signer, heapTrace, listing);
          results.push({ ...result, round });
          process.stdout.write(`${line(result)}\n`);
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
    process.stdout.write(`\n${report(results, variants)}\n`);
  } finally {
    cleanUp();
  }
}

async function measure(
  variant: Variant,
  dataDir: string,
  secrets: number,
  amounts: { gets: number; pages: number },
  signer: Signer,
  heapTrace: string | undefined,
  listing: Listing,
): Promise<Omit<RunResult, 'round'>> {
  const peer = await startCoffer({
    dataDir,
    cpus: SERVER_CPUS,
    main: variant.main,
    nodeFlags: variant.nodeFlags,
    nodeArgs: heapTrace ? ['--import', PRELOAD, ...variant.nodeArgs] : variant.nodeArgs,
    serverArgs: ['--metrics-token', METRICS_TOKEN],
    env: heapTrace ? { ...variant.env, TAIL_PROBE_OUT: heapTrace } : variant.env,
  });
  try {
    await sendOk(peer.url, peer.host, signer, getSecretValue(0));
    const afterStartRssMb = mb(peer.memory().rssBytes);
    const tokens = listing.filtered ? offsetTokens(secrets) : await listTokens(peer, signer, secrets);
    const sampler = startSampling(peer);
    const random = rng(11);
    const gets = (): RequestSource => pool(peer.host, signer, 20_000, () => getSecretValue(random.below(secrets)));
    const lists = (): RequestSource => pool(peer.host, signer, tokens.length, listCall(tokens, listing));
    const load = { connections: 64, durationSeconds: 3600, timeoutSeconds: 30 };
    const phases: PhaseResult[] = [];
    const run = async (phase: string, targets: { url: string; source: RequestSource }[], amount: number) => {
      sampler.resetPhase();
      const cacheBefore = await readCacheCounts(peer);
      const measurement = await runLoadSpread(targets, () => peer.cpuMicros(), { ...load, amount });
      const map = memoryMap(peer.pid);
      const spaces = await heapSpaces(peer);
      const cacheAfter = await readCacheCounts(peer);
      // What is resident outside the main isolate's heap: native memory (malloc: SQLite, Buffers' bytes, sockets)
      // and the audit writer thread's isolate, which /metrics does not see.
      const outside = `outside the main heap ${(map.anonMb - spaces.committedMb).toFixed(0)} MB`;
      const threads = heapTrace ? `; ${await threadHeaps(heapTrace)}` : '';
      const hitRate = readCacheHitRate(cacheBefore, cacheAfter);
      phases.push({ phase, measurement, peakRssMb: sampler.phasePeakMb(), atEnd: `${map.text}; ${spaces.text}; ${hitRate}; ${outside}${threads}` });
    };
    await run('get-random', [{ url: peer.url, source: gets() }], amounts.gets);
    await run('list', [{ url: peer.url, source: lists() }], amounts.pages);
    // Half the connections each, and the same number of calls each (runLoadSpread splits `amount` evenly).
    await run('both', [
      { url: peer.url, source: gets() },
      { url: peer.url, source: lists() },
    ], 2 * amounts.pages);
    const samples = await sampler.stop();
    return {
      label: variant.label,
      afterStartRssMb,
      peakRssMb: samples.peakRssMb,
      vmHwmMb: mb(peer.memory().peakRssBytes),
      endRssMb: mb(peer.memory().rssBytes),
      heapUsedMaxMb: samples.heapUsedMaxMb,
      heapTotalMaxMb: samples.heapTotalMaxMb,
      externalMaxMb: samples.externalMaxMb,
      phases,
    };
  } finally {
    await peer.stop();
  }
}

/**
 * The `NAME=VALUE` words before `node` on a bin/coffer's `#!/usr/bin/env -S` line: glibc reads MALLOC_ARENA_MAX and
 * GLIBC_TUNABLES at the process's start, so a probe that passed only the Node flags measured another allocator.
 */
function shebangEnv(bin?: string): Record<string, string> {
  const shebang = readFileSync(bin ?? join(REPO_ROOT, 'bin/coffer'), 'utf8').split('\n', 1)[0]!;
  const words = shebang.replace(/^#!\S+/, '').trim().split(/\s+/);
  const env: Record<string, string> = {};
  for (const word of words.slice(0, words.indexOf('node'))) {
    const at = word.indexOf('=');
    if (at > 0) env[word.slice(0, at)] = word.slice(at + 1);
  }
  return env;
}

/**
 * GetSecretValue of every secret once, in-process: the first read of a day writes LastAccessedDate, and every
 * write empties the read cache, so without this the measured reads would be writes and the cache empty (not the
 * steady state). A marker file records that it was done today.
 */
async function readEverySecretOnce(dataDir: string, secrets: number, signer: Signer): Promise<void> {
  const coffer = await openInProcess(dataDir);
  try {
    await forEachConcurrently(secrets, 16, async (index) => {
      const call = getSecretValue(index);
      const response = await coffer.call(signer.sign('seed.local', call.service, `${TARGET_PREFIX[call.service]}.${call.operation}`, JSON.stringify(call.payload)));
      if (response.status !== 200) throw new Error(`reading ${index} answered ${response.status}`);
    });
  } finally {
    await coffer.close();
  }
  writeFileSync(join(dataDir, READ_ONCE_MARKER), new Date().toISOString().slice(0, 10));
}

/** NextTokens of LIST_TOKENS pages spread over the corpus: walks every page once (100 secrets each). */
async function listTokens(peer: Peer, signer: Signer, secrets: number): Promise<(string | undefined)[]> {
  const pages = Math.ceil(secrets / LIST_PAGE_SIZE);
  const every = Math.max(1, Math.floor(pages / LIST_TOKENS));
  const tokens: (string | undefined)[] = [undefined];
  let token: string | undefined;
  for (let page = 1; ; page++) {
    const payload: Record<string, unknown> = token === undefined ? { MaxResults: LIST_PAGE_SIZE } : { MaxResults: LIST_PAGE_SIZE, NextToken: token };
    token = (await sendOk(peer.url, peer.host, signer, { service: 'secretsmanager', operation: 'ListSecrets', payload })).NextToken;
    if (!token) return tokens;
    if (page % every === 0) tokens.push(token);
  }
}

/** Offset NextTokens (as a filtered listing gives) of LIST_TOKENS pages spread over the corpus. */
function offsetTokens(secrets: number): (string | undefined)[] {
  const every = Math.max(1, Math.floor(secrets / LIST_TOKENS));
  return [undefined, ...Array.from({ length: LIST_TOKENS - 1 }, (_, index) => Buffer.from(JSON.stringify({ offset: (index + 1) * every })).toString('base64url'))];
}

/** What the list phases send: ListSecrets pages, filtered or not (and in which order), or filtered batches. */
type Listing = { filtered: boolean; batch: boolean; sortBy: string | undefined };

function listCall(tokens: (string | undefined)[], listing: Listing) {
  let next = 0;
  const filter = listing.filtered ? { Filters: [{ Key: 'name', Values: ['bench/'] }], ...(listing.sortBy && !listing.batch ? { SortBy: listing.sortBy } : {}) } : {};
  const operation = listing.batch ? 'BatchGetSecretValue' : 'ListSecrets';
  const MaxResults = listing.batch ? BATCH_SIZE : LIST_PAGE_SIZE;
  return () => {
    const token = tokens[next++ % tokens.length];
    return { service: 'secretsmanager' as const, operation, payload: token === undefined ? { MaxResults, ...filter } : { MaxResults, NextToken: token, ...filter } };
  };
}

/** VmRSS every 20 ms; heap and external memory from /metrics every second. */
function startSampling(peer: Peer) {
  let peak = 0;
  let phasePeak = 0;
  let heapUsedMax = 0;
  let heapTotalMax = 0;
  let externalMax = 0;
  const rssTimer = setInterval(() => {
    const rss = peer.memory().rssBytes;
    peak = Math.max(peak, rss);
    phasePeak = Math.max(phasePeak, rss);
  }, 20);
  let scraping: Promise<void> = Promise.resolve();
  const metricsTimer = setInterval(() => {
    scraping = scrape(peer).then((parts) => {
      heapUsedMax = Math.max(heapUsedMax, parts.heapUsed);
      heapTotalMax = Math.max(heapTotalMax, parts.heapTotal);
      externalMax = Math.max(externalMax, parts.external);
    }, () => undefined);
  }, 1000);
  return {
    resetPhase: () => (phasePeak = 0),
    phasePeakMb: () => mb(phasePeak),
    async stop() {
      clearInterval(rssTimer);
      clearInterval(metricsTimer);
      await scraping;
      return { peakRssMb: mb(peak), heapUsedMaxMb: mb(heapUsedMax), heapTotalMaxMb: mb(heapTotalMax), externalMaxMb: mb(externalMax) };
    },
  };
}

/** The server's resident memory split as /proc/PID/smaps_rollup splits it: anonymous (heaps, caches) and file-backed. */
function memoryMap(pid: number): { text: string; anonMb: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  if (process.env.RSS_PROBE_MAPS) process.stdout.write(`${largestMappings(pid)}\n`);
  return {
    text: `rss ${(kb('Rss') / 1024).toFixed(0)} = anon ${(kb('Anonymous') / 1024).toFixed(0)} + file ${((kb('Rss') - kb('Anonymous')) / 1024).toFixed(0)} MB`,
    anonMb: kb('Anonymous') / 1024,
  };
}

/** The ten mappings holding the most resident memory (RSS_PROBE_MAPS=1: where the memory outside V8's heap is). */
function largestMappings(pid: number): string {
  const mappings: { name: string; size: number; rss: number }[] = [];
  let current: { name: string; size: number; rss: number } | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      current = { name: header[3] || '(anon)', size: (parseInt(header[2]!, 16) - parseInt(header[1]!, 16)) / 1024, rss: 0 };
      mappings.push(current);
    } else if (current && line.startsWith('Rss:')) current.rss = Number(/\d+/.exec(line)![0]);
  }
  const anonBySize = new Map<number, { count: number; rss: number }>();
  for (const m of mappings.filter((m) => m.name === '(anon)')) {
    const bucket = m.size >= 65536 ? 65536 : m.size >= 1024 ? 1024 : m.size >= 256 ? 256 : 0;
    const entry = anonBySize.get(bucket) ?? { count: 0, rss: 0 };
    entry.count += 1;
    entry.rss += m.rss;
    anonBySize.set(bucket, entry);
  }
  const top = mappings.sort((a, b) => b.rss - a.rss).slice(0, 10).map((m) => `${m.name} ${(m.size / 1024).toFixed(1)}M rss ${(m.rss / 1024).toFixed(1)}M`);
  return `  top mappings: ${top.join('; ')}\n  anon by mapping size (KB bucket: count, rss MB): ${[...anonBySize].map(([b, e]) => `${b}+: ${e.count}, ${(e.rss / 1024).toFixed(0)}`).join('; ')}`;
}

/**
 * Each thread's V8 heap, committed/used MB, from the preload's latest line per thread and the largest committed
 * since the previous phase's end (the preload writes every 250 ms; waits for one more line).
 */
async function threadHeaps(trace: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const latest = new Map<string, { total: number; used: number; max: number }>();
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[0] !== 'heap') continue;
    const before = latest.get(f[1]!);
    latest.set(f[1]!, { total: Number(f[3]), used: Number(f[4]), max: Math.max(before?.max ?? 0, Number(f[3])) });
  }
  writeFileSync(trace, '');
  return [...latest].map(([thread, h]) => `${thread === 'main' ? 'main' : 'writer'} heap ${h.total.toFixed(0)}/${h.used.toFixed(0)} (max ${h.max.toFixed(0)})`).join(', ');
}

/** The main isolate's heap spaces (size / used, MB) from /metrics, and their committed total. */
async function heapSpaces(peer: Peer): Promise<{ text: string; committedMb: number }> {
  const metrics = await (await fetch(`${peer.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const spaces = new Map<string, { total: number; used: number }>();
  for (const match of metrics.matchAll(/^nodejs_heap_space_size_(total|used)_bytes\{space="(\w+)"\} (\S+)$/gm)) {
    const entry = spaces.get(match[2]!) ?? { total: 0, used: 0 };
    entry[match[1] as 'total' | 'used'] = Number(match[3]);
    spaces.set(match[2]!, entry);
  }
  const cache = /^coffer_store_read_cache_entries(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1];
  const text = [...spaces].filter(([, v]) => v.total > 1024 * 1024).map(([name, v]) => `${name} ${mb(v.total).toFixed(0)}/${mb(v.used).toFixed(0)}`).join(', ') + (cache ? `; read cache ${cache} entries` : '');
  return { text, committedMb: mb([...spaces.values()].reduce((sum, v) => sum + v.total, 0)) };
}

/** The read cache's hit and miss counters so far (GET /metrics). */
async function readCacheCounts(peer: Peer): Promise<{ hits: number; misses: number }> {
  const metrics = await (await fetch(`${peer.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const count = (result: string) => Number(new RegExp(`^coffer_store_read_cache_requests_total\\{result="${result}"\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
  return { hits: count('hit'), misses: count('miss') };
}

/** The share of a phase's point reads the read cache answered: what its byte bound buys at this corpus. */
function readCacheHitRate(before: { hits: number; misses: number }, after: { hits: number; misses: number }): string {
  const hits = after.hits - before.hits;
  const reads = hits + after.misses - before.misses;
  return `read cache hits ${reads === 0 ? '-' : ((100 * hits) / reads).toFixed(1)} % of ${reads}`;
}

async function scrape(peer: Peer): Promise<{ heapUsed: number; heapTotal: number; external: number }> {
  const response = await fetch(`${peer.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await response.text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { heapUsed: value('nodejs_heap_size_used_bytes'), heapTotal: value('nodejs_heap_size_total_bytes'), external: value('nodejs_external_memory_bytes') };
}

function line(result: Omit<RunResult, 'round'>): string {
  const phases = result.phases.map((p) => `${p.phase} ${p.measurement.requestsPerSecond.toFixed(0)}/s p99 ${p.measurement.p99Ms.toFixed(1)} ms ${p.measurement.serverCpuMicrosPerRequest.toFixed(0)} µs peak ${p.peakRssMb.toFixed(0)} MB err ${p.measurement.errors} [end: ${p.atEnd}]`);
  return `${result.label}: start ${result.afterStartRssMb.toFixed(0)} MB, peak ${result.peakRssMb.toFixed(0)} MB (VmHWM ${result.vmHwmMb.toFixed(0)}), end ${result.endRssMb.toFixed(0)}, heap used/total max ${result.heapUsedMaxMb.toFixed(0)}/${result.heapTotalMaxMb.toFixed(0)}, external max ${result.externalMaxMb.toFixed(0)} | ${phases.join(' | ')}`;
}

function report(results: RunResult[], variants: Variant[]): string {
  const rows = ['| build | peak RSS (VmHWM) | after start | end | heap total max | external max | get-random p99 / µs/req | list p99 / µs/page | both p99 | phase peaks get / list / both |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const variant of variants) {
    const runs = results.filter((result) => result.label === variant.label);
    const med = (pick: (result: RunResult) => number) => median(runs.map(pick)).toFixed(0);
    const phase = (name: string, pick: (m: Measurement) => number, digits = 1) => median(runs.map((run) => pick(run.phases.find((p) => p.phase === name)!.measurement))).toFixed(digits);
    const phasePeak = (name: string) => median(runs.map((run) => run.phases.find((p) => p.phase === name)!.peakRssMb)).toFixed(0);
    rows.push(
      `| ${variant.label} ${[...Object.entries(variant.env).map(([name, value]) => `${name}=${value}`), ...variant.nodeFlags, ...variant.nodeArgs].join(' ')} | ${med((r) => r.vmHwmMb)} MB | ${med((r) => r.afterStartRssMb)} | ${med((r) => r.endRssMb)} | ${med((r) => r.heapTotalMaxMb)} | ${med((r) => r.externalMaxMb)} | ${phase('get-random', (m) => m.p99Ms)} ms / ${phase('get-random', (m) => m.serverCpuMicrosPerRequest, 0)} | ${phase('list', (m) => m.p99Ms)} ms / ${phase('list', (m) => m.serverCpuMicrosPerRequest, 0)} | ${phase('both', (m) => m.p99Ms)} ms | ${phasePeak('get-random')} / ${phasePeak('list')} / ${phasePeak('both')} |`,
    );
  }
  return `medians of ${Math.max(...results.map((r) => r.round)) + 1} rounds (MB unless said)\n\n${rows.join('\n')}`;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

await main();
