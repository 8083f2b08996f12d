import { closeSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cloudTrailTable, createAuditRecorder } from '../audit/index.js';
import { createAuthenticator, createCredentials, type Credentials } from '../auth/index.js';
import { createLogger, systemClock, type Clock, type Logger } from '../core/index.js';
import { deriveAuditAnchorKey, Keyring, loadRootKey, makeRootKeyCheck, RootKeyError, rootKeyMatches, type LoadedRootKey, type RootKeySource } from '../crypto/index.js';
import { createFunctionsService, type FunctionsService } from '../functions/index.js';
import { createIamService, createIdentityPolicySource, newAccountId } from '../iam/index.js';
import { createKmsService, type KmsService } from '../kms/index.js';
import { CompiledPolicyCache, createAuthorizer } from '../policy/index.js';
import { createQueryRouter, createRestRouter, createTargetRouter } from '../protocol/index.js';
import { createRotationService, type RotationService } from '../rotation/index.js';
import { builtInRotators } from '../rotation/rotators/index.js';
import { createSecretsService, type SecretsService } from '../secrets/index.js';
import { openAnchorFile, type IamRepository, type MetaRepository } from '../store/index.js';
import { SqliteStore, type AuditAppender, type AuditWriterAnchoring } from '../store/sqlite/index.js';
import { defaultAuditAnchorFile } from './audit-log.js';
import { adminCredentialsText, bootstrapAdmin, writePrivateFile, type AdminCredentials } from './bootstrap.js';
import { listen, type EdgeLimits, type HttpServer } from './http.js';
import { createInvoker, createPipeline, type Invoke, type Pipeline } from './pipeline.js';

export type CofferConfig = {
  dataDir: string;
  /** Overrides the default key file `<data-dir>/root.key`. */
  rootKeyFile?: string;
  /** Base64 root key (COFFER_ROOT_KEY); wins over any file. */
  rootKeyBase64?: string;
  devMode?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** How often due key deletions and rotations run; 0 turns the timer off (tests call runMaintenance). */
  maintenanceIntervalMs?: number;
  /** Where hosted functions reach this server (their AWS_ENDPOINT_URL); startServer sets it. */
  endpointUrl?: string;
  /** Refuse a request when its audit event cannot be written (default: serve it and log the failure). */
  auditFailClosed?: boolean;
  /** Where audit batches are appended; a cluster worker passes the primary's writer (cluster.ts). */
  auditAppender?: AuditAppender;
  /** Store transactions begin IMMEDIATE (several processes write the database: cluster mode). */
  immediateTransactions?: boolean;
  /**
   * Start the audit writer thread once the store is open and migrated, not at the first audited request
   * (startServer sets it: the thread's ~90 ms start-up is then off the first request's path). Local commands
   * leave it off and start no thread they may not need.
   */
  auditWriterAtOpen?: boolean;
  /** Where the audit chain is anchored (store/audit-anchor.ts); default `<data-dir>.audit-anchors`, outside the data dir. */
  auditAnchorFile?: string;
  /** How often the chain head is anchored when it has moved (default 10 s; and always on a clean shutdown). */
  auditAnchorIntervalMs?: number;
};

/** The default period of audit chain anchors: events younger than this can go undetected if deleted after a crash. */
export const AUDIT_ANCHOR_INTERVAL_MS = 10_000;

export type Coffer = {
  pipeline: Pipeline;
  kms: KmsService;
  secrets: SecretsService;
  functions: FunctionsService;
  rotation: RotationService;
  accounts: {
    /** A new account (random 12-digit id) with an access key of its root user; the secret is shown once. */
    create(): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string }>;
  };
  /** Set on the start that created the data dir's administrator key. */
  createdAdmin?: AdminCredentials;
  rootKeyCreated: boolean;
  rootKeyDescription: string;
  runMaintenance(): Promise<void>;
  close(): Promise<void>;
};

const ROOT_KEY_CHECK = 'root_key_check';

/**
 * The composition root: config → root key → store → keyring → services → pipeline. The only place where
 * modules are wired together; nothing is a module-level singleton.
 */
