import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { RootKeyError, ShareFormatError } from '../../crypto/index.js';
import { rootKeyIsShared, rootKeyNeedsPassphrase, startRekey, waitForRekey } from '../../server/index.js';
import { readSecret, rootPassphrase } from '../secret-input.js';

type RekeyOptions = {
  dataDir: string;
  store?: string;
  rootKeyFile?: string;
  rootPassphraseFile?: string;
  shares?: string;
  threshold?: string;
  shareDir?: string;
  wait: string;
};

/**
 * `coffer rekey` and `coffer unseal`: the root of trust. rekey runs beside the server (it reads the data dir's
 * root key and writes the store; the running server re-wraps, server/rekey.ts); unseal hands one share to a
 * sealed server over loopback (server/sealed.ts).
 */
export function registerRootKeyCommands(program: Command): void {
  program
    .command('rekey')
    .description('replace the root key while the server keeps serving: every record sealed under it is re-wrapped, and the old key opens nothing afterwards')
    .option('--data-dir <dir>', 'the data dir of the server (its root key file, and the database unless --store)', './.coffer')
    .option('--store <url>', "the deployment's PostgreSQL instead of the data dir's database; env COFFER_STORE_URL", process.env.COFFER_STORE_URL)
    .option('--root-key-file <file>', 'root key file (default <data-dir>/root.key); COFFER_ROOT_KEY (base64) overrides it')
    .option('--root-passphrase-file <file>', 'the passphrase of a protected root key file (asked at the terminal otherwise); env COFFER_ROOT_PASSPHRASE')
    .option('--shares <n>', 'keep the new root key as N Shamir shares (printed once, or written to --share-dir) instead of a key file')
    .option('--threshold <k>', 'with --shares: how many shares open the root key (2 ≤ K ≤ N)')
    .option('--share-dir <dir>', 'with --shares: write share-1 … share-N there (mode 0600) instead of printing them')
    .option('--wait <seconds>', 'wait this long for the running server to finish the rekey', '60')
    .action(async (options: RekeyOptions) => {
      try {
        process.exitCode = await rekey(options);
      } catch (error) {
        if (!(error instanceof RootKeyError || error instanceof ShareFormatError)) throw error;
        process.stderr.write(`coffer: rekey refused: ${error.message}\n`);
        process.exitCode = 2;
      }
    });
  program
    .command('unseal')
    .description('enter one root key share into a sealed server (from a terminal without echo, or the first line of stdin)')
    .option('--url <url>', "the sealed server's address on this machine", 'http://127.0.0.1:7766')
    .action(async (options: { url: string }) => {
      process.exitCode = await unseal(options.url);
    });
}

async function rekey(options: RekeyOptions): Promise<number> {
  const dataDir = resolve(options.dataDir);
  const keyConfig = { dataDir, rootKeyFile: options.rootKeyFile && resolve(options.rootKeyFile), rootKeyBase64: process.env.COFFER_ROOT_KEY };
  const currentlyShared = rootKeyIsShared(keyConfig);
  // A key kept as shares stays shares (same N and K unless told otherwise): nobody else would hold the new key.
  const asked = rekeyTarget(options);
  const target = asked.kind === 'same' && currentlyShared ? { kind: 'shares' as const, ...currentlyShared } : asked;
  const currentShares = currentlyShared ? await readShares(currentlyShared.threshold, 'current') : undefined;
  const passphrase = await rootPassphrase(options.rootPassphraseFile, rootKeyNeedsPassphrase(keyConfig));
  const started = await startRekey({
    ...keyConfig,
    rootPassphrase: passphrase,
    storeUrl: options.store || undefined,
    currentShares,
    target,
    handOut: async ({ shares, base64 }) => {
      if (shares) handOutShares(shares, target.kind === 'shares' ? target.threshold : 0, options.shareDir);
      if (base64) process.stdout.write(`New root key (set COFFER_ROOT_KEY to it on every node before restarting one; shown once):\n${base64}\n`);
    },
  });
  try {
    process.stdout.write(`Rekey recorded in ${started.where}; the running server re-wraps every sealed record now.\n`);
    const seconds = Number(options.wait);
    if (await waitForRekey(started, (Number.isFinite(seconds) ? seconds : 60) * 1000)) {
      process.stdout.write('Rekey finished: every record is sealed under the new root key; the old key opens nothing.\n');
      return 0;
    }
    process.stdout.write(`No server finished the rekey within ${options.wait} s. A running server picks it up within a second or two; otherwise the next start (with the old or the new key) finishes it.\n`);
    return 3;
  } finally {
    await started.close();
  }
}

function rekeyTarget(options: RekeyOptions): { kind: 'same' } | { kind: 'shares'; shares: number; threshold: number } {
  if (options.shares === undefined && options.threshold === undefined) return { kind: 'same' };
  const shares = Number(options.shares);
  const threshold = Number(options.threshold);
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || threshold < 2 || shares < threshold || shares > 255) {
    throw new ShareFormatError('--shares N --threshold K need whole numbers with 2 ≤ K ≤ N ≤ 255');
  }
  return { kind: 'shares', shares, threshold };
}

/** The new shares, before the rekey is recorded: to 0600 files in --share-dir, or printed once. */
function handOutShares(shares: string[], threshold: number, shareDir: string | undefined): void {
  if (shareDir) {
    mkdirSync(shareDir, { recursive: true, mode: 0o700 });
    shares.forEach((share, index) => writeFileSync(join(shareDir, `share-${index + 1}`), share + '\n', { mode: 0o600, flag: 'wx' }));
    process.stdout.write(`${shares.length} shares of the new root key written to ${resolve(shareDir)} (share-1 … share-${shares.length}, mode 0600); any ${threshold} unseal it. Give each to its holder and delete the files.\n`);
    return;
  }
  process.stdout.write(`The new root key as ${shares.length} shares; any ${threshold} unseal it. They are shown once: give each to its holder now.\n`);
  shares.forEach((share, index) => process.stdout.write(`Share ${index + 1}: ${share}\n`));
}

async function readShares(threshold: number, which: string): Promise<string[]> {
  const shares: string[] = [];
  while (shares.length < threshold) {
    const share = await readSecret(`${which} root key share ${shares.length + 1} of ${threshold}: `);
    if (share === undefined) throw new RootKeyError(`the root key is kept as shares: enter ${threshold} of the ${which} shares (one per line on stdin)`);
    shares.push(share.trim());
  }
  return shares;
}

async function unseal(url: string): Promise<number> {
  const share = await readSecret('Root key share: ');
  if (share === undefined || share.trim() === '') {
    process.stderr.write('coffer: unseal needs a share, typed at the prompt or as the first line of stdin\n');
    return 2;
  }
  let response: Response;
  try {
    response = await fetch(new URL('/unseal', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ share: share.trim() }) });
  } catch (error) {
    process.stderr.write(`coffer: cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const body = (await response.json().catch(() => ({}))) as { sealed?: boolean; progress?: number; threshold?: number; message?: string; __type?: string };
  if (!response.ok) {
    process.stderr.write(`coffer: unseal: ${body.message ?? `HTTP ${response.status}`}\n`);
    return 1;
  }
  if (body.sealed === false) process.stdout.write('Unsealed: the server is serving.\n');
  else process.stdout.write(`Share accepted: ${body.progress} of ${body.threshold} entered; still sealed.\n`);
  return 0;
}
