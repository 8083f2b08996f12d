/**
 * @module server
 * The composition root (compose.ts), the HTTP edge and the request pipeline. It may import every module;
 * nothing imports it but the CLI.
 */
export * from './compose.js';
export { createCofferMetrics, type CofferMetrics } from './metrics.js';
export { adminCredentialsText } from './bootstrap.js';
export { DEFAULT_EDGE_LIMITS, type EdgeLimits } from './http.js';
export { defaultAuditAnchorFile, openAuditLog, type AuditLog } from './audit-log.js';
export { defaultAuditSpoolDir, openAuditSpool, parseSpool, type AuditSpoolFile } from './audit-spool.js';
export { clusterAuditAppender, clusterMetrics, isClusterWorker, onAnnounce, reportReady, runClusterPrimary, runsMaintenance } from './cluster.js';
export { AUDIT_ANCHOR_INTERVAL_MS, AuditAnchorFileError, auditAnchoringFor, loadAuditAnchoring } from './audit-anchoring.js';
export { describeUrl } from './store-url.js';
export { startSealedServer, type SealedServer } from './sealed.js';
export { rootKeyIsShared, rootKeyNeedsPassphrase } from './root-key.js';
export { startRekey, waitForRekey, type RekeyRequest, type RekeyStarted } from './rekey-command.js';
export {
  compareDigests,
  describeLocation,
  MigrateRefusedError,
  migrateStore,
  parseStoreLocation,
  VerificationError,
  verifyStores,
  type MigrateProgress,
  type MigrateReport,
  type StoreLocation,
} from './migrate.js';
export {
  backupStore,
  BackupRefusedError,
  checkBackup,
  readBackupKeyFile,
  restoreStore,
  type BackupReport,
  type BackupSecret,
  type RestoreReport,
} from './backup.js';
export type { PostgresConfig } from './config.js';
export type { MetricsConfig } from './metrics-endpoint.js';
