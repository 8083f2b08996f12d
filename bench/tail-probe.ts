/**
 * What makes the p99 at 64 connections (issue 21): `node bench/dist/tail-probe.js [--workloads kms-decrypt,get-hot]
 * [--duration S] [--rounds R] [--secrets N] [--fresh] [--compare L=DIR] [--node-args L=ARGS]`.
 * Each cell runs a workload against `coffer server` pinned to CPU 0 (load on CPU 1, 64 connections, 1 s warm-up)
 * with bench/dist/tail-preload.js loaded into it, and lines every answer (its start and end) up with the server's
 * garbage collections and event-loop delay: how much of the tail overlaps a mark-compact or a scavenge, whether the
 * slow answers come in bursts, the second-by-second p99, and the audit hand-off → durable time from /metrics.
 * `--fresh` gives each workload a server of its own; otherwise the workloads run in order on one server.
 * `--stdout-prefix P` keeps each server's stdout in P-LABEL-ROUND-WORKLOADS.txt (with `--node-args L=--trace-gc`) and
 * the preload's trace in P-preload-LABEL-ROUND-WORKLOADS.txt.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cofferMain, cofferNodeFlags, removeSnapshot, snapshotBuild, snapshotCompareBuild } from './coffer-build.js';
import { median, splitSpec, valueOf, valuesOf } from './extras.js';
import { prepareFixture, type Fixture } from './fixtures.js';
import { runLoad, type Measurement } from './load.js';
import { log } from './log.js';
import { DEV_KEY, killAllPeers, LOAD_CPUS, pinSelf, SERVER_CPUS, startCoffer, type Peer } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';
import { WORKLOADS } from './workloads.js';

type Variant = { label: string; main: string; nodeFlags: string[]; nodeArgs: string[] };
type Pause = { thread: string; kind: string; start: number; ms: number };
type LoopWindow = { at: number; p99: number; max: number; utilisation: number };
type Cell = { round: number; label: string; workload: string; m: Measurement; text: string; slowInMarkCompact: number; slowInGc: number };

const PRELOAD = fileURLToPath(new URL('./tail-preload.js', import.meta.url));
const METRICS_TOKEN = 'tail-probe';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const workloads = (valueOf(argv, '--workloads') ?? 'kms-decrypt,get-hot').split(',');
  const duration = Number(valueOf(argv, '--duration') ?? '5');
  const rounds = Number(valueOf(argv, '--rounds') ?? '2');
  const secrets = Number(valueOf(argv, '--secrets') ?? '2000');
  const fresh = argv.includes('--fresh');
  const gcLog = valueOf(argv, '--stdout-prefix');
  pinSelf(LOAD_CPUS);
  snapshotBuild();
  const variants: Variant[] = [{ label: 'this', main: cofferMain(), nodeFlags: cofferNodeFlags(), nodeArgs: [] }];
  for (const spec of valuesOf(argv, '--compare')) {
    const [label, dir] = splitSpec(spec);
    const bin = join(dirname(dir), 'bin/coffer');
    variants.push({ label, main: snapshotCompareBuild(label, dir), nodeFlags: existsSync(bin) ? cofferNodeFlags(bin) : [], nodeArgs: [] });
  }
  for (const spec of valuesOf(argv, '--node-args')) {
    const [label, args] = splitSpec(spec);
    variants.push({ label, main: cofferMain(), nodeFlags: cofferNodeFlags(), nodeArgs: args.split(/\s+/).filter(Boolean) });
  }
  const signer = new Signer(DEV_KEY);
  const work = mkdtempSync(join(tmpdir(), 'coffer-tail-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-tail-') : join(work, 'scratch');
  const cleanUp = () => {
    killAllPeers();
    for (const dir of [work, scratch]) rmSync(dir, { recursive: true, force: true });
    removeSnapshot();
  };
  process.once('SIGINT', () => (cleanUp(), process.exit(130)));
  const cells: Cell[] = [];
  try {
    const seeded = join(work, 'seeded');
    const { keyId } = await seedCoffer(seeded, join(scratch, 'seed'), secrets, signer);
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? variants : [...variants].reverse();
      for (const variant of order) {
        const groups = fresh ? workloads.map((w) => [w]) : [workloads];
        for (const group of groups) {
          const dataDir = join(work, `data-${variant.label}-${round}`);
          cpSync(seeded, dataDir, { recursive: true });
          // With --stdout-prefix the preload's trace is kept beside the server's stdout.
          const trace = `${gcLog ?? join(work, 'trace')}-preload-${variant.label}-${round}-${group.join('+')}.txt`;
          const peer = await startCoffer({
            dataDir,
            cpus: SERVER_CPUS,
            main: variant.main,
            nodeFlags: variant.nodeFlags,
            nodeArgs: ['--import', PRELOAD, ...variant.nodeArgs],
            serverArgs: ['--metrics-token', METRICS_TOKEN],
            env: { TAIL_PROBE_OUT: trace },
            // --trace-gc (a --node-args variant) prints each collection and its reason on stdout: kept beside the report.
            stdoutFile: gcLog ? `${gcLog}-${variant.label}-${round}-${group.join('+')}.txt` : undefined,
          });
          try {
            const fixture = await prepareFixture(peer, signer, { corpusSize: secrets, randomSetSize: secrets, keyId, listPages: 1 });
            for (const workload of group) {
              const cell = await measureCell(peer, signer, fixture, workload, duration, trace);
              cells.push({ round, label: variant.label, ...cell });
              log(`round ${round} ${variant.label} ${workload}${fresh ? ' (fresh server)' : ''}: ${cell.text}`);
            }
          } finally {
            await peer.stop();
            rmSync(dataDir, { recursive: true, force: true });
          }
        }
      }
    }
  } finally {
    cleanUp();
  }
  process.stdout.write(`${summary(cells, variants, workloads)}\n`);
}

async function measureCell(peer: Peer, signer: Signer, fixture: Fixture, id: string, duration: number, trace: string) {
  const workload = WORKLOADS.find((w) => w.id === id);
  if (!workload) throw new Error(`unknown workload ${id}`);
  await runLoad(peer, workload.source(peer.host, signer, fixture), { connections: 64, durationSeconds: 1, timeoutSeconds: 60 });
  const auditBefore = await auditHistogram(peer);
  const answers: { start: number; end: number }[] = [];
  const epochNow = () => performance.timeOrigin + performance.now();
  const from = epochNow();
  const m = await runLoad(peer, workload.source(peer.host, signer, fixture), {
    connections: 64,
    durationSeconds: duration,
    timeoutSeconds: 10,
    onAnswer: (latencyMs) => {
      const end = epochNow();
      answers.push({ start: end - latencyMs, end });
    },
  });
  const to = epochNow();
  const audit = auditDelta(auditBefore, await auditHistogram(peer));
  // The preload appends every 250 ms: wait for the window that holds the run's end.
  await new Promise((resolve) => setTimeout(resolve, 400));
  const { pauses, loop } = readTrace(trace, from, to);
  return { workload: id, m, ...analyse(m, answers, pauses, loop, audit, to - from) };
}

function analyse(m: Measurement, answers: { start: number; end: number }[], pauses: Pause[], loop: LoopWindow[], audit: string, spanMs: number) {
  const main = pauses.filter((p) => p.thread === 'main');
  const majors = main.filter((p) => p.kind === 'mark-compact');
  const overlaps = (a: { start: number; end: number }, set: Pause[]) => set.some((p) => p.start < a.end && p.start + p.ms > a.start);
  const slow = answers.filter((a) => a.end - a.start >= m.p99Ms);
  const share = (list: typeof answers, set: Pause[]) => (list.length === 0 ? 0 : list.filter((a) => overlaps(a, set)).length / list.length);
  const slowInMarkCompact = share(slow, majors);
  const slowInGc = share(slow, main);
  // Bursts: slow answers per 100 ms window; the share of them in the busiest tenth of the windows.
  const first = Math.min(...answers.map((a) => a.end));
  const buckets = new Map<number, number>();
  for (const a of slow) buckets.set(Math.floor((a.end - first) / 100), (buckets.get(Math.floor((a.end - first) / 100)) ?? 0) + 1);
  const windows = Math.max(1, Math.ceil(spanMs / 100));
  const busiest = [...buckets.values()].sort((a, b) => b - a).slice(0, Math.ceil(windows / 10)).reduce((s, v) => s + v, 0);
  const perSecond: string[] = [];
  for (let second = 0; second * 1000 < spanMs; second++) {
    const inSecond = answers.filter((a) => a.end - first >= second * 1000 && a.end - first < (second + 1) * 1000).map((a) => a.end - a.start);
    if (inSecond.length > 100) perSecond.push(percentile(inSecond, 99).toFixed(1));
  }
  const kinds = [...new Set(pauses.map((p) => `${p.thread} ${p.kind}`))].sort().map((key) => {
    const list = pauses.filter((p) => `${p.thread} ${p.kind}` === key);
    return `${key} ${list.length}× Σ${list.reduce((s, p) => s + p.ms, 0).toFixed(0)} max ${Math.max(...list.map((p) => p.ms)).toFixed(1)} ms`;
  });
  const loopMax = loop.length ? Math.max(...loop.map((w) => w.max)) : NaN;
  const loopP99 = median(loop.map((w) => w.p99));
  const text =
    `${m.requestsPerSecond.toFixed(0)} req/s, ${m.serverCpuMicrosPerRequest.toFixed(1)} µs/req, p50 ${m.p50Ms.toFixed(1)} p99 ${m.p99Ms.toFixed(1)} max ${m.maxMs.toFixed(1)} ms, others ${m.otherCores.toFixed(2)} cores\n` +
    `    p99 per second: ${perSecond.join(' ')}\n` +
    `    slow (≥ p99) answers overlapping a main-thread mark-compact ${(100 * slowInMarkCompact).toFixed(0)} % (all answers ${(100 * share(answers, majors)).toFixed(0)} %), any main GC pause ${(100 * slowInGc).toFixed(0)} % (all ${(100 * share(answers, main)).toFixed(0)} %); in the busiest 10 % of 100 ms windows ${slow.length ? ((100 * busiest) / slow.length).toFixed(0) : 0} %\n` +
    `    GC: ${kinds.join('; ') || 'none'}\n` +
    `    event-loop delay: median of 250 ms windows' p99 ${loopP99.toFixed(1)} ms, max ${loopMax.toFixed(1)} ms, utilisation ${median(loop.map((w) => w.utilisation)).toFixed(2)}\n` +
    `    audit hand-off → durable: ${audit}`;
  return { text, slowInMarkCompact, slowInGc };
}

function readTrace(trace: string, from: number, to: number): { pauses: Pause[]; loop: LoopWindow[] } {
  const pauses: Pause[] = [];
  const loop: LoopWindow[] = [];
  for (const line of existsSync(trace) ? readFileSync(trace, 'utf8').split('\n') : []) {
    const f = line.split(' ');
    if (f[0] === 'gc') {
      const p = { thread: f[1]!.startsWith('worker') ? 'worker' : 'main', kind: f[2]!, start: Number(f[3]), ms: Number(f[4]) };
      if (p.start >= from && p.start <= to) pauses.push(p);
    } else if (f[0] === 'loop') {
      const at = Number(f[2]);
      if (at >= from + 250 && at <= to) loop.push({ at, p99: Number(f[4]), max: Number(f[5]), utilisation: Number(f[6]) });
    }
  }
  return { pauses, loop };
}

/** coffer_audit_write_duration_seconds's buckets, sum and count. */
async function auditHistogram(peer: Peer): Promise<{ buckets: Map<string, number>; sum: number; count: number }> {
  const text = await (await fetch(`${peer.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const buckets = new Map<string, number>();
  for (const match of text.matchAll(/^coffer_audit_write_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm)) buckets.set(match[1]!, Number(match[2]));
  const value = (name: string) => Number(new RegExp(`^coffer_audit_write_duration_seconds_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { buckets, sum: value('sum'), count: value('count') };
}

function auditDelta(before: Awaited<ReturnType<typeof auditHistogram>>, after: Awaited<ReturnType<typeof auditHistogram>>): string {
  const count = after.count - before.count;
  if (count <= 0) return 'no events';
  const mean = ((after.sum - before.sum) / count) * 1000;
  let p99 = 'above the last bucket';
  for (const [le, value] of after.buckets) {
    if (value - (before.buckets.get(le) ?? 0) >= 0.99 * count) {
      p99 = `≤ ${(Number(le) * 1000).toFixed(1)} ms`;
      break;
    }
  }
  return `${count} events, mean ${mean.toFixed(2)} ms, p99 ${p99}`;
}

function summary(cells: Cell[], variants: Variant[], workloads: string[]): string {
  const rows = ['| build | workload | CPU µs/req (median) | p99 ms, rounds (median) | slow answers in a mark-compact (median) | in any GC pause |', '|---|---|---:|---|---:|---:|'];
  for (const variant of variants) {
    for (const workload of workloads) {
      const mine = cells.filter((c) => c.label === variant.label && c.workload === workload);
      if (mine.length === 0) continue;
      rows.push(
        `| ${variant.label} ${variant.nodeArgs.join(' ')} | ${workload} | ${median(mine.map((c) => c.m.serverCpuMicrosPerRequest)).toFixed(1)} | ${mine.map((c) => c.m.p99Ms.toFixed(1)).join(', ')} (${median(mine.map((c) => c.m.p99Ms)).toFixed(1)}) | ${(100 * median(mine.map((c) => c.slowInMarkCompact))).toFixed(0)} % | ${(100 * median(mine.map((c) => c.slowInGc))).toFixed(0)} % |`,
      );
    }
  }
  return rows.join('\n');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

main().catch((error) => {
  killAllPeers();
  process.stderr.write(`tail-probe failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
