import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { openCoffer } from '../../server/index.js';

type CreateOptions = { dataDir: string; rootKeyFile?: string };

/**
 * `coffer accounts create`: a local command on a data dir (the server may be running: SQLite shares the file).
 * It needs the root key, because the new root access key's secret is sealed under it.
 */
export function registerAccountsCommand(program: Command): void {
  const accounts = program.command('accounts').description('manage the accounts a Coffer deployment hosts');
  accounts
    .command('create')
    .description('create an account and an access key of its root user; prints them once')
    .option('--data-dir <dir>', 'the data dir of the server', './.coffer')
    .option('--root-key-file <file>', 'root key file (default <data-dir>/root.key); COFFER_ROOT_KEY (base64) overrides it')
    .action(createAccount);
}

async function createAccount(options: CreateOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  if (!existsSync(join(dataDir, 'coffer.db'))) fail(`${dataDir} holds no Coffer database: start \`coffer server --data-dir ${options.dataDir}\` once first`);
  let coffer;
  try {
    coffer = await openCoffer({
      dataDir,
      rootKeyFile: options.rootKeyFile && resolve(options.rootKeyFile),
      rootKeyBase64: process.env.COFFER_ROOT_KEY,
      maintenanceIntervalMs: 0,
    });
  } catch (error) {
    fail(`cannot open ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const account = await coffer.accounts.create();
    process.stdout.write(
      [
        `account ${account.accountId} created; its root access key (shown only now):`,
        `export AWS_ACCESS_KEY_ID=${account.accessKeyId}`,
        `export AWS_SECRET_ACCESS_KEY=${account.secretAccessKey}`,
        '',
      ].join('\n'),
    );
  } finally {
    await coffer.close();
  }
}

function fail(message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(2);
}
