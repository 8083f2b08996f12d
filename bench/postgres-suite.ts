/**
 * The PostgreSQL suite (issue 14): GetSecretValue (one hot secret, and random over the random set) and
 * PutSecretValue at 64 connections on three deployments in the same run, rounds alternated between them:
 *
 *   sqlite  one `coffer server` on its embedded SQLite store (the peer every ratio is to)
 *   pg-1    one `coffer server --store postgres://… --pool-size N`
 *   pg-3    three such nodes on the same database; the load generator spreads the connections over their
 *           three ports (22/21/21), as a load balancer would; there is none in between
 *
 * Both stores hold the same corpus (seeded in-process through the real pipeline, then ANALYZEd: BenchDatabase.analyze). The database is a fresh one
 * on the machine's PostgreSQL server, dropped at the end. For each pool size, each round starts the PostgreSQL
 * nodes afresh (so that the connections they hold stay within the server's max_connections, which other
 * work on this machine shares), warms them up, runs every workload, and stops them; the SQLite server stays up.
 * Before each GetSecretValue-random run every secret of the random set is read once, so that its
 * LastAccessedDate (kept to the day) is already today's: otherwise the first reads of the day would write,
 * and each write empties the node's read cache.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sendSigned } from './aws-call.js';
import { describeMachine, flushLatencyMs, median, type Machine } from './extras.js';
import type { Fixture } from './fixtures.js';
import { runLoadSpread, settle, type Measurement } from './load.js';
import { log } from './log.js';
import { snapshotCompareBuild } from './coffer-build.js';
import { DEV_KEY, startCoffer, type Peer } from './peers.js';
import { createBenchDatabase, cpuSpent, type BenchDatabase, type DatabaseSettings } from './postgres-db.js';
import { selectedWorkloads } from './run.js';
import { seedCoffer, seedPostgres } from './seed.js';
import type { Command, Settings } from './settings.js';
import { Signer } from './signer.js';
import { getSecretValue, pool, type Workload } from './workloads.js';

export type Deployment = 'sqlite' | 'pg-1' | 'pg-3';
const NODES: Record<Deployment, number> = { sqlite: 1, 'pg-1': 1, 'pg-3': 3 };

/** One column of a round: a deployment, of the measured build or (its PostgreSQL ones) of a compared build. */
type Target = { id: string; deployment: Deployment; build?: string; main?: string };

/** sqlite, pg-1, pg-3, and pg-1@LABEL, pg-3@LABEL for each compared build (their CLI entries given). */
function targetsOf(compared: Record<string, string>): Target[] {
  const targets: Target[] = [{ id: 'sqlite', deployment: 'sqlite' }];
  for (const deployment of ['pg-1', 'pg-3'] as const) {
    targets.push({ id: deployment, deployment });
    for (const [build, main] of Object.entries(compared)) targets.push({ id: `${deployment}@${build}`, deployment, build, main });
  }
  return targets;
}

export type PostgresRun = Measurement & {
  /** CPU of the PostgreSQL backends serving the bench database, per answered request (0 for SQLite). */
  databaseMicrosPerRequest: number;
  databaseCores: number;
  /** Transactions PostgreSQL failed with 40001 during the run (each then run again), per 100 answers; undefined when its log is unreadable. */
  serializationFailuresPer100?: number;
};

export type PostgresCell = { poolSize: number; target: string; deployment: Deployment; build?: string; nodePoolSize: number; workload: string; runs: PostgresRun[] };

export type PostgresResults = {
  command: string;
  startedAt: string;
  minutes: number;
  settings: Settings;
  machine: Machine;
  flushLatencyMs: number;
  database: DatabaseSettings;
  seed: { sqliteSeconds: number; postgresSeconds: number };
  /** Connections open to the PostgreSQL server (all databases) at the start, before the nodes connect. */
  serverConnectionsAtStart: number;
  cells: PostgresCell[];
};

