import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger, type LogLevel } from '../../core/index.js';
import { RootKeyError } from '../../crypto/index.js';
import {
  adminCredentialsText,
  AuditAnchorFileError,
  clusterAuditAppender,
  clusterMetrics,
  DEFAULT_EDGE_LIMITS,
  type EdgeLimits,
  isClusterWorker,
  loadAuditAnchoring,
  onAnnounce,
  reportReady,
  runClusterPrimary,
  runsMaintenance,
  startServer,
  type CofferConfig,
  type MetricsConfig,
  type RunningServer,
  rootKeyIsShared,
  rootKeyNeedsPassphrase,
  startSealedServer,
  type SealedServer,
} from '../../server/index.js';
import { rootPassphrase } from '../secret-input.js';

type ServerOptions = {
  port: string;
  host: string;
  dataDir: string;
  dev?: boolean;
  rootKeyFile?: string;
  rootPassphraseFile?: string;
  sealed?: boolean;
  /** Read before the start (env, file or prompt), not a flag. */
  passphrase?: string;
  auditFailClosed?: boolean;
  encodeAuthorizationMessages?: boolean;
  auditAnchorFile?: string;
  auditAnchorInterval: string;
  auditRetentionDays: string;
  auditArchiveDir?: string;
  workers?: string;
  logLevel: string;
  store?: string;
  poolSize: string;
  storeTimeout: string;
  maintenanceInterval: string;
  rotationLease: string;
  readCacheSize?: string;
} & EdgeOptions &
  MetricsOptions;

/** `GET /metrics` (server/metrics-endpoint.ts says who may read it). */
type MetricsOptions = {
  metrics: boolean;
  metricsPort?: string;
  metricsHost?: string;
  metricsToken?: string;
  metricsUnauthenticated?: boolean;
};

function addMetricsOptions(command: Command): Command {
  return command
    .option('--no-metrics', 'do not serve GET /metrics')
    .option('--metrics-port <port>', 'serve GET /metrics on a listener of its own on this port (default: on the API port)')
    .option('--metrics-host <host>', 'address of the --metrics-port listener (default: --host)')
    .option('--metrics-token <token>', 'a scrape must send Authorization: Bearer <token>; env COFFER_METRICS_TOKEN (which keeps it out of ps)')
    .option('--metrics-unauthenticated', 'serve /metrics without a token on a non-loopback address (without it, such a listener refuses scrapes with 403)');
}

/** The metrics flags; undefined with --no-metrics. */
function metricsConfig(options: ServerOptions): MetricsConfig | undefined {
  if (!options.metrics) return undefined;
  const token = options.metricsToken ?? process.env.COFFER_METRICS_TOKEN;
  return {
    port: options.metricsPort === undefined ? undefined : parsePort(options.metricsPort, '--metrics-port'),
    host: options.metricsHost,
    token: token === '' ? undefined : token,
    allowUnauthenticated: options.metricsUnauthenticated ?? false,
    processMetrics: true,
  };
}

/** The HTTP edge's limits and what start-up prints, as flags (see EdgeLimits in server/http.ts). */
type EdgeOptions = {
  printCredentials?: boolean;
  headersTimeout: string;
  requestTimeout: string;
  keepAliveTimeout: string;
  maxConnections: string;
  maxHeaderBytes: string;
  maxBodyMemory: string;
};

function addEdgeOptions(command: Command): Command {
  return command
    .option('--print-credentials', 'also print a newly created administrator key (it is always written to <data-dir>/admin-credentials, mode 0600)')
    .option('--headers-timeout <ms>', 'a request line and headers must arrive within this time', String(DEFAULT_EDGE_LIMITS.headersTimeoutMs))
    .option('--request-timeout <ms>', 'a whole request (headers and body) must arrive within this time', String(DEFAULT_EDGE_LIMITS.requestTimeoutMs))
    .option('--keep-alive-timeout <ms>', 'an idle keep-alive connection is closed after this time', String(DEFAULT_EDGE_LIMITS.keepAliveTimeoutMs))
    .option('--max-connections <n>', 'connections open at once (per process); more are closed when accepted', String(DEFAULT_EDGE_LIMITS.maxConnections))
    .option('--max-header-bytes <n>', 'size of a request line and headers together', String(DEFAULT_EDGE_LIMITS.maxHeaderBytes))
    .option('--max-body-memory <bytes>', 'request bodies held in memory at once (per process); more are refused with ThrottlingException', String(DEFAULT_EDGE_LIMITS.maxBodyMemoryBytes));
}