export async function openCoffer(config: CofferConfig): Promise<Coffer> {
  const { store, keyring, rootKey } = await openVerifiedStore(config);
  try {
    return await composeServices(config, store, keyring, rootKey);
  } catch (error) {
    // Anything that fails after the store is open must not leave the database handle or key material behind.
    await store.close();
    keyring.close();
    throw error;
  }
}

/** Root key → store → check value → migrations → keyring. A wrong or missing root key changes nothing. */
async function openVerifiedStore(config: CofferConfig) {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const databasePath = join(config.dataDir, 'coffer.db');
  const dataDirIsNew = !existsSync(databasePath);
  const rootKey = loadRootKeyFor(config, dataDirIsNew);
  let store: SqliteStore;
  try {
    const auditAnchoring = auditAnchoringFor(config, rootKey.key);
    store = new SqliteStore(databasePath, { auditAppender: config.auditAppender, auditAnchoring, immediateTransactions: config.immediateTransactions });
  } catch (error) {
    rootKey.key.fill(0);
    throw error;
  }
  try {
    await verifyRootKey(store, rootKey.key, config.dataDir);
    await store.migrate();
    await store.putMetaIfAbsent(ROOT_KEY_CHECK, makeRootKeyCheck(rootKey.key));
    if (config.auditWriterAtOpen) store.startAuditWriter();
  } catch (error) {
    await store.close();
    rootKey.key.fill(0);
    throw error;
  }
  const keyring = new Keyring(rootKey.key);
  rootKey.key.fill(0);
  return { store, keyring, rootKey };
}

/** The anchor file cannot be written: a start fails with this message, said plainly. */
export class AuditAnchorFileError extends Error {
  override name = 'AuditAnchorFileError';
}

/**
 * The anchoring of this process's audit writer: the anchor file must be writable now (created 0600 if new), so
 * that a server that cannot anchor its chain does not start. A cluster worker checks it too, though the
 * primary's writer is the one that anchors (server/cluster.ts).
 */
export function auditAnchoringFor(config: Pick<CofferConfig, 'dataDir' | 'auditAnchorFile' | 'auditAnchorIntervalMs' | 'logger'>, rootKey: Buffer): AuditWriterAnchoring {
  const file = config.auditAnchorFile ?? defaultAuditAnchorFile(config.dataDir);
  try {
    closeSync(openAnchorFile(file));
  } catch (error) {
    throw new AuditAnchorFileError(
      `cannot open the audit anchor file ${file} for appending (${error instanceof Error ? error.message : String(error)}); ` +
        'choose a writable place outside the data dir with --audit-anchor-file',
    );
  }
  const logger = config.logger ?? createLogger();
  return {
    options: { file, key: deriveAuditAnchorKey(rootKey), intervalMs: config.auditAnchorIntervalMs ?? AUDIT_ANCHOR_INTERVAL_MS },
    // The same anchor in the server's log: a second copy, wherever the log is collected.
    onAnchor: (anchor) => logger.info('audit anchor', { auditAnchor: anchor }),
    onError: (message) => logger.error('audit anchor error', { file, error: message }),
  };
}

/**
 * The anchoring of a writer in a process that has not opened the store (the cluster primary): the root key
 * from the same source (never created here: the first worker has opened the data dir), the anchor key derived
 * from it, the root key wiped.
 */
export function loadAuditAnchoring(config: CofferConfig): AuditWriterAnchoring {
  const rootKey = loadRootKeyFor(config, false);
  try {
    return auditAnchoringFor(config, rootKey.key);
  } finally {
    rootKey.key.fill(0);
  }
}

