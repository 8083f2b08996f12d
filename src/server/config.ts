import type { Clock, Logger } from '../core/index.js';
import type { ParameterLimits } from '../ssm/index.js';
import type { ReadCacheStats, Store } from '../store/index.js';
import type { AuditAppender } from '../store/sqlite/index.js';
import type { CofferMetrics } from './metrics.js';

export type CofferConfig = {
  /**
   * Where this node keeps its root key file (unless given otherwise), administrator credentials and function
   * logs, and, on the embedded store, the database itself.
   */
  dataDir: string;
  /** The PostgreSQL store (`--store postgres://…`, COFFER_STORE_URL) and its pool; absent: SQLite in the data dir. */
  postgres?: PostgresConfig;
  /** Overrides the default key file `<data-dir>/root.key`. */
  rootKeyFile?: string;
  /** Base64 root key (COFFER_ROOT_KEY); wins over any file. */
  rootKeyBase64?: string;
  /**
   * The passphrase of a passphrase-protected key file (COFFER_ROOT_PASSPHRASE, --root-passphrase-file or the prompt);
   * on a new data dir it makes the created key file protected. Kept for a rekey, which rewrites the file under it.
   */
  rootPassphrase?: string;
  /** The root key reconstructed from unseal shares (server/sealed.ts): used instead of any file. */
  unsealedRootKey?: Buffer;
  /** Start sealed (`--sealed`, or a key file that says shares): serve only /health and /unseal until unsealed. */
  sealed?: boolean;
  /** How often this node looks for a rekey started by `coffer rekey` (default 1 s; server/rekey.ts). */
  rekeyPollMs?: number;
  devMode?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** How often due key deletions and rotations run; 0 turns the timer off (tests call runMaintenance). */
  maintenanceIntervalMs?: number;
  /**
   * How long a node's claim on a rotation lasts unless renewed (default 30 s, rotation/runner.ts): after a
   * node dies mid-rotation, another takes the run over once this has passed, at its next maintenance run.
   */
  rotationLeaseMs?: number;
  /** Where hosted functions reach this server (their AWS_ENDPOINT_URL); startServer sets it. */
  endpointUrl?: string;
  /** Refuse a request when its audit event cannot be written (default: serve it and log the failure). */
  auditFailClosed?: boolean;
  /**
   * Fail-open: where events the audit log could not take are kept until it can (server/audit-spool.ts);
   * default `<data-dir>.audit-spool`, beside the data dir. Replayed at every start, fail-closed or not.
   */
  auditSpoolDir?: string;
  /** Fail-open: how long a batch that met an unreachable store is retried before it is spooled (default 10 s). */
  auditRetryMs?: number;
  /** Where audit batches are appended; a cluster worker passes the primary's writer (cluster.ts). */
  auditAppender?: AuditAppender;
  /** Store transactions begin IMMEDIATE (several processes write the database: cluster mode). */
  immediateTransactions?: boolean;
  /** The store's read cache bound in bytes (--read-cache-size); each store's own default when not given. */
  readCacheMaxBytes?: number;
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
  /**
   * Audit retention (server/audit-retention.ts): events older than this many days (whole UTC days) move from the
   * database to archive files in `auditArchiveDir` at the maintenance run. Unset: kept in the database forever
   * (`coffer server` sets 90 for a data dir, as CloudTrail's event history).
   */
  auditRetentionDays?: number;
  /** Where archive files go (default `<data-dir>.audit-archive`, beside the data dir like the anchors). */
  auditArchiveDir?: string;
  /**
   * Append ` Encoded authorization failure message: <blob>` to AccessDenied messages (`--encode-authorization-messages`),
   * for STS DecodeAuthorizationMessage. Off by default: AWS's Secrets Manager and KMS refusals carry no such message.
   */
  encodeAuthorizationMessages?: boolean;
  /** The metrics instruments (startServer sets them when /metrics is served); absent: nothing is observed. */
  instruments?: CofferMetrics;
  /** The kms-digest addon's file; default: found beside the package (crypto/digest-signing.ts). Tests point it elsewhere. */
  kmsDigestAddon?: string;
  /**
   * Encryptions under one symmetric backing key before KMS makes a new one current (default 2^30, below AES-GCM's
   * 2^32 for random IVs), and how many a node reserves per store write (default 4096); kms/encryption-budget.ts.
   */
  kmsEncryptionBudget?: { encryptionsPerBackingKey?: number; reservationBlock?: number };
  /** Parameter Store's quotas (versions, standard parameters, labels, tags); AWS's by default. Tests of the limits lower them. */
  parameterLimits?: Partial<ParameterLimits>;
};

/** `--store postgres://…` and the flags that shape this node's use of it. */
export type PostgresConfig = {
  url: string;
  /** Connections in this node's pool (--pool-size). */
  poolSize?: number;
  /** A statement or a connection attempt past this fails the call with a retryable error (--store-timeout). */
  statementTimeoutMs?: number;
  /** How long a start waits for an unreachable database, retrying with backoff, before giving up (default 60 s). */
  startupWaitMs?: number;
  /** How stale another node's change may be seen through this node's read cache (default 500 ms). */
  readCacheMaxAgeMs?: number;
};

/** What the composition root holds of a backend: every repository, and the start of its audit writing. */
export type ServerStore = Store & {
  /** Starts this process's audit writing (SQLite's writer thread; PostgreSQL's anchoring) ahead of the first append. */
  startAuditWriter(): void | Promise<void>;
  /** The read cache's counters, for /metrics. */
  readCacheStats(): ReadCacheStats;
};