/**
 * Pool size of each node of pg-3: the run's, but at most a third of the connections (each node serves about
 * that many at once), so that three nodes stay within the server's max_connections of 100.
 */
export function nodePoolSize(deployment: Deployment, poolSize: number, connections: number): number {
  return deployment === 'pg-3' ? Math.min(poolSize, Math.ceil(connections / 3)) : poolSize;
}

export async function runPostgresSuite(command: Command, dirs: { disk: string; scratch: string }): Promise<PostgresResults> {
  const settings = command.settings;
  const started = performance.now();
  const signer = new Signer(DEV_KEY);
  const connections = settings.connections[settings.connections.length - 1]!;
  const workloads = selectedWorkloads(settings);
  const database = await createBenchDatabase();
  openDatabase = database;
  const compared = Object.fromEntries(Object.entries(settings.compareBuilds ?? {}).map(([label, dir]) => [label, snapshotCompareBuild(label, dir)]));
  const targets = targetsOf(compared);
  log(`PostgreSQL suite: database ${database.name}; pool sizes ${settings.poolSizes.join(', ')}; ${connections} connections`);
  try {
    const results: PostgresResults = {
      command: `node bench/dist/main.js postgres ${command.argv.slice(1).join(' ')}`.trim(),
      startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      minutes: 0,
      settings,
      machine: describeMachine(),
      flushLatencyMs: flushLatencyMs(dirs.disk),
      database: database.settings,
      seed: { sqliteSeconds: 0, postgresSeconds: 0 },
      serverConnectionsAtStart: await database.serverConnections(),
      cells: [],
    };
    const sqliteDir = join(dirs.disk, 'sqlite');
    log(`seeding SQLite with ${settings.corpusSize} secrets`);
    results.seed.sqliteSeconds = (await seedCoffer(sqliteDir, join(dirs.scratch, 'seed'), settings.corpusSize, signer)).seconds;
    const rootKeyBase64 = randomBytes(32).toString('base64');
    log(`seeding PostgreSQL with the same ${settings.corpusSize} secrets`);
    results.seed.postgresSeconds = (await seedPostgres(database.url, rootKeyBase64, freshDir(dirs.disk, 'pg-seed'), settings.corpusSize, signer)).seconds;
    await database.analyze();
    const fixture: Fixture = { corpusSize: settings.corpusSize, randomSetSize: settings.randomSetSize, keyId: '', ciphertexts: [], listTokens: [] };

    const sqlite = await startCoffer({ dataDir: sqliteDir });
    const quiet = { remainingMs: settings.quietBudgetMs };
    try {
      for (const poolSize of settings.poolSizes) {
        const cells = new Map<string, PostgresCell>();
        for (const target of targets) {
          for (const workload of workloads) {
            const { id, deployment, build } = target;
            const cell: PostgresCell = { poolSize, target: id, deployment, build, nodePoolSize: nodePoolSize(deployment, poolSize, connections), workload: workload.id, runs: [] };
            cells.set(`${id}/${workload.id}`, cell);
            results.cells.push(cell);
          }
        }
        for (let round = 0; round < settings.rounds; round++) {
          for (const target of inRoundOrder(targets, round)) {
            const poolOfNode = nodePoolSize(target.deployment, poolSize, connections);
            const nodes =
              target.deployment === 'sqlite' ? [sqlite] : await startPostgresNodes(NODES[target.deployment], poolOfNode, database.url, rootKeyBase64, dirs.disk, target.main);
            try {
              await probe(nodes, workloads, signer, fixture);
              await warmUp(nodes, signer, connections, settings.warmupSeconds);
              for (const workload of workloads) {
                if (workload.id === 'get-random') await readEverySecretOnce(nodes[0]!, signer, settings.randomSetSize, connections);
                const cell = cells.get(`${target.id}/${workload.id}`)!;
                const run = await measure(nodes, workload, signer, fixture, database, target.deployment, { connections, durationSeconds: settings.durationSeconds }, quiet);
                cell.runs.push(run);
                logRun(cell, round, settings.rounds, run);
              }
            } finally {
              if (target.deployment !== 'sqlite') await Promise.all(nodes.map((node) => node.stop()));
            }
          }
        }
      }
    } finally {
      await sqlite.stop();
    }
    results.minutes = (performance.now() - started) / 60_000;
    return results;
  } finally {
    openDatabase = undefined;
    await database.drop();
    log(`dropped database ${database.name}`);
  }
}

