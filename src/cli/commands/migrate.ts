import type { Command } from 'commander';
import {
  describeLocation,
  MigrateRefusedError,
  migrateStore,
  VerificationError,
  verifyStores,
  type MigrateProgress,
  type MigrateReport,
  type StoreLocation,
} from '../../server/index.js';

type MigrateOptions = { from: string; to: string; pageSize: string; verifyOnly?: boolean };

/**
 * `coffer migrate --from A --to B`: copies a deployment's whole database between a SQLite data dir and
 * PostgreSQL (either way, or to its own kind) and verifies the copy (server/migrate.ts). Stop the servers on
 * both first. Exit 0 when copied and verified; 1 when the copy failed or the verification found a difference;
 * 2 when it refused to start (nothing changed): a bad argument, no source database, a target holding data.
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('copy everything (keys, secrets, IAM, grants, functions, rotation state, the audit log) from one store into an empty one, then verify the copy')
    .requiredOption('--from <dataDirOrUrl>', 'the source: a data dir, or a postgres:// (postgresql://) URL')
    .requiredOption('--to <dataDirOrUrl>', 'the empty target: a data dir (created if absent), or a postgres:// URL')
    .option('--page-size <rows>', 'rows read and written at a time', '500')
    .option('--verify-only', 'copy nothing: compare the two stores (row counts and SHA-256 of every sealed blob and row) as after a copy')
    .action(runMigrate);
}

async function runMigrate(options: MigrateOptions): Promise<void> {
  const pageSize = Number(options.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1) exit(2, `--page-size must be a positive integer, not ${options.pageSize}`);
  const progress = new ProgressReporter(process.stderr);
  let report: MigrateReport;
  try {
    const run = options.verifyOnly ? verifyStores : migrateStore;
    report = await run({ from: options.from, to: options.to, pageSize, onProgress: (event) => progress.update(event) });
  } catch (error) {
    progress.end();
    if (error instanceof MigrateRefusedError) exit(2, `${error.message}; nothing was changed`);
    if (error instanceof VerificationError) exit(1, `verification failed: ${error.message}`);
    exit(1, `migrate failed: ${error instanceof Error ? error.message : String(error)}${options.verifyOnly ? '' : '; the target was left as it was before (the copy is one transaction)'}`);
  }
  progress.end();
  const rows = report.tables.reduce((sum, table) => sum + table.rows, 0);
  const verb = options.verifyOnly ? 'compared' : 'copied';
  process.stdout.write(
    `${verb} ${rows} rows in ${report.tables.length} tables from ${describeLocation(report.from)} to ${describeLocation(report.to)}; ` +
      'verified: row counts and SHA-256 of every sealed blob and every row match\n',
  );
  if (!options.verifyOnly) process.stdout.write(afterCopyNotes(report.from, report.to));
}

/** What the database does not carry, and the target still needs. */
function afterCopyNotes(from: StoreLocation, to: StoreLocation): string {
  const rootKey =
    from.kind === 'sqlite'
      ? `copy ${from.dataDir}/root.key${to.kind === 'sqlite' ? ` to ${to.dataDir}/root.key` : ' to every node'}, or give the key as COFFER_ROOT_KEY`
      : 'give it the key the PostgreSQL nodes use (COFFER_ROOT_KEY or --root-key-file)';
  return [
    `The root key was not copied (it is never in the database): the target needs the same root key; ${rootKey}.`,
    'Files beside the database were not copied either: the audit anchors (check the copied log with `coffer audit verify ' +
      "--audit-anchor-file <the source's anchors>`) and admin-credentials (the keys themselves were copied).",
    '',
  ].join('\n');
}

/**
 * On a terminal, one bar per table redrawn in place (rows copied / total); otherwise one plain line per table
 * when it is done, so a log stays readable.
 */
class ProgressReporter {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #open = false;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  update(event: MigrateProgress): void {
    if (event.phase === 'verify') return this.#verifying(event);
    const done = event.copied === event.total;
    if (this.#tty) {
      this.#out.write(`\r\x1b[2K${event.table.padEnd(22)} ${bar(event.copied, event.total)} ${event.copied}/${event.total}`);
      this.#open = !done;
      if (done) this.#out.write('\n');
    } else if (done) {
      this.#out.write(`copied ${event.table}: ${event.copied}/${event.total} rows\n`);
    }
  }

  end(): void {
    if (this.#open) this.#out.write('\n');
    this.#open = false;
  }

  #verifying(event: Extract<MigrateProgress, { phase: 'verify' }>): void {
    if (this.#tty) {
      this.#out.write(`\r\x1b[2Kverifying ${event.table} (${event.tableIndex + 1}/${event.tables})`);
      this.#open = true;
    } else if (event.tableIndex === 0) {
      this.#out.write('verifying the target against the source\n');
    }
  }
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function exit(code: number, message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(code);
}
