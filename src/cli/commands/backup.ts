import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadRootKey, RootKeyError } from '../../crypto/index.js';
import {
  backupStore,
  BackupRefusedError,
  checkBackup,
  describeLocation,
  readBackupKeyFile,
  restoreStore,
  VerificationError,
  type BackupSecret,
} from '../../server/index.js';

type SecretOptions = { passphraseFile?: string; passphraseEnv?: string; keyFile?: string };
type BackupOptions = SecretOptions & { dataDir: string; store?: string; auditAnchorFile?: string; pageSize: string };
type RestoreOptions = SecretOptions & { to: string; rootKeyFile?: string; auditAnchorFile?: string; checkOnly?: boolean };

/**
 * `coffer backup FILE` and `coffer restore FILE --to TARGET` (server/backup.ts). Exit 0 done; 2 refused with
 * nothing changed (a bad argument, an existing file, a damaged, cut, foreign or wrongly keyed backup, a target
 * holding data); 1 when a started restore failed (the target's load is one transaction, so it holds nothing).
 */
export function registerBackupCommands(program: Command, cofferVersion: string): void {
  const backup = program
    .command('backup <file>')
    .description('write an encrypted, checksummed snapshot of the whole store (a running server may keep writing)')
    .option('--data-dir <dir>', 'the data dir of the server', './.coffer')
    .option('--store <url>', "the deployment's PostgreSQL instead of a data dir; env COFFER_STORE_URL", process.env.COFFER_STORE_URL)
    .option('--audit-anchor-file <file>', 'the audit anchors to carry along (default <data-dir>.audit-anchors)')
    .option('--page-size <rows>', 'rows per chunk', '500');
  secretOptions(backup).action(async (file: string, options: BackupOptions) => {
    const pageSize = Number(options.pageSize);
    if (!Number.isInteger(pageSize) || pageSize < 1) exit(2, `--page-size must be a positive integer, not ${options.pageSize}`);
    await run(async () => {
      const report = await backupStore({
        from: options.store || resolve(options.dataDir),
        file: resolve(file),
        secret: backupSecret(options),
        anchorFile: options.auditAnchorFile ? resolve(options.auditAnchorFile) : undefined,
        cofferVersion,
        pageSize,
      });
      const head = report.auditHead ? `audit head: event ${report.auditHead.sequence}, hash ${report.auditHead.hash}` : 'no audit events';
      process.stdout.write(
        `backed up ${report.rows} rows in ${report.tables.length} tables from ${describeLocation(report.from)} to ${report.file} (${report.bytes} bytes); ` +
          `${head}; ${report.anchors} anchors carried\n` +
          'The root key is not in the backup: keep it (root.key, or the COFFER_ROOT_KEY you start with) apart from it; a restore needs both.\n',
      );
    }, 'backup failed');
  });

  const restore = program
    .command('restore <file>')
    .description('check a backup and load it into an empty data dir or PostgreSQL database')
    .option('--to <dataDirOrUrl>', 'the empty target: a data dir (created if absent) or a postgres:// URL')
    .option('--root-key-file <file>', 'the root key the backed-up server used; COFFER_ROOT_KEY (base64) overrides it')
    .option('--audit-anchor-file <file>', "where the restored log's anchors go (default <data-dir>.audit-anchors)")
    .option('--check-only', 'read and check the whole backup (keys, checksums, root key), restore nothing');
  secretOptions(restore).action(async (file: string, options: RestoreOptions) => {
    if (!options.checkOnly && !options.to) exit(2, 'give --to (the empty data dir or database to restore into), or --check-only');
    await run(async () => {
      const secret = backupSecret(options);
      if (options.checkOnly) {
        // The root key is optional here: without it, everything but "is it this installation's" is checked.
        const rootKey = givenRootKey(options);
        try {
          const checked = await checkBackup(resolve(file), secret, rootKey);
          const installation = rootKey ? '; it belongs to this root key' : '; give the root key to check it belongs to this installation';
          process.stdout.write(`${file}: intact; ${checked.rows} rows in ${checked.tables.length} tables, made ${checked.header.createdAt} by Coffer ${checked.header.coffer}${installation}\n`);
        } finally {
          rootKey?.fill(0);
        }
        return;
      }
      const rootKey = restoreRootKey(options);
      try {
        const report = await restoreStore({
          file: resolve(file),
          to: options.to,
          secret,
          rootKey,
          anchorFile: options.auditAnchorFile ? resolve(options.auditAnchorFile) : undefined,
        });
        process.stdout.write(
          `restored ${report.rows} rows in ${report.tables.length} tables into ${describeLocation(report.to)}; verified: row counts and SHA-256 of every ` +
            `sealed blob and every row match the backup; audit chain intact (${report.auditEvents} events)` +
            `${report.anchorFile ? `, anchored in ${report.anchorFile}` : ''}\n` +
            'Start the server there with the same root key (root.key in the data dir, --root-key-file or COFFER_ROOT_KEY).\n',
        );
      } finally {
        rootKey.fill(0);
      }
    }, 'restore failed');
  });
}

function secretOptions(command: Command): Command {
  return command
    .option('--passphrase-file <file>', 'the passphrase, from a file (its first line)')
    .option('--passphrase-env <variable>', 'the passphrase, from an environment variable')
    .option('--key-file <file>', 'a 256-bit key in base64 instead of a passphrase (head -c 32 /dev/urandom | base64 > backup.key)');
}

function backupSecret(options: SecretOptions): BackupSecret {
  const given = [options.passphraseFile, options.passphraseEnv, options.keyFile].filter((value) => value !== undefined).length;
  if (given !== 1) throw new BackupRefusedError('give exactly one of --passphrase-file, --passphrase-env, --key-file');
  if (options.keyFile !== undefined) return { kind: 'key-file', key: readBackupKeyFile(resolve(options.keyFile)) };
  const passphrase = options.passphraseFile !== undefined ? readFileSync(options.passphraseFile, 'utf8').split(/\r?\n/)[0] : process.env[options.passphraseEnv!];
  if (passphrase === undefined || passphrase === '') throw new BackupRefusedError('the passphrase is empty (or its variable is unset)');
  return { kind: 'passphrase', passphrase };
}

function givenRootKey(options: RestoreOptions): Buffer | undefined {
  if (process.env.COFFER_ROOT_KEY === undefined && options.rootKeyFile === undefined) return undefined;
  return restoreRootKey(options);
}

function restoreRootKey(options: RestoreOptions): Buffer {
  try {
    if (process.env.COFFER_ROOT_KEY !== undefined) return loadRootKey({ kind: 'env', base64: process.env.COFFER_ROOT_KEY }).key;
    const path = options.rootKeyFile ? resolve(options.rootKeyFile) : options.to && !/^postgres(ql)?:\/\//i.test(options.to) ? join(resolve(options.to), 'root.key') : undefined;
    if (!path) throw new RootKeyError('no root key given');
    return loadRootKey({ kind: 'file', path, createIfMissing: false }).key;
  } catch (error) {
    throw new BackupRefusedError(
      `a restore needs the root key of the backed-up server (--root-key-file or COFFER_ROOT_KEY): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function run(body: () => Promise<void>, failure: string): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof BackupRefusedError) exit(2, `${error.message}; nothing was changed`);
    if (error instanceof VerificationError) exit(1, `verification failed: ${error.message}`);
    exit(1, `${failure}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function exit(code: number, message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(code);
}
