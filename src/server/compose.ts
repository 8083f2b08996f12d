import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cloudTrailTable, createAuditRecorder } from '../audit/index.js';
import { createAuthenticatorNow, createCredentials, type Credentials } from '../auth/index.js';
import { createLogger, systemClock, type Logger } from '../core/index.js';
import { Keyring, makeRootKeyCheck, type LoadedRootKey } from '../crypto/index.js';
import { createFunctionsService, type FunctionsService } from '../functions/index.js';
import { createIamService, createIdentityPolicySource, getManagedPolicyDocument, newAccountId, setStoredJwks, SigningKeyCache, type SetJwksOutcome } from '../iam/index.js';
import { createKmsService, type KmsService } from '../kms/index.js';
import { CompiledPolicyCache, createAuthorizer } from '../policy/index.js';
import { createQueryRouter, createRestRouter, createTargetRouter } from '../protocol/index.js';
import { createRotationService, type RotationService } from '../rotation/index.js';
import { builtInRotators } from '../rotation/rotators/index.js';
import { createSecretsService, type SecretsService } from '../secrets/index.js';
import { createSsmService, type SsmService } from '../ssm/index.js';
import { secretsReaderFor } from './secrets-reader.js';
import type { IamRepository } from '../store/index.js';
import { SqliteStore } from '../store/sqlite/index.js';
import { auditAnchoringFor } from './audit-anchoring.js';
import { createAuthorizationMessages } from './authorization-messages.js';
import type { CofferConfig, ServerStore } from './config.js';
import { createKeyUsageLog } from './key-usage-log.js';
import { openPostgresStore } from './postgres-store.js';
import { createAuditRetention, defaultAuditArchiveDir } from './audit-retention.js';
import { defaultAuditSpoolDir, openAuditSpool, type AuditSpoolFile } from './audit-spool.js';
import { describeUrl } from './store-url.js';
import { keepRotatedRootKey, loadRootKeyFor, ROOT_KEY_CHECK } from './root-key.js';
import { settleRootKeys, zeroSettledKeys, type SettledRootKeys } from './rekey-record.js';
import { startRekeyRunner } from './rekey.js';
import { adminCredentialsText, bootstrapAdmin, writePrivateFile, type AdminCredentials } from './bootstrap.js';
import { listen, type EdgeLimits, type HttpServer } from './http.js';
export type { CofferConfig, ServerStore } from './config.js';
import { lambdaExecutionRoles } from './execution-roles.js';
import { createInvoker, createPipeline, type Invoke, type Pipeline } from './pipeline.js';
import type { CofferMetrics } from './metrics.js';
import { listenMetrics, prepareMetrics, type MetricsConfig, type MetricsServer } from './metrics-endpoint.js';


export type Coffer = {
  pipeline: Pipeline;
  kms: KmsService;
  secrets: SecretsService;
  ssm: SsmService;
  functions: FunctionsService;
  rotation: RotationService;
  accounts: {
    /** A new account (random 12-digit id) with an access key of its root user; the secret is shown once. */
    create(): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string }>;
  };
  oidcProviders: {
    /** Stores (or with undefined, clears) an OIDC provider's JWKS given by hand (`coffer oidc set-jwks`). */
    setJwks(change: { accountId: string; url: string; jwks: string | undefined }): Promise<SetJwksOutcome>;
  };
  /** Set on the start that created the data dir's administrator key. */
  createdAdmin?: AdminCredentials;
  rootKeyCreated: boolean;
  rootKeyDescription: string;
  /** 'sqlite', or the PostgreSQL URL without its password. */
  storeDescription: string;
  runMaintenance(): Promise<void>;
  close(): Promise<void>;
};

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


/**
 * Root key → store → check value (and a rekey in progress: both keys) → migrations → keyring. A wrong or missing
 * root key changes nothing.
 */
