/**
 * Coffer's benchmark (issue 6): Coffer, moto_server and a bare Node http server side by side under the same
 * load generator, on the same machine, in the same run; with `--peers coffer,skeleton,...,bare`, also the skeleton
 * (skeleton.ts: only the work no call may drop, with the build's own code) whole and with each part left out.
 *
 *   node bench/dist/main.js [--quick] [flags]     the full run, or the quick one (settings.ts lists the flags)
 *   node bench/dist/main.js profile [flags]       Coffer under --cpu-prof: self time by function, file, area
 *   node bench/dist/main.js analyze FILE          the same summary for an existing .cpuprofile
 *   node bench/dist/main.js postgres [flags]      SQLite against PostgreSQL (1 and 3 nodes): postgres-suite.ts
 *   node bench/dist/main.js postgres-report FILE  that suite's report again from its JSON (bench/results/postgres.json)
 *   node bench/dist/main.js postgres-trace        the SQL statements of single requests on PostgreSQL (statement-trace.ts)
 *
 * Every process and directory the bench creates is removed when it ends, however it ends.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeSnapshot, snapshotBuild } from './coffer-build.js';
import { DEV_KEY, killAllPeers, LOAD_CPUS, pinSelf } from './peers.js';
import { analyzeProfile, runProfile } from './profile-run.js';
import { dropDatabaseOnAbort, renderPostgresReport, runPostgresSuite } from './postgres-suite.js';
import { renderReport } from './report.js';
import { runStatementTrace } from './statement-trace.js';
import { writePostgresResults, writeResults } from './results-file.js';
import { runBench } from './run.js';
import { parseCommand } from './settings.js';
import { selfCheck, Signer } from './signer.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'postgres-report') {
    if (!argv[1]) throw new Error('usage: node bench/dist/main.js postgres-report bench/results/postgres.json');
    process.stdout.write(renderPostgresReport(JSON.parse(readFileSync(argv[1], 'utf8'))) + '\n');
    return;
  }
  if (argv[0] === 'analyze') {
    if (!argv[1]) throw new Error('usage: node bench/dist/main.js analyze FILE.cpuprofile');
    process.stdout.write(analyzeProfile(argv[1]) + '\n');
    return;
  }
  const command = parseCommand(argv);
  await selfCheck();
  if (command.settings.pin) pinSelf(LOAD_CPUS);
  snapshotBuild(command.settings.build);
  // Servers run from a dir on disk (durable writes are measured there); seeding runs on tmpfs when there is one.
  const disk = mkdtempSync(join(tmpdir(), 'coffer-bench-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-bench-') : join(disk, 'scratch');
  const cleanUp = () => {
    killAllPeers();
    for (const dir of [disk, scratch]) rmSync(dir, { recursive: true, force: true });
    removeSnapshot();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp();
      void dropDatabaseOnAbort().finally(() => process.exit(130));
    });
  }
  try {
    if (command.kind === 'profile') {
      process.stdout.write((await runProfile(command.settings, { disk, scratch }, new Signer(DEV_KEY))) + '\n');
      return;
    }
    if (command.kind === 'postgres-trace') {
      process.stdout.write((await runStatementTrace({ disk }, { pgLog: command.pgLog })) + '\n');
      return;
    }
    if (command.kind === 'postgres') {
      const results = await runPostgresSuite(command, { disk, scratch });
      const report = renderPostgresReport(results);
      process.stdout.write(`\n${report}\n`);
      if (command.writeResults) writePostgresResults(results);
      return;
    }
    const results = await runBench(command, { disk, scratch });
    const report = renderReport(results);
    process.stdout.write(`\n${report}\n`);
    if (command.writeResults) writeResults(results, report);
  } finally {
    cleanUp();
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  killAllPeers();
  process.exitCode = 1;
});