/** The suite's database while it runs, for dropDatabaseOnAbort. */
let openDatabase: BenchDatabase | undefined;

/** Drops the suite's database if a run is under way (main's SIGINT/SIGTERM handler), within 10 s. */
export async function dropDatabaseOnAbort(): Promise<void> {
  const database = openDatabase;
  openDatabase = undefined;
  if (!database) return;
  await Promise.race([database.drop().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

/**
 * The targets in the order of round `round`: rotated by one each round, so that none always runs first (on
 * the freshest database: every put run adds versions and every run audit events) or right after the same one.
 */
function inRoundOrder<T>(targets: readonly T[], round: number): T[] {
  const shift = round % targets.length;
  return [...targets.slice(shift), ...targets.slice(0, shift)];
}

/** `count` PostgreSQL nodes on `url`, each with its own data dir, all with the run's root key. */
async function startPostgresNodes(count: number, poolSize: number, url: string, rootKeyBase64: string, disk: string, main?: string): Promise<Peer[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startCoffer({
        dataDir: freshDir(disk, 'pg-node'),
        serverArgs: ['--store', url, '--pool-size', String(poolSize)],
        env: { COFFER_ROOT_KEY: rootKeyBase64 },
        ...(main === undefined ? {} : { main }),
      }),
    ),
  );
}

function freshDir(parent: string, prefix: string): string {
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, `${prefix}-`));
}

/** One answer of each workload from each node, checked (a wrong answer stops the suite). */
async function probe(nodes: Peer[], workloads: Workload[], signer: Signer, fixture: Fixture): Promise<void> {
  for (const node of nodes) {
    for (const workload of workloads) {
      const answer = await sendSigned(node.url, workload.source(node.host, signer, fixture).next());
      const problem = answer.status !== 200 ? `answered ${answer.status}: ${answer.text.slice(0, 200)}` : workload.check(answer, fixture);
      if (problem) throw new Error(`${node.url} fails the ${workload.id} probe: ${problem}`);
    }
  }
}

/** GetSecretValue of the hot secret at full load for `seconds` (JIT, connections of the pools, caches). */
async function warmUp(nodes: Peer[], signer: Signer, connections: number, seconds: number): Promise<void> {
  if (seconds <= 0) return;
  const targets = nodes.map((node) => ({ url: node.url, source: pool(node.host, signer, 500, () => getSecretValue(0)) }));
  await runLoadSpread(targets, () => 0, { connections, durationSeconds: seconds, timeoutSeconds: 30 });
}

/** GetSecretValue of secrets 0..count-1, each once, through `node` (see the module comment: LastAccessedDate). */
async function readEverySecretOnce(node: Peer, signer: Signer, count: number, connections: number): Promise<void> {
  let index = 0;
  const source = pool(node.host, signer, count, () => getSecretValue(index++));
  await runLoadSpread([{ url: node.url, source }], () => 0, { connections, durationSeconds: 600, amount: count, timeoutSeconds: 60 });
}

