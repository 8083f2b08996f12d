/**
 * Turns a run's raw results into the markdown of bench/RESULTS.md: medians of the rounds, ratios measured
 * round by round in the same run, the issue's floor and target checked, and the figures beside the load.
 */
import type { ColdStart } from './cold-start.js';
import { median, type Machine, type SqliteFootprint } from './extras.js';
import type { Measurement } from './load.js';
import type { PeerName } from './peers.js';
import type { Memory } from './proc-stats.js';
import type { Settings } from './settings.js';
import { partsLeftOut, SKELETON_PART_TITLES, SKELETON_PEERS, type SkeletonPart } from './skeleton-parts.js';

/** One (workload, connections, peer): its measured rounds. */
export type Cell = {
  workload: string;
  connections: number;
  peer: PeerName;
  /** 'one-per-connection': too slow to run for the duration; each connection sent one request (one round). */
  style: 'timed' | 'one-per-connection';
  runs: Measurement[];
};

export type Results = {
  command: string;
  startedAt: string;
  minutes: number;
  settings: Settings;
  machine: Machine;
  signerMicrosPerRequest: number;
  seed: { cofferSeconds: number; motoSeconds?: number; motoCorpusSize?: number };
  sqlite: { afterSeed: SqliteFootprint; afterRun?: SqliteFootprint };
  flushLatencyMs: number;
  coldStart: Partial<Record<PeerName | 'coffer-seeded', ColdStart[]>>;
  memory: { cofferAtStart?: Memory; cofferAfterList?: Memory; cofferAtEnd?: Memory; motoAtEnd?: Memory };
  workloads: { id: string; title: string; bodyBytes: number }[];
  cells: Cell[];
  /** Each skeleton peer's audit.db after the load: chain verified, events against the answers measured. */
  skeletonAudit?: Partial<Record<PeerName, { intact: boolean; events: number; answered: number }>>;
  /** CPU µs per request of each workload through the pipeline in-process, without HTTP. */
  inProcessMicros?: Record<string, number>;
};

