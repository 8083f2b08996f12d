import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { RootKeySource } from '../../crypto/index.js';
import { defaultAuditAnchorFile, openAuditLog, rootKeyNeedsPassphrase, type AuditLog } from '../../server/index.js';
import { rootPassphrase } from '../secret-input.js';

type VerifyOptions = { dataDir: string; store?: string; auditAnchorFile?: string; rootKeyFile?: string; archive?: string };

const STORE_OPTION = ['--store <url>', "the deployment's PostgreSQL instead of the data dir's database; env COFFER_STORE_URL"] as const;

/** `coffer audit verify|list`: the data dir's audit log, read locally (no server needed). */
export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('verify and read the tamper-evident audit log of a data dir');
  audit
    .command('verify')
    .description('walk the hash chain and check it against its signed anchors; exit 1 naming a changed, missing or moved event, or a truncated log')
    .option('--data-dir <dir>', 'the data dir of the server', './.coffer')
    .option(...STORE_OPTION, process.env.COFFER_STORE_URL)
    .option('--audit-anchor-file <file>', 'the anchors the server wrote (default <data-dir>.audit-anchors; on PostgreSQL any node\'s); a copy of the server log works too')
    .option('--root-key-file <file>', 'root key file (default <data-dir>/root.key); COFFER_ROOT_KEY (base64) overrides it')
    .option('--archive <dir>', 'also verify the archive files audit retention wrote (e.g. <data-dir>.audit-archive), with the database, as one chain from event 1')
    .action(async (options: VerifyOptions) => {
      const log = await openOrExit(options.dataDir, options.store);
      try {
        process.exitCode = await verify(log, options);
      } finally {
        await log.close();
      }
    });
  audit
    .command('list')
    .description('print audit events as JSON lines, newest first')
    .option('--data-dir <dir>', 'the data dir of the server', './.coffer')
    .option(...STORE_OPTION, process.env.COFFER_STORE_URL)
    .option('--event-name <name>', 'only events of this operation (GetSecretValue, Decrypt, …)')
    .option('--limit <n>', 'at most this many events', '50')
    .action(async (options: { dataDir: string; store?: string; eventName?: string; limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        process.stderr.write(`coffer: --limit must be a positive integer, not ${options.limit}\n`);
        process.exit(2);
      }
      const log = await openOrExit(options.dataDir, options.store);
      const events = await log.list({ eventName: options.eventName, limit });
      await log.close();
      for (const event of events) process.stdout.write(`${event.body}\n`);
    });
}

/**
 * The chain first (it names a changed, removed or moved event), then the anchors (a deleted tail, a rolled-back
 * log, a forged anchor). Prints the head, which an operator may record to check later copies against.
 */
async function verify(log: AuditLog, options: VerifyOptions): Promise<number> {
  const dataDir = resolve(options.dataDir);
  const anchorFile = options.auditAnchorFile ? resolve(options.auditAnchorFile) : defaultAuditAnchorFile(dataDir);
  const archiveDir = options.archive ? resolve(options.archive) : undefined;
  if (archiveDir && !existsSync(archiveDir)) {
    process.stderr.write(`coffer: the archive directory ${archiveDir} does not exist\n`);
    return 2;
  }
  const result = await log.verify({ archiveDir, anchorFile });
  if (!result.intact) {
    const which = result.eventId ? `event ${result.brokenSequence} (${result.eventId})` : `event ${result.brokenSequence}`;
    const where = result.brokenSequence === 0 ? result.reason : `${which}: ${result.reason}`;
    process.stderr.write(`audit chain broken at ${where} (${result.events} events verified before it)\n`);
    return 1;
  }
  process.stdout.write(`${result.events} events, chain intact\n`);
  const archived = result.archived;
  if (archived?.checked) process.stdout.write(`archived: events 1 to ${archived.through} in ${archived.files} files, verified with the database as one chain\n`);
  else if (archived) process.stdout.write(`archived: events 1 to ${archived.through} left the database (audit retention) and were not checked; give --archive DIR to check them\n`);
  const head = result.head;
  if (head) process.stdout.write(`head: event ${head.sequence}, hash ${head.hash}, time ${head.eventTime.toISOString()}\n`);
  let anchors;
  try {
    anchors = await log.verifyAnchors(anchorFile, await rootKeySource(dataDir, options.rootKeyFile), head?.sequence ?? archived?.through ?? 0, archived);
  } catch (error) {
    process.stderr.write(`coffer: cannot check the audit anchors: ${error instanceof Error ? error.message : String(error)} (give --root-key-file or COFFER_ROOT_KEY)\n`);
    return 2;
  }
  if (!anchors.ok) {
    process.stderr.write(`audit log does not match its anchors in ${anchorFile}: ${anchors.reason}\n`);
    return 1;
  }
  if (!anchors.latest) {
    if (!head) return 0;
    process.stderr.write(
      `no anchor in ${anchorFile} covers this log: deleting its newest events would go unnoticed. The server anchors ` +
        'the chain every few seconds and when it stops; give --audit-anchor-file if it wrote them elsewhere\n',
    );
    return 1;
  }
  const after = (head?.sequence ?? 0) - anchors.latest.sequence;
  process.stdout.write(`anchored: event ${anchors.latest.sequence} at ${anchors.latest.time}, ${anchors.anchors} anchors valid; ${after} events after the newest anchor\n`);
  return 0;
}

async function rootKeySource(dataDir: string, rootKeyFile: string | undefined): Promise<RootKeySource> {
  if (process.env.COFFER_ROOT_KEY !== undefined) return { kind: 'env', base64: process.env.COFFER_ROOT_KEY };
  const path = rootKeyFile ? resolve(rootKeyFile) : join(dataDir, 'root.key');
  // A passphrase-protected key file: COFFER_ROOT_PASSPHRASE, or the prompt.
  const passphrase = await rootPassphrase(undefined, rootKeyNeedsPassphrase({ dataDir, rootKeyFile: path }));
  return { kind: 'file', path, createIfMissing: false, passphrase };
}

async function openOrExit(dataDir: string, storeUrl: string | undefined) {
  try {
    return await openAuditLog(resolve(dataDir), storeUrl || undefined);
  } catch (error) {
    process.stderr.write(`coffer: cannot open the audit log: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