async function measure(
  nodes: Peer[],
  workload: Workload,
  signer: Signer,
  fixture: Fixture,
  database: BenchDatabase,
  deployment: Deployment,
  load: { connections: number; durationSeconds: number },
  quiet: { remainingMs: number },
): Promise<PostgresRun> {
  const together = combined(nodes);
  await settle(together, quiet);
  const databaseBefore = deployment === 'sqlite' ? undefined : await database.backendCpu();
  const logFrom = deployment === 'sqlite' ? undefined : database.logPosition();
  const targets = nodes.map((node) => ({ url: node.url, source: workload.source(node.host, signer, fixture) }));
  const measurement = await runLoadSpread(targets, () => together.cpuMicros(), { ...load, timeoutSeconds: 10 });
  const databaseMicros = databaseBefore ? cpuSpent(databaseBefore, await database.backendCpu()) : 0;
  const failures = database.serializationFailuresSince(logFrom);
  const databaseCores = databaseMicros / 1e6 / measurement.seconds;
  return {
    ...measurement,
    // The backends' CPU is the PostgreSQL server's share, not "other" work on the machine.
    otherCores: Math.max(0, measurement.otherCores - databaseCores),
    databaseMicrosPerRequest: databaseMicros / Math.max(measurement.ok, 1),
    databaseCores,
    ...(failures === undefined ? {} : { serializationFailuresPer100: (failures * 100) / Math.max(measurement.ok, 1) }),
  };
}

/** The nodes as one peer for settle(): their CPU summed. */
function combined(nodes: Peer[]): Peer {
  return { ...nodes[0]!, cpuMicros: () => nodes.reduce((sum, node) => sum + node.cpuMicros(), 0) };
}

function logRun(cell: PostgresCell, round: number, rounds: number, m: PostgresRun): void {
  log(
    `pool ${cell.poolSize} ${cell.target} ${cell.workload} ${round + 1}/${rounds}: ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.p50Ms.toFixed(2)} p99 ${m.p99Ms.toFixed(2)} ms, ` +
      `errors ${m.errors}, coffer ${Math.round(m.serverCpuMicrosPerRequest)} µs/req (${m.serverCores.toFixed(2)} cores), ` +
      `postgres ${Math.round(m.databaseMicrosPerRequest)} µs/req (${m.databaseCores.toFixed(2)} cores), other ${m.otherCores.toFixed(2)} cores` +
      (m.serializationFailuresPer100 === undefined ? '' : `, 40001 retries ${m.serializationFailuresPer100.toFixed(1)} per 100 answers`),
  );
}

// ---------------------------------------------------------------------------------------------------------
// The report

/** Floors of issue 14: PostgreSQL GetSecretValue ≥ 50 % of SQLite's; PutSecretValue ≥ 1,000/s. */
const GET_SHARE_FLOOR = 0.5;
const PUT_FLOOR_PER_SECOND = 1_000;