function edgeLimits(options: EdgeOptions): EdgeLimits {
  return {
    headersTimeoutMs: wholeNumber('--headers-timeout', options.headersTimeout, 1),
    requestTimeoutMs: wholeNumber('--request-timeout', options.requestTimeout, 1),
    keepAliveTimeoutMs: wholeNumber('--keep-alive-timeout', options.keepAliveTimeout, 1),
    maxConnections: wholeNumber('--max-connections', options.maxConnections, 1),
    maxHeaderBytes: wholeNumber('--max-header-bytes', options.maxHeaderBytes, 1024),
    maxBodyMemoryBytes: wholeNumber('--max-body-memory', options.maxBodyMemory, 1024 * 1024),
  };
}

function wholeNumber(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d{1,10}$/.test(text) || value < min) {
    process.stderr.write(`coffer: ${flag} must be a whole number of at least ${min}, not ${text}\n`);
    process.exit(2);
  }
  return value;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The maintenance timer's period in the process (or the one cluster worker) that runs it. */
function maintenanceIntervalMs(options: ServerOptions): number {
  return wholeNumber('--maintenance-interval', options.maintenanceInterval, 1) * 1000;
}

export function registerServerCommand(program: Command): void {
  const server = program
    .command('server')
    .description('run the Coffer server (AWS KMS and Secrets Manager APIs) on the embedded store, or as a node on PostgreSQL')
    .option('--port <port>', 'port to listen on', '7766')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where the database (unless --store), root key and admin credentials live', './.coffer')
    .option('--store <url>', 'keep everything in PostgreSQL instead: postgres://USER[:PASSWORD]@HOST:PORT[,HOST2:PORT2]/DB[?target_session_attrs=read-write]; env COFFER_STORE_URL', process.env.COFFER_STORE_URL)
    .option('--read-cache-size <MiB>', 'memory the store\'s read cache of hot records may hold (default: 8 on the embedded store, 64 on PostgreSQL); more keeps an evenly read working set of more secrets cached')
    .option('--pool-size <n>', 'PostgreSQL connections this process keeps (--store)', '10')
    .option('--store-timeout <ms>', 'a PostgreSQL statement or connection attempt past this fails the call with a retryable 5xx (--store)', '10000')
    .option('--root-key-file <file>', 'root key file (default <data-dir>/root.key); COFFER_ROOT_KEY (base64) overrides it')
    .option('--root-passphrase-file <file>', 'the passphrase of a passphrase-protected root key file (asked at the terminal otherwise); on a new data dir it makes the created key file protected; env COFFER_ROOT_PASSPHRASE')
    .option('--sealed', 'start sealed (the root key is kept as shares, `coffer rekey --shares N --threshold K`): serve only /health until `coffer unseal` has entered enough shares')
    .option('--audit-fail-closed', 'refuse a request (5xx) when its audit event cannot be written')
    .option('--encode-authorization-messages', 'append an encoded authorization failure message to AccessDenied messages, for sts decode-authorization-message (AWS\'s Secrets Manager and KMS send none)')
    .option('--audit-anchor-file <file>', 'append-only file of signed audit chain anchors (default <data-dir>.audit-anchors, outside the data dir)')
    .option('--audit-anchor-interval <seconds>', 'anchor the audit chain this often when it has grown (and on shutdown)', '10')
    .option('--audit-retention-days <days>', 'keep this many days of audit events in the database; older whole UTC days move to archive files (0: keep all)', '90')
    .option('--audit-archive-dir <dir>', 'where archived audit events go (default <data-dir>.audit-archive; with --store, retention runs only on the node given this)')
    .option('--dev', 'also accept access key "test" with secret "test" as the administrator (local development only)')
    .option('--maintenance-interval <seconds>', 'how often due rotations, key deletions and expired credentials are handled', '60')
    .option('--rotation-lease <seconds>', "how long a node's claim on a rotation lasts unless renewed: another node takes over a dead node's rotation after it", '30')
    .option('--workers <n>', 'server processes sharing the port (node:cluster); env COFFER_WORKERS', process.env.COFFER_WORKERS ?? '1')
    .option('--log-level <level>', `least severe log line written to stderr: ${LOG_LEVELS.join(', ')} (debug shows each line a function prints); env COFFER_LOG_LEVEL`, process.env.COFFER_LOG_LEVEL ?? 'info');
  addMetricsOptions(addEdgeOptions(server)).action(runServer);
}