export function renderReport(results: Results): string {
  const lines: string[] = [];
  const { machine, settings } = results;
  lines.push(`Run ${results.startedAt} (${results.minutes.toFixed(1)} min): \`${results.command}\``, '');
  lines.push(
    `Machine: ${machine.cores} cores${placement(results)}, ${machine.cpuModel}, Linux ${machine.kernel}, Node ${machine.node}, moto ${machine.moto}; ` +
      `load generator, servers and the bench on the same machine. Load average at start: ${machine.loadAverageAtStart.join(' ')}. ` +
      (settings.build
        ? `Build measured: ${settings.build} (the repository was at ${machine.commit}).`
        : `Code: ${machine.commit}${machine.srcChanges ? ` with ${machine.srcChanges} uncommitted change(s) under src/` : ''}.`),
    '',
  );
  lines.push(
    `Corpus: ${fmtInt(settings.corpusSize)} secrets in Coffer (1 KB SecretString each), random access over the first ${fmtInt(settings.randomSetSize)}; ` +
      `moto holds ${fmtInt(results.seed.motoCorpusSize ?? 0)}. Each cell: ${settings.rounds} round(s) of ${settings.durationSeconds} s, ` +
      `peers interleaved round by round; medians shown, ratios are medians of the per-round ratios.` +
      (settings.cofferWorkers > 1 ? ` Coffer ran as ${settings.cofferWorkers} server processes (coffer server --workers N, node:cluster); its CPU and RSS are summed over them.` : ''),
    '',
  );

  lines.push('### Floor and target (issue 6)', '');
  lines.push('| check | measured | floor | target | |', '|---|---|---|---|---|');
  for (const row of checks(results)) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');

  lines.push('### Coffer', '');
  lines.push(
    '| workload | conns | req/s | p50 ms | p99 ms | max ms | errors | server µs/req | in-process µs/req | client µs/req | % of bare | × moto |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const { workload, connections } of rowsOf(results)) {
    const coffer = summary(results, workload, connections, 'coffer');
    if (!coffer) continue;
    lines.push(
      `| ${workload}${coffer.mark} | ${connections} | ${fmtRate(coffer.rps)} | ${fmtMs(coffer.p50)} | ${fmtMs(coffer.p99)} | ${fmtMs(coffer.max)} | ` +
        `${coffer.errors} | ${fmtInt(coffer.serverMicros)} | ${fmtInt(results.inProcessMicros?.[workload] ?? NaN)} | ${fmtInt(coffer.clientMicros)} | ` +
        `${fmtPercent(ratio(results, workload, connections, 'bare'))} | ${fmtTimes(ratio(results, workload, connections, 'moto'))} |`,
    );
  }
  lines.push('');

  lines.push('### Peers: moto_server and the bare Node http server (the ceiling)', '');
  lines.push(
    '| workload | conns | moto req/s | p50 ms | p99 ms | errors | server µs/req | bare req/s | p50 ms | p99 ms | errors | server µs/req | client µs/req | body B |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const { workload, connections } of rowsOf(results)) {
    const moto = summary(results, workload, connections, 'moto');
    const bare = summary(results, workload, connections, 'bare');
    const body = results.workloads.find((w) => w.id === workload)?.bodyBytes;
    const cells = (s: Summary | undefined) =>
      s ? [fmtRate(s.rps) + s.mark, fmtMs(s.p50), fmtMs(s.p99), String(s.errors), fmtInt(s.serverMicros)] : ['—', '—', '—', '—', '—'];
    const row = [...cells(moto), ...cells(bare), bare ? fmtInt(bare.clientMicros) : '—', fmtInt(body ?? NaN)];
    lines.push(`| ${workload} | ${connections} | ${row.join(' | ')} |`);
  }
  lines.push('');

  lines.push(...floorSection(results));

  lines.push('### Beside the load', '');
  lines.push('| figure | Coffer | moto | bare |', '|---|---:|---:|---:|');
  for (const row of figures(results)) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');

  lines.push(
    'Columns: *server µs/req* is the server process tree\'s CPU time (user + system, /proc) over the run ÷ answered requests; ' +
      '*in-process µs/req* is the same workload\'s requests handed one at a time to the pipeline of `openCoffer()` in a fresh ' +
      'process (SigV4, schema, operation, JSON; no HTTP, no sockets), CPU ÷ requests; *client µs/req* is the bench process\'s CPU ' +
      '(autocannon, and signing where a workload signs per request) ÷ answered requests; *% of bare* and *× moto* compare throughput ' +
      'with the peer\'s run in the same round; *errors* are non-2xx answers, connection errors and timeouts, summed over rounds.',
    '',
  );
  lines.push('Workloads:', '');
  for (const workload of results.workloads) lines.push(`- \`${workload.id}\`: ${workload.title}`);
  lines.push('');
  const slow = results.cells.filter((cell) => cell.style === 'one-per-connection');
  if (slow.length > 0) {
    lines.push(
      `‡ Too slow to run for ${settings.durationSeconds} s at this concurrency (1-connection p50 × connections exceeds the duration): ` +
        `each connection sent exactly one request, one round. Cells: ${slow.map((c) => `${c.peer}/${c.workload}/${c.connections}`).join(', ')}.`,
      '',
    );
  }
  const noisy = results.cells.filter((cell) => median(cell.runs.map((run) => run.otherCores)) > 0.25);
  const noisyList = noisy.length <= 12 ? `: ${noisy.map((c) => `${c.peer}/${c.workload}/${c.connections}`).join(', ')}` : '';
  lines.push(
    noisy.length > 0
      ? `† Other processes on the machine used more than 0.25 cores (median of the rounds) during ${noisy.length} of ${results.cells.length} cells${noisyList}.`
      : 'Other processes on the machine stayed under 0.25 cores (median of the rounds) during every cell.',
    '',
  );
  return lines.join('\n');
}

/**
 * The skeleton peer beside Coffer and the bare server (skeleton-server.ts), and each part's cost: the skeleton's
 * server CPU less that of the skeleton without the part, round by round (adjacent runs), median. Empty when no
 * skeleton ran.
 */