async function composeServices(config: CofferConfig, store: SqliteStore, keyring: Keyring, rootKey: LoadedRootKey): Promise<Coffer> {
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? createLogger();
  const credentials = createCredentials({ store, keyring, devMode: config.devMode ?? false, clock: systemClock });
  const createdAdmin = await bootstrapAdmin(store, credentials, join(config.dataDir, 'admin-credentials'), clock.now());
  const compiledPolicies = new CompiledPolicyCache();
  const authorizer = createAuthorizer(createIdentityPolicySource((accountId, kind, name) => store.getIamIdentity(accountId, kind, name), compiledPolicies));
  const iam = createIamService({ store, credentials, authorizer, compiledPolicies, logger });
  const kms = createKmsService({ store, principals: iam.principals, keyring, logger, authorizer, compiledPolicies });
  const audit = createAuditRecorder({ store, logger, failClosed: config.auditFailClosed ?? false });
  // Built-in functions run rotation's rotators, and rotation invokes functions: bound late, like `invoke`.
  let rotation: RotationService | undefined;
  const functions = createFunctionsService({
    store,
    kms: kms.portFor('lambda'),
    logger,
    mintCredentials: credentials.createTemporaryAccessKey,
    deleteExpiredCredentials: credentials.deleteExpiredAccessKeys,
    endpointUrl: () => config.endpointUrl,
    builtins: { names: Object.keys(builtInRotators), run: (invocation, event) => rotation!.runBuiltin(invocation, event) },
    logDir: config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'function-logs'),
  });
  await functions.sealClearEnvironments(clock);
  // Rotation calls Secrets Manager in-process through the router, which needs the secrets table: bound late.
  let invoke: Invoke | undefined;
  let invokeAsFunction: Invoke | undefined;
  rotation = createRotationService({
    store,
    secretByArn: (secretArn) => secrets.secretByArn(secretArn), // bound late: secrets needs rotation's starter
    invokeSecrets: (ctx, operation, input) => invoke!(ctx, `secretsmanager.${operation}`, input),
    invokeSecretsAsFunction: (ctx, operation, input) => invokeAsFunction!(ctx, `secretsmanager.${operation}`, input),
    invokeFunction: functions.invoke,
    functionExists: functions.exists,
    rotators: builtInRotators,
    recordEvent: (event) =>
      audit.recordServiceEvent({
        time: event.time,
        service: 'secretsmanager',
        eventName: event.eventName,
        accountId: event.accountId,
        region: event.region,
        resourceArn: event.secretArn,
        additionalEventData: event.details,
      }),
    clock,
    logger,
  });
  const secrets = createSecretsService({
    store,
    kms: kms.portFor('secretsmanager'),
    rotation: rotation.starter,
    logger,
    authorizer,
    policies: compiledPolicies,
  });
  const route = createTargetRouter([kms.table, secrets.table, cloudTrailTable({ store })]);
  invoke = createInvoker({ route, audit, authorizer, invokedBy: 'secretsmanager.amazonaws.com' });
  // A built-in function's calls are its execution role's, audited as that session's (not as the service's).
  invokeAsFunction = createInvoker({ route, audit, authorizer });
  const pipeline = createPipeline({
    route,
    restRouter: createRestRouter([functions.restTable]),
    queryRouter: createQueryRouter([iam.iamTable, iam.stsTable]),
    signatureClock: systemClock,
    authenticate: createAuthenticator(credentials),
    authorizer,
    clock,
    logger,
    audit,
  });

  const runMaintenance = async () => {
    await kms.maintenance.runDue(clock.now());
    await secrets.maintenance.runDue(clock.now());
    await rotation.maintenance.runDue(clock.now());
    await functions.maintenance.runDue(systemClock.now()); // credential expiry is wall-clock time, like SigV4
  };
  const timer = startMaintenanceTimer(runMaintenance, config.maintenanceIntervalMs ?? 60_000, logger);

  return {
    pipeline,
    kms,
    secrets,
    functions,
    rotation,
    accounts: { create: () => createAccount(store, credentials, clock.now()) },
    createdAdmin,
    rootKeyCreated: rootKey.created,
    rootKeyDescription: rootKey.description,
    runMaintenance,
    async close() {
      if (timer) clearInterval(timer);
      functions.close();
      await store.close();
      keyring.close();
    },
  };
}

/** A fresh account id (retried on the rare collision) and its root's first access key. */
async function createAccount(store: Pick<IamRepository, 'createAccount'>, credentials: Credentials, now: Date) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const accountId = newAccountId();
    if (!(await store.createAccount(accountId, now))) continue;
    const key = await credentials.createRootAccessKey(accountId, now);
    return { accountId, ...key };
  }
  throw new Error('could not find a free account id');
}

