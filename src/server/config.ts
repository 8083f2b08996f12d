import type { Clock, Logger } from '../core/index.js';
import type { ParameterLimits } from '../ssm/index.js';
import type { Store } from '../store/index.js';
import type { AuditAppender } from '../store/sqlite/index.js';

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
  /**
   * Append ` Encoded authorization failure message: <blob>` to AccessDenied messages (`--encode-authorization-messages`),
   * for STS DecodeAuthorizationMessage. Off by default: AWS's Secrets Manager and KMS refusals carry no such message.
   */
  encodeAuthorizationMessages?: boolean;
  /** The kms-digest addon's file; default: found beside the package (crypto/digest-signing.ts). Tests point it elsewhere. */
  kmsDigestAddon?: string;
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
};