function floorSection(results: Results): string[] {
  const rows = rowsOf(results).filter(({ workload, connections }) => findCell(results, workload, connections, 'skeleton'));
  if (rows.length === 0) return [];
  const lines = ['### The floor: the skeleton peer and its parts', ''];
  lines.push(
    '| workload | conns | Coffer µs/req | skeleton µs/req | bare µs/req | Coffer − skeleton | skeleton − bare | Coffer ÷ skeleton | skeleton ÷ bare | skeleton req/s | p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const { workload, connections } of rows) {
    const micros = (peer: PeerName) => summary(results, workload, connections, peer)?.serverMicros ?? NaN;
    const skeleton = summary(results, workload, connections, 'skeleton')!;
    const between = (a: PeerName, b: PeerName, how: (x: number, y: number) => number) => roundByRound(results, workload, connections, a, b, how);
    const less = (x: number, y: number) => x - y;
    const over = (x: number, y: number) => x / y;
    lines.push(
      `| ${workload}${skeleton.mark} | ${connections} | ${fmtInt(micros('coffer'))} | ${fmtInt(micros('skeleton'))} | ${fmtInt(micros('bare'))} | ` +
        `${fmtInt(between('coffer', 'skeleton', less))} | ${fmtInt(between('skeleton', 'bare', less))} | ${fmtRatio(between('coffer', 'skeleton', over))} | ` +
        `${fmtRatio(between('skeleton', 'bare', over))} | ${fmtRate(skeleton.rps)} | ${fmtMs(skeleton.p99)} |`,
    );
  }
  lines.push('');
  const variants = SKELETON_PEERS.filter((peer) => peer !== 'skeleton');
  const partRows: string[] = [];
  for (const { workload, connections } of rows) {
    for (const variant of variants) {
      const without = summary(results, workload, connections, variant);
      if (!without) continue;
      const parts = partsLeftOut(variant);
      const cost = roundByRound(results, workload, connections, 'skeleton', variant, (x, y) => x - y);
      const share = cost / (summary(results, workload, connections, 'skeleton')?.serverMicros ?? NaN);
      partRows.push(`| ${workload} | ${connections} | ${partsTitle(parts)} | ${fmtInt(without.serverMicros)}${without.mark} | ${cost.toFixed(1)} | ${fmtPercent(share)} |`);
    }
  }
  if (partRows.length > 0) {
    lines.push('| workload | conns | part left out | skeleton without it, µs/req | the part, µs/req | of the skeleton |', '|---|---:|---|---:|---:|---:|', ...partRows, '');
  }
  lines.push(
    '*skeleton*: a node:http server that does only what no call may drop, with the measured build\'s own code (SigV4, the ' +
      'JSON body, the envelope opens, the durable chained audit event; no lookup, authorization, schema or metrics). ' +
      'Differences and ratios are taken round by round (adjacent runs of the same round) and their median shown; ' +
      '*the part* is the skeleton less the skeleton without that part.' +
      auditCheck(results),
    '',
  );
  return lines;
}

function partsTitle(parts: SkeletonPart[]): string {
  return parts.length === 1 ? `${parts[0]}: ${SKELETON_PART_TITLES[parts[0]!]}` : `all of ${parts.join(', ')} (left: node:http, the body, JSON in and out)`;
}

function auditCheck(results: Results): string {
  const checked = Object.entries(results.skeletonAudit ?? {});
  if (checked.length === 0) return '';
  const each = checked.map(([name, c]) => `${name} ${fmtInt(c.events)} events for ${fmtInt(c.answered)} answers measured, chain ${c.intact ? 'intact' : '**broken**'}`);
  return ` Audit logs after the load (\`coffer audit verify\`'s code): ${each.join('; ')}.`;
}

/** `how(a, b)` of two peers' server CPU per request, round by round (adjacent runs), median. */
function roundByRound(results: Results, workload: string, connections: number, a: PeerName, b: PeerName, how: (x: number, y: number) => number): number {
  const first = findCell(results, workload, connections, a);
  const second = findCell(results, workload, connections, b);
  if (!first || !second) return NaN;
  const rounds = Math.min(first.runs.length, second.runs.length);
  return median(Array.from({ length: rounds }, (_, i) => how(first.runs[i]!.serverCpuMicrosPerRequest, second.runs[i]!.serverCpuMicrosPerRequest)));
}

function fmtRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—';
}

function placement({ settings, machine }: Results): string {
  if (settings.pin) return ' (servers pinned to CPU 0, the load generator to CPU 1)';
  return machine.usableCores < machine.cores ? ` (**the bench was confined to ${machine.usableCores} of them**)` : '';
}

type Summary = { rps: number; p50: number; p99: number; max: number; errors: number; serverMicros: number; clientMicros: number; mark: string };