async function runServer(options: ServerOptions): Promise<void> {
  parseLogLevel(options.logLevel);
  const workers = parseWorkers(options.workers ?? '1', options.dataDir);
  edgeLimits(options); // a bad flag stops the start here, before any worker is forked
  metricsConfig(options);
  const shared = rootKeyIsShared(serverConfig(options));
  if (options.sealed && !shared) {
    process.stderr.write('coffer: cannot start: --sealed needs a root key kept as shares (`coffer rekey --shares N --threshold K` makes them)\n');
    process.exit(2);
  }
  if (shared && workers > 1) {
    process.stderr.write('coffer: cannot start: a sealed start (root key kept as shares) runs one process; leave out --workers\n');
    process.exit(2);
  }
  // Asked at the terminal only by a single process: workers cannot share a typed passphrase (give env or file).
  options.passphrase = await rootPassphrase(options.rootPassphraseFile, rootKeyNeedsPassphrase(serverConfig(options)) && workers === 1 && !isClusterWorker());
  if (isClusterWorker()) return runWorker(options);
  if (shared) return runSealed(options, shared.threshold);
  if (workers === 1) return runSingleProcess(options);
  const config = serverConfig(options);
  const code = await runClusterPrimary({
    workers,
    // On PostgreSQL every worker is a node of its own: it appends to the shared chain itself.
    auditWriter: options.store === undefined,
    dataDir: resolve(options.dataDir),
    log: (line) => process.stderr.write(`coffer: ${line}\n`),
    auditAnchoring: () => loadAuditAnchoring(config),
  });
  process.exit(code);
}

async function runSingleProcess(options: ServerOptions): Promise<void> {
  const server = await startOrExit(options, { maintenanceIntervalMs: maintenanceIntervalMs(options) });
  announce(server, resolve(options.dataDir), options);
  stopOnSignals(server);
}

/** A sealed start: listen, wait for `coffer unseal`, then serve as a single process does. */
async function runSealed(options: ServerOptions, threshold: number): Promise<void> {
  let sealed: SealedServer;
  try {
    sealed = await startSealedServer(
      { ...serverConfig(options), host: options.host, port: parsePort(options.port), limits: edgeLimits(options), logger: createLogger({ level: parseLogLevel(options.logLevel) }), maintenanceIntervalMs: maintenanceIntervalMs(options) },
      threshold,
    );
  } catch (error) {
    process.stderr.write(`coffer: cannot start: ${startFailure(error, options)}\n`);
    process.exit(1);
  }
  process.stdout.write(`Coffer sealed on ${sealed.http.url}\nEnter ${threshold} root key shares, one per \`coffer unseal --url ${sealed.http.url}\`\n`);
  stopOnSignals({ close: () => sealed.close(), requestsServed: () => 0 });
  const server = await sealed.unsealed;
  announce(server, resolve(options.dataDir), options);
}

/**
 * One worker of `--workers N`: its audit events go to the primary's writer, its store transactions begin
 * IMMEDIATE (the other workers write the same file), and only the worker the primary marked runs the
 * maintenance timer. The first worker prints the announcement when the primary says all are up.
 */
async function runWorker(options: ServerOptions): Promise<void> {
  // A scrape reaching any worker shows the whole cluster: the primary sums every worker's metrics.
  const metrics = clusterMetrics();
  const metricsOptions = metricsConfig(options);
  const server = await startOrExit(options, {
    auditAppender: clusterAuditAppender(),
    immediateTransactions: true,
    // On PostgreSQL every worker is a node and runs maintenance (claims keep each item to one of them).
    maintenanceIntervalMs: runsMaintenance() || options.store ? maintenanceIntervalMs(options) : 0,
    metrics: metricsOptions && { ...metricsOptions, scrape: metrics.scrape },
  });
  if (server.instruments) metrics.serve(server.instruments.registry);
  onAnnounce(() => announce(server, resolve(options.dataDir), options));
  reportReady();
  stopOnSignals(server, { worker: true });
}