export function renderPostgresReport(results: PostgresResults): string {
  const { machine, settings, database } = results;
  const connections = settings.connections[settings.connections.length - 1]!;
  const lines: string[] = [];
  lines.push(`Run ${results.startedAt} (${results.minutes.toFixed(1)} min): \`${results.command}\``, '');
  lines.push(
    `Machine: ${machine.cores} cores, ${machine.cpuModel}, Linux ${machine.kernel}, Node ${machine.node}; PostgreSQL ${database.server_version} on the same machine ` +
      `(synchronous_commit ${database.synchronous_commit}, fsync ${database.fsync}, wal_sync_method ${database.wal_sync_method}, shared_buffers ${database.shared_buffers}, ` +
      `max_connections ${database.max_connections}; ${results.serverConnectionsAtStart} connections open to it at the start). ` +
      `Coffer nodes, the PostgreSQL server, the load generator and the bench all share the 2 cores (nothing pinned). ` +
      `Disk flush (4 KiB write + fdatasync): ${results.flushLatencyMs.toFixed(2)} ms. Load average at start: ${machine.loadAverageAtStart.join(' ')}. ` +
      (settings.build ? `Build measured: ${settings.build} (repository at ${machine.commit}).` : `Code: ${machine.commit}${machine.srcChanges ? ` with ${machine.srcChanges} uncommitted change(s) under src/` : ''}.`),
    '',
  );
  lines.push(
    `Corpus: ${fmt(settings.corpusSize)} secrets of 1 KB in each store (seeded in ${results.seed.sqliteSeconds.toFixed(0)} s into SQLite, ${results.seed.postgresSeconds.toFixed(0)} s into PostgreSQL), ` +
      `random access over the first ${fmt(settings.randomSetSize)}. ${connections} connections; each cell ${settings.rounds} round(s) of ${settings.durationSeconds} s, ` +
      `${settings.compareBuilds ? 'sqlite, pg-1, pg-3 and the compared builds\' pg-1@LABEL, pg-3@LABEL' : 'sqlite / pg-1 / pg-3'} alternated round by round (their order rotated by one each round); medians shown; *× sqlite* is the median of the per-round ratios to the SQLite run of the same round. ` +
      `pg-3: three nodes, the connections spread over their ports by the load generator (no load balancer). *coffer µs* is the CPU of the Coffer process(es) per answer, ` +
      `*postgres µs* that of the PostgreSQL backends serving the bench database (WAL writer, checkpointer and other databases' backends not included); ` +
      `*40001 per 100* counts the transactions PostgreSQL failed with a serialization failure (each run again by the store) per 100 answers, from the server's log; ` +
      `*CPU-cost share* is SQLite's CPU per answer over this deployment's (Coffer + PostgreSQL backends): its share of SQLite's throughput were both bound by the same cores.`,
    '',
  );
  lines.push('| pool size (per node) | deployment | workload | req/s | p50 ms | p99 ms | errors | coffer µs/req | postgres µs/req | 40001 per 100 | × sqlite | CPU-cost share |');
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const cell of results.cells) {
    const m = medians(cell.runs);
    const sqlite = cell.deployment === 'sqlite';
    const ratio = sqlite ? '' : `${Math.round(ratioToSqlite(results, cell) * 100)} %`;
    const pool = sqlite ? '–' : `${cell.poolSize}${cell.nodePoolSize !== cell.poolSize ? ` (${cell.nodePoolSize} × 3)` : cell.deployment === 'pg-3' ? ' × 3' : ''}`;
    lines.push(
      `| ${pool} | ${cell.target} | ${cell.workload} | ` +
        `${fmt(m.requestsPerSecond)} | ${m.p50Ms.toFixed(1)} | ${m.p99Ms.toFixed(1)} | ${m.errors} | ${fmt(m.serverCpuMicrosPerRequest)} | ${sqlite ? '' : fmt(m.databaseMicrosPerRequest)} | ${sqlite || m.serializationFailuresPer100 === undefined ? '' : m.serializationFailuresPer100.toFixed(1)} | ${ratio} | ` +
        `${sqlite ? '' : `${Math.round(costShare(results, cell) * 100)} %`} |`,
    );
  }
  lines.push('', '### Floors (issue 14)', '');
  lines.push('| check | pool size | measured | floor | |');
  lines.push('|---|---:|---:|---:|---|');
  for (const cell of results.cells) {
    if (cell.deployment === 'sqlite' || cell.build !== undefined) continue;
    if (cell.workload === 'get-hot' || cell.workload === 'get-random') {
      const share = ratioToSqlite(results, cell);
      lines.push(`| ${cell.target} ${cell.workload}: share of SQLite | ${cell.poolSize} | ${Math.round(share * 100)} % | ≥ ${GET_SHARE_FLOOR * 100} % | ${share >= GET_SHARE_FLOOR ? 'met' : '**missed**'} |`);
    } else if (cell.workload === 'put') {
      const rate = medians(cell.runs).requestsPerSecond;
      lines.push(`| ${cell.target} put: req/s | ${cell.poolSize} | ${fmt(rate)} | ≥ ${fmt(PUT_FLOOR_PER_SECOND)} | ${rate >= PUT_FLOOR_PER_SECOND ? 'met' : '**missed**'} |`);
    }
  }
  const compared = results.cells.filter((cell) => cell.build !== undefined);
  if (compared.length > 0) {
    lines.push('', '### Same-run A/B: the measured build against each compared build', '');
    lines.push('| pool size | deployment | workload | compared build | its req/s | measured build req/s | measured ÷ compared (per round, median) | its CPU µs/req (coffer + postgres) | measured build CPU µs/req |');
    lines.push('|---:|---|---|---|---:|---:|---:|---:|---:|');
    for (const cell of compared) {
      const measured = results.cells.find((other) => other.poolSize === cell.poolSize && other.target === cell.deployment && other.workload === cell.workload)!;
      const perRound = median(measured.runs.map((run, round) => run.requestsPerSecond / (cell.runs[round]?.requestsPerSecond ?? NaN)));
      lines.push(
        `| ${cell.poolSize} | ${cell.deployment} | ${cell.workload} | ${cell.build} | ${fmt(medians(cell.runs).requestsPerSecond)} | ${fmt(medians(measured.runs).requestsPerSecond)} | ${perRound.toFixed(2)}× | ` +
          `${fmt(totalCpu(cell))} | ${fmt(totalCpu(measured))} |`,
      );
    }
  }
  const noisy = results.cells.filter((cell) => median(cell.runs.map((run) => run.otherCores)) > 0.25);
  if (noisy.length > 0) {
    lines.push('', `Other processes on the machine used more than 0.25 cores (median) during: ${noisy.map((c) => `${c.target}/${c.workload}/pool ${c.poolSize}`).join(', ')}.`);
  }
  return lines.join('\n');
}

