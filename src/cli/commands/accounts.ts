import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { adminCredentialsText } from '../../server/index.js';
import { localStoreOptions, openLocalCoffer, type LocalStoreOptions } from '../local-coffer.js';

type CreateOptions = LocalStoreOptions & { endpointUrl?: string };

/**
 * `coffer accounts create`: a local command on a data dir (the server may be running: SQLite shares the file).
 * It needs the root key, because the new root access key's secret is sealed under it.
 */
export function registerAccountsCommand(program: Command): void {
  const accounts = program.command('accounts').description('manage the accounts a Coffer deployment hosts');
  localStoreOptions(accounts.command('create').description('create an account and an access key of its root user; prints them once'))
    .option('--endpoint-url <url>', "the server's URL for the printed AWS_ENDPOINT_URL (default: the one in <data-dir>/admin-credentials)")
    .action(createAccount);
}

async function createAccount(options: CreateOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  const coffer = await openLocalCoffer(options);
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