async function startOrExit(options: ServerOptions, extra: Partial<Parameters<typeof startServer>[0]>): Promise<RunningServer> {
  try {
    return await startServer({
      ...serverConfig(options),
      host: options.host,
      port: parsePort(options.port),
      limits: edgeLimits(options),
      logger: createLogger({ level: parseLogLevel(options.logLevel) }),
      metrics: metricsConfig(options),
      ...extra,
    });
  } catch (error) {
    process.stderr.write(`coffer: cannot start: ${startFailure(error, options)}\n`);
    process.exit(error instanceof RootKeyError ? 2 : 1);
  }
}

/** What the command line says of the data dir, the root key and auditing (single process, worker and primary alike). */
function serverConfig(options: ServerOptions): CofferConfig {
  return {
    dataDir: resolve(options.dataDir),
    postgres: postgresConfig(options),
    devMode: options.dev ?? false,
    rootKeyFile: options.rootKeyFile && resolve(options.rootKeyFile),
    rootKeyBase64: process.env.COFFER_ROOT_KEY,
    rootPassphrase: options.passphrase,
    auditFailClosed: options.auditFailClosed ?? false,
    encodeAuthorizationMessages: options.encodeAuthorizationMessages ?? false,
    auditAnchorFile: options.auditAnchorFile && resolve(options.auditAnchorFile),
    auditAnchorIntervalMs: parseAnchorInterval(options.auditAnchorInterval) * 1000,
    rotationLeaseMs: wholeNumber('--rotation-lease', options.rotationLease, 1) * 1000,
    readCacheMaxBytes: readCacheMaxBytes(options),
    ...auditRetention(options),
  };
}

/**
 * The largest read cache a server takes: bin/coffer caps V8's old generation at 1 GB, and a cache that could fill
 * most of it would make every full collection scan it and leave the requests no room.
 */
const MAX_READ_CACHE_MIB = 512;

function readCacheMaxBytes(options: ServerOptions): number | undefined {
  if (options.readCacheSize === undefined) return undefined;
  const mebibytes = wholeNumber('--read-cache-size', options.readCacheSize, 1);
  if (mebibytes > MAX_READ_CACHE_MIB) {
    process.stderr.write(`coffer: --read-cache-size must be at most ${MAX_READ_CACHE_MIB} (MiB), not ${options.readCacheSize}\n`);
    process.exit(2);
  }
  return mebibytes * 1024 * 1024;
}

/**
 * A data dir archives past `--audit-retention-days` (default 90) into `<data-dir>.audit-archive`. On PostgreSQL
 * every node runs maintenance but the archive must be one directory: only a node given --audit-archive-dir prunes.
 */
function auditRetention(options: ServerOptions): Pick<CofferConfig, 'auditRetentionDays' | 'auditArchiveDir'> {
  const days = wholeNumber('--audit-retention-days', options.auditRetentionDays, 0);
  if (days === 0 || (options.store && !options.auditArchiveDir)) return {};
  return { auditRetentionDays: days, auditArchiveDir: options.auditArchiveDir && resolve(options.auditArchiveDir) };
}

function announce(server: RunningServer, dataDir: string, options: Pick<ServerOptions, 'dev' | 'printCredentials'>): void {
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
  const store = coffer.storeDescription === 'sqlite' ? `data dir ${dataDir}` : `store ${coffer.storeDescription}, data dir ${dataDir}`;
  process.stdout.write(`Coffer listening on ${http.url} (${store})\n`);
  if (server.metricsUrl) process.stdout.write(`Metrics: ${server.metricsUrl}\n`);
  // The secret key goes to its 0600 file, not to a terminal, a scrollback or a service's log, unless asked for.
  if (coffer.createdAdmin && options.printCredentials) {
    process.stdout.write(`\nAdministrator credentials (also in ${dataDir}/admin-credentials, mode 0600):\n\n`);
    process.stdout.write(adminCredentialsText(coffer.createdAdmin, http.url) + '\n');
  } else if (coffer.createdAdmin) {
    process.stdout.write(`Administrator credentials created: source ${dataDir}/admin-credentials (mode 0600; --print-credentials shows them here)\n`);
  } else if (existsSync(join(dataDir, 'admin-credentials'))) {
    process.stdout.write(`Administrator credentials: source ${dataDir}/admin-credentials\n`);
  } else {
    process.stdout.write('Administrator credentials: in the admin-credentials file of the node that first started on this database\n');
  }
  if (options.dev) process.stdout.write('Dev mode: access key "test" / secret "test" is accepted as the administrator.\n');
}