async function openVerifiedStore(config: CofferConfig): Promise<{ store: ServerStore; keyring: Keyring; rootKey: LoadedRootKey }> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const opened = config.postgres ? await openPostgresStore(config, config.postgres) : await openSqliteStore(config);
  let keys: SettledRootKeys;
  try {
    keys = await settleRootKeys(opened.store, opened.rootKey.key, config.postgres ? describeUrl(config.postgres.url) : config.dataDir);
  } catch (error) {
    await opened.store.close();
    throw error;
  } finally {
    opened.rootKey.key.fill(0);
  }
  const keyring = new Keyring(keys.previous ?? keys.current);
  if (keys.previous) keyring.adoptRootKey(keys.current);
  keys.current.fill(0);
  keys.previous?.fill(0);
  return { ...opened, keyring };
}

async function openSqliteStore(config: CofferConfig): Promise<{ store: ServerStore; rootKey: LoadedRootKey }> {
  const databasePath = join(config.dataDir, 'coffer.db');
  const dataDirIsNew = !existsSync(databasePath);
  const rootKey = loadRootKeyFor(config, dataDirIsNew);
  let store: SqliteStore;
  try {
    const auditAnchoring = auditAnchoringFor(config, rootKey.key);
    store = new SqliteStore(databasePath, {
      auditAppender: config.auditAppender,
      auditAnchoring,
      immediateTransactions: config.immediateTransactions,
      readCacheMaxBytes: config.readCacheMaxBytes,
    });
  } catch (error) {
    rootKey.key.fill(0);
    throw error;
  }
  try {
    await settleRootKeys(store, rootKey.key, config.dataDir).then(zeroSettledKeys);
    await store.migrate();
    await store.putMetaIfAbsent(ROOT_KEY_CHECK, makeRootKeyCheck(rootKey.key));
    if (config.auditWriterAtOpen) store.startAuditWriter();
  } catch (error) {
    await store.close();
    rootKey.key.fill(0);
    throw error;
  }
  return { store, rootKey };
}

