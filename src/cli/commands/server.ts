import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RootKeyError } from '../../crypto/index.js';
import { adminCredentialsText, startServer, type RunningServer } from '../../server/index.js';

type ServerOptions = { port: string; host: string; dataDir: string; dev?: boolean; rootKeyFile?: string; auditFailClosed?: boolean };

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the Coffer server (AWS KMS and Secrets Manager APIs) on the embedded store')
    .option('--port <port>', 'port to listen on', '7766')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where the database, root key and admin credentials live', './.coffer')
    .option('--root-key-file <file>', 'root key file (default <data-dir>/root.key); COFFER_ROOT_KEY (base64) overrides it')
    .option('--audit-fail-closed', 'refuse a request (5xx) when its audit event cannot be written')
    .option('--dev', 'also accept access key "test" with secret "test" as the administrator (local development only)')
    .action(runServer);
}

async function runServer(options: ServerOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  let server: RunningServer;
  try {
    server = await startServer({
      dataDir,
      host: options.host,
      port: parsePort(options.port),
      devMode: options.dev ?? false,
      rootKeyFile: options.rootKeyFile && resolve(options.rootKeyFile),
      rootKeyBase64: process.env.COFFER_ROOT_KEY,
      auditFailClosed: options.auditFailClosed ?? false,
    });
  } catch (error) {
    process.stderr.write(`coffer: cannot start: ${startFailure(error, options)}\n`);
    process.exit(error instanceof RootKeyError ? 2 : 1);
  }
  announce(server, dataDir, options.dev ?? false);
  stopOnSignals(server);
}

function announce(server: RunningServer, dataDir: string, devMode: boolean): void {
  const { coffer, http } = server;
  if (coffer.rootKeyCreated) {
    process.stderr.write(
      [
        '',
        '************************************************************************',
        `  A NEW ROOT KEY WAS CREATED: ${coffer.rootKeyDescription}`,
        '  Every key and secret in this data dir is encrypted under it.',
        '  BACK IT UP NOW, SEPARATELY FROM THE DATA: without it nothing can be',
        '  decrypted, and a backup of the data next to it protects nothing.',
        '************************************************************************',
        '',
      ].join('\n') + '\n',
    );
  }
  process.stdout.write(`Coffer listening on ${http.url} (data dir ${dataDir})\n`);
  if (coffer.createdAdmin) {
    process.stdout.write(`\nAdministrator credentials (also in ${dataDir}/admin-credentials, mode 0600):\n\n`);
    process.stdout.write(adminCredentialsText(coffer.createdAdmin, http.url) + '\n');
  } else {
    process.stdout.write(`Administrator credentials: source ${dataDir}/admin-credentials\n`);
  }
  if (devMode) process.stdout.write('Dev mode: access key "test" / secret "test" is accepted as the administrator.\n');
}

/** What went wrong, said plainly: a root key problem, a port that can't be bound, or else the error itself. */
function startFailure(error: unknown, options: ServerOptions): string {
  if (error instanceof RootKeyError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${options.host}:${options.port}`;
  if (code === 'EADDRINUSE') return `${where} is already in use; stop the other server or choose another --port`;
  if (code === 'EACCES' && (error as NodeJS.ErrnoException).syscall === 'listen') return `no permission to listen on ${where}`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `cannot listen on ${where}: no such local address`;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function stopOnSignals(server: RunningServer): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal means "now": in-flight requests are dropped, but every acknowledged write is on disk.
      process.stderr.write(`coffer: ${signal} received again, exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`coffer: ${signal} received, finishing in-flight requests\n`);
    server.close().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`coffer: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    process.stderr.write(`coffer: --port must be a number from 0 to 65535, not ${text}\n`);
    process.exit(2);
  }
  return port;
}