/** Median CPU per answer of the Coffer node(s) and the PostgreSQL backends together. */
function totalCpu(cell: PostgresCell): number {
  return median(cell.runs.map((run) => run.serverCpuMicrosPerRequest + run.databaseMicrosPerRequest));
}

function medians(runs: PostgresRun[]) {
  const of = (pick: (run: PostgresRun) => number) => median(runs.map(pick));
  return {
    requestsPerSecond: of((run) => run.requestsPerSecond),
    p50Ms: of((run) => run.p50Ms),
    p99Ms: of((run) => run.p99Ms),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    serverCpuMicrosPerRequest: of((run) => run.serverCpuMicrosPerRequest),
    databaseMicrosPerRequest: of((run) => run.databaseMicrosPerRequest),
    serializationFailuresPer100: runs.some((run) => run.serializationFailuresPer100 !== undefined) ? of((run) => run.serializationFailuresPer100 ?? NaN) : undefined,
  };
}

/** Median over rounds of this cell's throughput over SQLite's in the same round (same pool-size pass). */
function ratioToSqlite(results: PostgresResults, cell: PostgresCell): number {
  const sqlite = results.cells.find((other) => other.poolSize === cell.poolSize && other.deployment === 'sqlite' && other.workload === cell.workload);
  if (!sqlite) return NaN;
  return median(cell.runs.map((run, round) => run.requestsPerSecond / (sqlite.runs[round]?.requestsPerSecond ?? NaN)));
}

/**
 * SQLite's CPU per answer (its server) over this cell's (Coffer nodes + PostgreSQL backends), medians: the
 * share of SQLite's throughput this deployment would reach were both bound by the same CPUs. Steadier than
 * the throughput ratio when other work on the machine takes a varying share of the cores.
 */
function costShare(results: PostgresResults, cell: PostgresCell): number {
  const sqlite = results.cells.find((other) => other.poolSize === cell.poolSize && other.deployment === 'sqlite' && other.workload === cell.workload);
  if (!sqlite) return NaN;
  const cost = median(cell.runs.map((run) => run.serverCpuMicrosPerRequest + run.databaseMicrosPerRequest));
  return median(sqlite.runs.map((run) => run.serverCpuMicrosPerRequest)) / cost;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}