async function composeServices(config: CofferConfig, openedStore: ServerStore, keyring: Keyring, rootKey: LoadedRootKey): Promise<Coffer> {
  const clock = config.clock ?? systemClock;
  const instruments = config.instruments;
  // With metrics on, every service sees the store through a proxy that times each method.
  const store = instruments ? instruments.observeStore(openedStore) : openedStore;
  // Scrape-time reads go to the store itself, so they do not show up as request-path store latency.
  instruments?.observeStoreState({ store: openedStore, clock, readCacheStats: () => openedStore.readCacheStats() });
  const logger = config.logger ?? createLogger();
  const credentials = createCredentials({ store, keyring, devMode: config.devMode ?? false, clock: systemClock });
  const createdAdmin = await bootstrapAdmin(store, credentials, join(config.dataDir, 'admin-credentials'), clock.now());
  const compiledPolicies = new CompiledPolicyCache();
  const identities = createIdentityPolicySource((accountId, kind, name) => store.getIamIdentity(accountId, kind, name), compiledPolicies, {
    managedPolicyDocument: (policyArn) => getManagedPolicyDocument(store, policyArn),
  });
  // AccessDenied messages carry an encoded failure message only when asked (AWS's Secrets Manager and KMS send none).
  const authorizationMessages = createAuthorizationMessages(keyring);
  const authorizer = createAuthorizer(identities, config.encodeAuthorizationMessages ? { messages: authorizationMessages } : {});
  // AssumeRoleWithWebIdentity's issuers: https only, and in --dev also plain http on a loopback address.
  const allowLoopbackHttpIssuers = config.devMode ?? false;
  const webIdentity = { allowLoopbackHttpIssuers, signingKeys: new SigningKeyCache({ policy: { allowLoopbackHttp: allowLoopbackHttpIssuers } }) };
  const iam = createIamService({ store, credentials, authorizer, identities, authorizationMessages, compiledPolicies, logger, webIdentity, tokenClock: systemClock });
  const kms = createKmsService({
    store, principals: iam.principals, keyUsage: createKeyUsageLog(store), keyring, logger, authorizer, compiledPolicies, kmsDigestAddon: config.kmsDigestAddon,
    encryptionBudget: { ...config.kmsEncryptionBudget, clock },
  });
  const auditSpool = await openAuditSpoolAndReplay(config, store, logger);
  const failClosed = config.auditFailClosed ?? false;
  const recorder = createAuditRecorder({ store, logger, failClosed, spool: auditSpool, retryMs: config.auditRetryMs });
  const audit = instruments ? instruments.observeAudit(recorder) : recorder;
  // Built-in functions run rotation's rotators, and rotation invokes functions: bound late, like `invoke`.
  let rotation: RotationService | undefined;
  const functions = createFunctionsService({
    store,
    kms: kms.portFor('lambda'),
    logger,
    executionRoles: lambdaExecutionRoles(iam.serviceRoles),
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
    leaseMs: config.rotationLeaseMs,
    secretByArn: (secretArn) => secrets.secretByArn(secretArn), // bound late: secrets needs rotation's starter
    invokeSecrets: (ctx, operation, input) => invoke!(ctx, `secretsmanager.${operation}`, input),
    invokeSecretsAsFunction: (ctx, operation, input) => invokeAsFunction!(ctx, `secretsmanager.${operation}`, input),
    invokeFunction: functions.invoke,
    functionExists: functions.exists,
    rotators: builtInRotators,
    recordEvent: (event) => {
      instruments?.observeRotationEvent(event);
      return audit.recordServiceEvent({
        time: event.time,
        service: 'secretsmanager',
        eventName: event.eventName,
        accountId: event.accountId,
        region: event.region,
        resourceArn: event.secretArn,
        additionalEventData: event.details,
      });
    },
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
  // Parameter Store reads referenced secrets through Secrets Manager's own GetSecretValue: bound late, like `invoke`.
  let invokeAsSsm: Invoke | undefined;
  const ssm = createSsmService({
    store,
    kms: kms.portFor('ssm'),
    authorizer,
    secrets: secretsReaderFor((ctx, operation, input) => invokeAsSsm!(ctx, `secretsmanager.${operation}`, input)),
    logger,
    limits: config.parameterLimits,
  });
  const route = createTargetRouter([kms.table, secrets.table, ssm.table, cloudTrailTable({ store })]);
  invoke = createInvoker({ route, audit, authorizer, invokedBy: 'secretsmanager.amazonaws.com' });
  invokeAsSsm = createInvoker({ route, audit, authorizer, invokedBy: 'ssm.amazonaws.com' });
  // A built-in function's calls are its execution role's, audited as that session's (not as the service's).
  invokeAsFunction = createInvoker({ route, audit, authorizer });
  const pipeline = createPipeline({
    route,
    restRouter: createRestRouter([functions.restTable]),
    queryRouter: createQueryRouter([iam.iamTable, iam.stsTable]),
    signatureClock: systemClock,
    authenticate: createAuthenticatorNow(credentials),
    authorizer,
    clock,
    logger,
    audit,
    observeCall: instruments?.observeCall,
  });

  const auditRetention =
    config.auditRetentionDays === undefined
      ? undefined
      : createAuditRetention({
          store,
          retentionDays: config.auditRetentionDays,
          archiveDir: config.auditArchiveDir ?? defaultAuditArchiveDir(config.dataDir),
          logger,
        });
  const runMaintenance = async () => {
    await kms.maintenance.runDue(clock.now());
    await secrets.maintenance.runDue(clock.now());
    await ssm.maintenance.runDue(clock.now());
    await rotation.maintenance.runDue(clock.now());
    await functions.maintenance.runDue(systemClock.now()); // credential expiry is wall-clock time, like SigV4
    await auditRetention?.runDue(clock.now());
  };
  const timer = startMaintenanceTimer(runMaintenance, config.maintenanceIntervalMs ?? 60_000, logger);
  const rekeyPollMs = config.rekeyPollMs ?? 1_000;
  const rekey = startRekeyRunner({
    store,
    keyring,
    logger,
    keepNewKey: (newKey, target) => keepRotatedRootKey(config, newKey, target, logger),
    pollMs: rekeyPollMs,
    graceMs: 3 * rekeyPollMs,
    dropDelayMs: Math.max(2_000, 2 * (config.postgres?.readCacheMaxAgeMs ?? 500)),
  });

  return {
    pipeline,
    kms,
    secrets,
    ssm,
    functions,
    rotation,
    accounts: { create: () => createAccount(store, credentials, clock.now()) },
    oidcProviders: { setJwks: (change) => setStoredJwks(store, change) },
    createdAdmin,
    rootKeyCreated: rootKey.created,
    rootKeyDescription: rootKey.description,
    storeDescription: config.postgres ? describeUrl(config.postgres.url) : 'sqlite',
    runMaintenance,
    async close() {
      if (timer) clearInterval(timer);
      rekey.close();
      functions.close();
      await auditSpool?.close();
      await store.close();
      authorizationMessages.close();
      keyring.close();
    },
  };
}

/**
 * The audit spool of an on-disk data dir, after appending what an earlier run spooled (before anything is
 * served; docs/ARCHITECTURE.md, "Audit"). If the audit log cannot be written now, the spool keeps its events
 * and retries in the background.
 */
async function openAuditSpoolAndReplay(config: CofferConfig, store: ServerStore, logger: Logger): Promise<AuditSpoolFile | undefined> {
  if (config.dataDir === ':memory:') return undefined;
  const spool = openAuditSpool({ dir: config.auditSpoolDir ?? defaultAuditSpoolDir(config.dataDir), store, logger });
  try {
    const { appended, files } = await spool.replay();
    if (files > 0) logger.info('audit spool replayed into the audit log at start', { appended, files });
  } catch (error) {
    logger.error('audit spool could not be replayed at start; retrying in the background', { error: error instanceof Error ? error.message : String(error) });
  }
  return spool;
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
  /** Where /metrics is served (the API's URL, or the --metrics-port listener's), when it is. */
  metricsUrl?: string;
  /** This process's metrics registry and instruments, when metrics are on. */
  instruments?: CofferMetrics;
  /** API requests this process has answered (GET /health not counted). */
  requestsServed(): number;
  close(): Promise<void>;
};

/**
 * Serves Coffer over HTTP; close() drains requests first, then closes the store. The port is bound before
 * the data dir is touched, so a start that cannot listen (port in use) creates no root key, no database and
 * no administrator key that nobody was shown.
 */
export async function startServer(
  config: CofferConfig & { host: string; port: number; limits?: Partial<EdgeLimits>; metrics?: MetricsConfig },
): Promise<RunningServer> {
  const logger = config.logger ?? createLogger();
  const metrics = config.metrics && prepareMetrics(config.metrics, config.host, logger);
  const separateMetrics = config.metrics?.port !== undefined;
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
    { host: config.host, port: config.port, logger, limits: config.limits, metrics: separateMetrics ? undefined : metrics?.responder },
  );
  let metricsServer: MetricsServer | undefined;
  let coffer: Coffer;
  try {
    if (metrics && separateMetrics) metricsServer = await listenMetrics(metrics.responder, { host: metrics.host, port: config.metrics!.port!, logger });
    coffer = await openCoffer({
      ...config,
      logger,
      endpointUrl: config.endpointUrl ?? reachableUrl(config.host, http.port),
      auditWriterAtOpen: true,
      instruments: metrics?.instruments,
    });
  } catch (error) {
    openFailed(error);
    await metricsServer?.close();
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
    metricsUrl: metrics && (metricsServer?.url ?? `${http.url}/metrics`),
    instruments: metrics?.instruments,
    requestsServed: () => requestsServed,
    async close() {
      await metricsServer?.close();
      await http.close();
      await coffer.close();
    },
  };
}

/** This server's URL as a local child process reaches it: a wildcard address becomes loopback. */
export function reachableUrl(host: string, port: number): string {
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