export type RunningServer = {
  coffer: Coffer;
  http: HttpServer;
  /** API requests this process has answered (GET /health not counted). */
  requestsServed(): number;
  close(): Promise<void>;
};

/**
 * Serves Coffer over HTTP; close() drains requests first, then closes the store. The port is bound before
 * the data dir is touched, so a start that cannot listen (port in use) creates no root key, no database and
 * no administrator key that nobody was shown.
 */
export async function startServer(config: CofferConfig & { host: string; port: number; limits?: Partial<EdgeLimits> }): Promise<RunningServer> {
  const logger = config.logger ?? createLogger();
  let openedPipeline!: (pipeline: Pipeline) => void;
  let openFailed!: (error: unknown) => void;
  const ready = new Promise<Pipeline>((resolve, reject) => {
    openedPipeline = resolve;
    openFailed = reject;
  });
  ready.catch(() => {}); // a failed open is reported by startServer; requests waiting on it get a 500
  let requestsServed = 0;
  const http = await listen(
    async (request) => {
      requestsServed += 1;
      return (await ready)(request);
    },
    { host: config.host, port: config.port, logger, limits: config.limits },
  );
  let coffer: Coffer;
  try {
    coffer = await openCoffer({ ...config, logger, endpointUrl: config.endpointUrl ?? reachableUrl(config.host, http.port), auditWriterAtOpen: true });
  } catch (error) {
    openFailed(error);
    await http.close();
    throw error;
  }
  openedPipeline(coffer.pipeline);
  if (coffer.createdAdmin) {
    // Rewrite the credentials file now that the endpoint is known, so `source admin-credentials` is complete.
    writePrivateFile(join(config.dataDir, 'admin-credentials'), adminCredentialsText(coffer.createdAdmin, http.url));
  }
  return {
    coffer,
    http,
    requestsServed: () => requestsServed,
    async close() {
      await http.close();
      await coffer.close();
    },
  };
}

function rootKeySource(config: CofferConfig, dataDirIsNew: boolean): RootKeySource {
  if (config.rootKeyBase64 !== undefined) return { kind: 'env', base64: config.rootKeyBase64 };
  if (config.rootKeyFile !== undefined) return { kind: 'file', path: config.rootKeyFile, createIfMissing: dataDirIsNew };
  // Never invent a root key for a data dir that already holds data: that data would be unreadable.
  return { kind: 'file', path: join(config.dataDir, 'root.key'), createIfMissing: dataDirIsNew };
}

/** loadRootKey, with a message that says what to do when an existing data dir's key file is gone. */
function loadRootKeyFor(config: CofferConfig, dataDirIsNew: boolean): LoadedRootKey {
  const source = rootKeySource(config, dataDirIsNew);
  if (source.kind === 'file' && !source.createIfMissing && !existsSync(source.path)) {
    throw new RootKeyError(
      `the data dir ${config.dataDir} holds data, but its root key file ${source.path} does not exist. ` +
        'Restore the root key from your backup (or give it with --root-key-file or COFFER_ROOT_KEY); ' +
        'without it the keys and secrets in this data dir cannot be decrypted.',
    );
  }
  return loadRootKey(source);
}

async function verifyRootKey(store: Pick<MetaRepository, 'getMeta'>, rootKey: Buffer, dataDir: string): Promise<void> {
  const check = await store.getMeta(ROOT_KEY_CHECK);
  if (check && !rootKeyMatches(rootKey, check)) {
    throw new RootKeyError(`the root key does not match the data in ${dataDir}; start with the root key this data dir was created with`);
  }
}

/** This server's URL as a local child process reaches it: a wildcard address becomes loopback. */
function reachableUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

function startMaintenanceTimer(run: () => Promise<void>, intervalMs: number, logger: Logger) {
  if (intervalMs <= 0) return undefined;
  const timer = setInterval(() => {
    run().catch((error) => logger.error('maintenance failed', { error: error instanceof Error ? error.message : String(error) }));
  }, intervalMs);
  timer.unref();
  return timer;
}