function summary(results: Results, workload: string, connections: number, peer: PeerName): Summary | undefined {
  const cell = findCell(results, workload, connections, peer);
  if (!cell || cell.runs.length === 0) return undefined;
  const of = (pick: (run: Measurement) => number) => median(cell.runs.map(pick));
  const noisy = of((run) => run.otherCores) > 0.25;
  return {
    rps: of((run) => run.requestsPerSecond),
    p50: of((run) => run.p50Ms),
    p99: of((run) => run.p99Ms),
    max: Math.max(...cell.runs.map((run) => run.maxMs)),
    errors: cell.runs.reduce((sum, run) => sum + run.errors, 0),
    serverMicros: of((run) => run.serverCpuMicrosPerRequest),
    clientMicros: of((run) => run.clientCpuMicrosPerRequest),
    mark: (cell.style === 'one-per-connection' ? ' ‡' : '') + (noisy ? ' †' : ''),
  };
}

/** Coffer's throughput over `peer`'s, round by round (same round = adjacent runs), median. */
function ratio(results: Results, workload: string, connections: number, peer: PeerName): number {
  const coffer = findCell(results, workload, connections, 'coffer');
  const other = findCell(results, workload, connections, peer);
  if (!coffer || !other) return NaN;
  const rounds = Math.min(coffer.runs.length, other.runs.length);
  return median(Array.from({ length: rounds }, (_, i) => coffer.runs[i]!.requestsPerSecond / other.runs[i]!.requestsPerSecond));
}

function findCell(results: Results, workload: string, connections: number, peer: PeerName): Cell | undefined {
  return results.cells.find((cell) => cell.workload === workload && cell.connections === connections && cell.peer === peer);
}

function rowsOf(results: Results) {
  const rows: { workload: string; connections: number }[] = [];
  for (const cell of results.cells) {
    if (!rows.some((row) => row.workload === cell.workload && row.connections === cell.connections)) rows.push(cell);
  }
  return rows;
}

function checks(results: Results): string[][] {
  const rows: string[][] = [];
  const verdict = (floorMet: boolean, targetMet: boolean) => (targetMet ? 'target met' : floorMet ? 'floor met' : '**below floor**');
  for (const workload of ['get-hot', 'get-random', 'kms-decrypt']) {
    const connections = Math.max(...results.settings.connections);
    const coffer = summary(results, workload, connections, 'coffer');
    if (!coffer) continue;
    const ofBare = ratio(results, workload, connections, 'bare');
    const ofMoto = ratio(results, workload, connections, 'moto');
    rows.push([`${workload} @${connections}: share of bare`, fmtPercent(ofBare), '≥ 30 %', '≥ 50 %', verdict(ofBare >= 0.3, ofBare >= 0.5)]);
    rows.push([`${workload} @${connections}: p99`, `${fmtMs(coffer.p99)} ms`, '< 25 ms', '< 10 ms', verdict(coffer.p99 < 25, coffer.p99 < 10)]);
    if (Number.isFinite(ofMoto)) rows.push([`${workload} @${connections}: × moto`, fmtTimes(ofMoto), '≥ 20×', '', verdict(ofMoto >= 20, ofMoto >= 20)]);
    rows.push([`${workload} @${connections}: server CPU`, `${fmtInt(coffer.serverMicros)} µs/req`, '', '≤ 75 µs/req', coffer.serverMicros <= 75 ? 'target met' : 'above target']);
  }
  const seeded = results.coldStart['coffer-seeded'];
  if (seeded?.length) {
    const ms = median(seeded.map((start) => start.firstSignedMs));
    rows.push([`cold start to first signed answer (${fmtInt(results.sqlite.afterSeed.secrets)} secrets)`, `${fmtInt(ms)} ms`, '', '< 300 ms', ms < 300 ? 'target met' : 'above target']);
  }
  const memory = results.memory.cofferAtEnd;
  if (memory) {
    const mb = memory.peakRssBytes / 2 ** 20;
    rows.push([`peak RSS with ${fmtInt(results.settings.corpusSize)} secrets`, `${fmtInt(mb)} MB`, '', '< 200 MB', mb < 200 ? 'target met' : 'above target']);
  }
  const list = summary(results, 'list', 1, 'coffer');
  if (list) rows.push([`ListSecrets page (1 conn, p50) at ${fmtInt(results.settings.corpusSize)}`, `${fmtMs(list.p50)} ms`, '', '< 20 ms', list.p50 < 20 ? 'target met' : 'above target']);
  return rows;
}

