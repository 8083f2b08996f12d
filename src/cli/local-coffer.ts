import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { openCoffer } from '../server/index.js';

/** Where a local command finds the deployment: a data dir (SQLite) or the deployment's PostgreSQL, and its root key. */
export type LocalStoreOptions = { dataDir: string; store?: string; rootKeyFile?: string };

/** The options of every local command that opens the deployment's store (`coffer accounts create`, `coffer oidc set-jwks`). */
export function localStoreOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'the data dir of the server', './.coffer')
    .option('--store <url>', "the deployment's PostgreSQL (as the server's --store); env COFFER_STORE_URL", process.env.COFFER_STORE_URL)
    .option('--root-key-file <file>', 'root key file (default <data-dir>/root.key); COFFER_ROOT_KEY (base64) overrides it');
}

/**
 * Opens the deployment's store and root key for a local command (the server may be running: SQLite shares the
 * file, PostgreSQL is shared anyway), or exits with a message that says what to do. The caller closes it.
 */
export async function openLocalCoffer(options: LocalStoreOptions) {
  const dataDir = resolve(options.dataDir);
  if (!options.store && !existsSync(join(dataDir, 'coffer.db'))) fail(`${dataDir} holds no Coffer database: start \`coffer server --data-dir ${options.dataDir}\` once first`);
  try {
    return await openCoffer({
      dataDir,
      postgres: options.store ? { url: options.store, poolSize: 2 } : undefined,
      rootKeyFile: options.rootKeyFile && resolve(options.rootKeyFile),
      rootKeyBase64: process.env.COFFER_ROOT_KEY,
      maintenanceIntervalMs: 0,
    });
  } catch (error) {
    fail(`cannot open ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A local command's refusal: the message on stderr, exit code 2. */
export function fail(message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(2);
}
