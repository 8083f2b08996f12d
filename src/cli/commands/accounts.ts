import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { adminCredentialsText, openCoffer } from '../../server/index.js';

type CreateOptions = { dataDir: string; store?: string; rootKeyFile?: string; endpointUrl?: string };

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
    .option('--store <url>', "the deployment's PostgreSQL (as the server's --store); env COFFER_STORE_URL", process.env.COFFER_STORE_URL)
    .option('--root-key-file <file>', 'root key file (default <data-dir>/root.key); COFFER_ROOT_KEY (base64) overrides it')
    .option('--endpoint-url <url>', "the server's URL for the printed AWS_ENDPOINT_URL (default: the one in <data-dir>/admin-credentials)")
    .action(createAccount);
}

async function createAccount(options: CreateOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  if (!options.store && !existsSync(join(dataDir, 'coffer.db'))) fail(`${dataDir} holds no Coffer database: start \`coffer server --data-dir ${options.dataDir}\` once first`);
  let coffer;
  try {
    coffer = await openCoffer({
      dataDir,
      postgres: options.store ? { url: options.store, poolSize: 2 } : undefined,
      rootKeyFile: options.rootKeyFile && resolve(options.rootKeyFile),
      rootKeyBase64: process.env.COFFER_ROOT_KEY,
      maintenanceIntervalMs: 0,
    });
  } catch (error) {
    fail(`cannot open ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const account = await coffer.accounts.create();
    const endpointUrl = options.endpointUrl ?? serverEndpoint(dataDir);
    // The same export lines as admin-credentials: keys, endpoint and region, ready for `eval` or a file.
    process.stdout.write(`account ${account.accountId} created; its root access key (shown only now):\n`);
    process.stdout.write(adminCredentialsText(account, endpointUrl));
    if (!endpointUrl) process.stdout.write('# AWS_ENDPOINT_URL: the URL of the Coffer server (pass --endpoint-url to print it here)\n');
  } finally {
    await coffer.close();
  }
}

/** The URL the server wrote into admin-credentials on its first start, if the file has one. */
function serverEndpoint(dataDir: string): string | undefined {
  try {
    return /^export AWS_ENDPOINT_URL=(\S+)$/m.exec(readFileSync(join(dataDir, 'admin-credentials'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function fail(message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(2);
}