function figures(results: Results): string[][] {
  const cold = (key: PeerName | 'coffer-seeded', pick: (start: ColdStart) => number) => {
    const starts = results.coldStart[key];
    return starts?.length ? `${fmtInt(median(starts.map(pick)))} ms` : '—';
  };
  const mb = (memory: Memory | undefined, pick: (memory: Memory) => number) => (memory ? `${fmtInt(pick(memory) / 2 ** 20)} MB` : '—');
  const { afterSeed, afterRun } = results.sqlite;
  const put = (connections: number, peer: PeerName) => {
    const s = summary(results, 'put', connections, peer);
    return s ? `${fmtRate(s.rps)}/s` : '—';
  };
  const rows = [
    ['cold start, empty data dir: spawn → /health', cold('coffer', (s) => s.healthMs), cold('moto', (s) => s.healthMs), cold('bare', (s) => s.healthMs)],
    ['cold start, empty data dir: spawn → first signed 200', cold('coffer', (s) => s.firstSignedMs), cold('moto', (s) => s.firstSignedMs), '—'],
    [`cold start, ${fmtInt(afterSeed.secrets)} secrets: spawn → /health`, cold('coffer-seeded', (s) => s.healthMs), '—', '—'],
    [`cold start, ${fmtInt(afterSeed.secrets)} secrets: spawn → first signed 200`, cold('coffer-seeded', (s) => s.firstSignedMs), '—', '—'],
    [`RSS after start + one GetSecretValue (${fmtInt(afterSeed.secrets)} secrets)`, mb(results.memory.cofferAtStart, (m) => m.rssBytes), '—', '—'],
    ['RSS after the ListSecrets workload', mb(results.memory.cofferAfterList, (m) => m.rssBytes), '—', '—'],
    ['RSS at the end / peak (VmHWM)', `${mb(results.memory.cofferAtEnd, (m) => m.rssBytes)} / ${mb(results.memory.cofferAtEnd, (m) => m.peakRssBytes)}`, `${mb(results.memory.motoAtEnd, (m) => m.rssBytes)} / ${mb(results.memory.motoAtEnd, (m) => m.peakRssBytes)}`, '—'],
    [
      'coffer.db per secret version (after seeding); audit.db beside it',
      `${fmtInt(afterSeed.bytesPerVersion)} B (${fmtInt(afterSeed.fileBytes / 2 ** 20)} MB / ${fmtInt(afterSeed.versions)} versions); audit.db ${fmtInt((afterSeed.auditFileBytes ?? 0) / 2 ** 20)} MB`,
      'in memory',
      '—',
    ],
    ...(afterRun
      ? [['coffer.db per secret version (after the run); audit.db beside it', `${fmtInt(afterRun.bytesPerVersion)} B (${fmtInt(afterRun.fileBytes / 2 ** 20)} MB / ${fmtInt(afterRun.versions)} versions); audit.db ${fmtInt((afterRun.auditFileBytes ?? 0) / 2 ** 20)} MB`, '—', '—']]
      : []),
    ['durable writes: PutSecretValue/s at 1 / 64 connections', `${put(1, 'coffer')} / ${put(64, 'coffer')}`, `${put(1, 'moto')} / ${put(64, 'moto')} (not durable)`, '—'],
    ['disk: 4 KiB write + fdatasync, median', `${fmtMs(results.flushLatencyMs)} ms`, '—', '—'],
    [
      'seeding',
      `${fmtInt(afterSeed.secrets)} CreateSecret in ${results.seed.cofferSeconds.toFixed(1)} s (in-process pipeline, tmpfs)`,
      results.seed.motoSeconds === undefined ? '—' : `${fmtInt(results.seed.motoCorpusSize ?? 0)} in ${results.seed.motoSeconds.toFixed(1)} s (HTTP)`,
      '—',
    ],
    ['bench signer (node:crypto), per request', `${results.signerMicrosPerRequest.toFixed(1)} µs`, '', ''],
  ];
  return rows;
}

/** Requests per second: whole numbers, but a slow cell's fraction is worth showing. */
function fmtRate(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value < 10 ? value.toFixed(value < 1 ? 2 : 1) : fmtInt(value);
}

function fmtInt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
}

function fmtMs(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value < 1) return value.toFixed(2);
  if (value < 10) return value.toFixed(1);
  return fmtInt(value);
}

function fmtPercent(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(0)} %` : '—';
}

function fmtTimes(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(value < 10 ? 1 : 0)}×` : '—';
}