/** What went wrong, said plainly: a root key problem, a port that can't be bound, or else the error itself. */
function startFailure(error: unknown, options: ServerOptions): string {
  if (error instanceof RootKeyError || error instanceof AuditAnchorFileError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // The listen error names its port: the API's, or --metrics-port's.
  const failedPort = (error as { port?: number } | undefined)?.port;
  const metricsPortFailed = options.metricsPort !== undefined && failedPort !== undefined && failedPort === Number(options.metricsPort) && failedPort !== Number(options.port);
  const where = metricsPortFailed ? `${options.metricsHost ?? options.host}:${failedPort}` : `${options.host}:${options.port}`;
  if (code === 'EADDRINUSE') return `${where} is already in use; stop the other server or choose another --port (or --metrics-port)`;
  if (code === 'EACCES' && (error as NodeJS.ErrnoException).syscall === 'listen') return `no permission to listen on ${where}`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `cannot listen on ${where}: no such local address`;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function stopOnSignals(server: Pick<RunningServer, 'close' | 'requestsServed'>, cluster: { worker: boolean } = { worker: false }): void {
  let stopping = false;
  const stop = (signal: string) => {
    // A worker stops when the primary tells it (SIGTERM); a Ctrl-C reaching the whole process group is the
    // primary's to handle, so that a worker does not take it as a second, "now" signal.
    if (cluster.worker && signal === 'SIGINT') return;
    if (stopping) {
      // A second signal means "now": in-flight requests are dropped, but every acknowledged write is on disk.
      process.stderr.write(`coffer: ${signal} received again, exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    if (!cluster.worker) process.stderr.write(`coffer: ${signal} received, finishing in-flight requests\n`);
    server.close().then(
      () => {
        if (cluster.worker) process.stderr.write(`coffer: worker pid ${process.pid} stopped after serving ${server.requestsServed()} requests\n`);
        process.exit(0);
      },
      (error) => {
        process.stderr.write(`coffer: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** --workers / COFFER_WORKERS: a whole number from 1 to 64, and more than 1 only on a data dir on disk. */
function parseWorkers(text: string, dataDir: string): number {
  const workers = Number(text);
  if (!/^\d+$/.test(text) || workers < 1 || workers > 64) {
    process.stderr.write(`coffer: --workers must be a whole number from 1 to 64, not ${text}\n`);
    process.exit(2);
  }
  if (workers > 1 && dataDir === ':memory:') {
    process.stderr.write('coffer: --workers above 1 needs a data dir on disk: the processes share its database files, which :memory: cannot be\n');
    process.exit(2);
  }
  return workers;
}

/** --store and its flags; a URL that is not postgres:// stops the start here. */
function postgresConfig(options: ServerOptions): CofferConfig['postgres'] {
  if (options.store === undefined || options.store === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(options.store)) {
    process.stderr.write('coffer: --store must be a postgres:// URL (postgres://USER@HOST:PORT/DB); without it the embedded store in --data-dir is used\n');
    process.exit(2);
  }
  return {
    url: options.store,
    poolSize: wholeNumber('--pool-size', options.poolSize, 1),
    statementTimeoutMs: wholeNumber('--store-timeout', options.storeTimeout, 100),
  };
}

function parseAnchorInterval(text: string): number {
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 1 || seconds > 86_400) {
    process.stderr.write(`coffer: --audit-anchor-interval must be a whole number of seconds from 1 to 86400, not ${text}\n`);
    process.exit(2);
  }
  return seconds;
}

function parseLogLevel(text: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    process.stderr.write(`coffer: --log-level must be one of ${LOG_LEVELS.join(', ')}, not ${text}\n`);
    process.exit(2);
  }
  return text as LogLevel;
}

function parsePort(text: string, flag = '--port'): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    process.stderr.write(`coffer: ${flag} must be a number from 0 to 65535, not ${text}\n`);
    process.exit(2);
  }
  return port;
}
