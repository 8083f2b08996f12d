import { resolve } from 'node:path';
import type { Command } from 'commander';
import { openAuditLog } from '../../server/index.js';

/** `coffer audit verify|list`: the data dir's audit log, read locally (no server needed). */
export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('verify and read the tamper-evident audit log of a data dir');
  audit
    .command('verify')
    .description('walk the hash chain; exit 1 naming the first changed, missing or moved event')
    .option('--data-dir <dir>', 'the data dir of the server', './.coffer')
    .action(async (options: { dataDir: string }) => {
      const log = await openOrExit(options.dataDir);
      const result = await log.verify();
      await log.close();
      if (result.intact) {
        process.stdout.write(`${result.events} events, chain intact\n`);
        return;
      }
      const which = result.eventId ? `event ${result.brokenSequence} (${result.eventId})` : `event ${result.brokenSequence}`;
      process.stderr.write(`audit chain broken at ${which}: ${result.reason} (${result.events} events verified before it)\n`);
      process.exitCode = 1;
    });
  audit
    .command('list')
    .description('print audit events as JSON lines, newest first')
    .option('--data-dir <dir>', 'the data dir of the server', './.coffer')
    .option('--event-name <name>', 'only events of this operation (GetSecretValue, Decrypt, …)')
    .option('--limit <n>', 'at most this many events', '50')
    .action(async (options: { dataDir: string; eventName?: string; limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        process.stderr.write(`coffer: --limit must be a positive integer, not ${options.limit}\n`);
        process.exit(2);
      }
      const log = await openOrExit(options.dataDir);
      const events = await log.list({ eventName: options.eventName, limit });
      await log.close();
      for (const event of events) process.stdout.write(`${event.body}\n`);
    });
}

async function openOrExit(dataDir: string) {
  try {
    return await openAuditLog(resolve(dataDir));
  } catch (error) {
    process.stderr.write(`coffer: cannot open the audit log: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
