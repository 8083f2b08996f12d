import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { createLogger, silentLogger, type Clock, type Logger } from '../../src/core/index.js';
import type { ParameterLimits } from '../../src/ssm/index.js';
import { defaultAuditAnchorFile, defaultAuditSpoolDir, startServer, type EdgeLimits, type MetricsConfig, type PostgresConfig, type RunningServer } from '../../src/server/index.js';

export type TestServer = {
  url: string;
  dataDir: string;
  server: RunningServer;
  /** Administrator credentials created on first start. */
  admin: { accessKeyId: string; secretAccessKey: string };
  kms(options?: { region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } }): KMSClient;
  /** Stops the server; the data dir stays until cleanup(). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
};

/**
 * Starts a real Coffer server in this process on a free loopback port, through the same composition root
 * as `coffer server`. Tests talk to it over HTTP with real clients.
 */
export async function startTestServer(
  options: {
    clock?: Clock;
    dataDir?: string;
    devMode?: boolean;
    rootKeyBase64?: string;
    auditFailClosed?: boolean;
    /** Fail-open: how long an append that met an unreachable store is retried before its events are spooled. */
    auditRetryMs?: number;
    auditAnchorIntervalMs?: number;
    auditAnchorFile?: string;
    /** Audit retention at runMaintenance(): days kept in the database, and where archive files go. */
    auditRetentionDays?: number;
    auditArchiveDir?: string;
    logger?: Logger;
    limits?: Partial<EdgeLimits>;
    /** A node on this PostgreSQL store instead of SQLite in the data dir. */
    postgres?: PostgresConfig;
    /** The kms-digest addon's file (default: the one npm ci builds). */
    kmsDigestAddon?: string;
    /** `--encode-authorization-messages`: AccessDenied messages carry an encoded failure message. */
    encodeAuthorizationMessages?: boolean;
    /** KMS's encryption budget per backing key (a small one makes the automatic replacement testable). */
    kmsEncryptionBudget?: { encryptionsPerBackingKey?: number; reservationBlock?: number };
    /** Serve GET /metrics (on the API port unless `port` is given). */
    metrics?: MetricsConfig;
    /** Parameter Store's quotas, lowered by tests of the limits themselves. */
    parameterLimits?: Partial<ParameterLimits>;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'coffer-test-'));
  const server = await startServer({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    devMode: options.devMode ?? true,
    clock: options.clock,
    // COFFER_TEST_LOG=debug shows the server's log while debugging a test.
    logger: options.logger ?? (process.env.COFFER_TEST_LOG ? createLogger({ level: process.env.COFFER_TEST_LOG as 'debug' }) : silentLogger),
    maintenanceIntervalMs: 0,
    rootKeyBase64: options.rootKeyBase64,
    auditFailClosed: options.auditFailClosed,
    auditRetryMs: options.auditRetryMs,
    auditAnchorIntervalMs: options.auditAnchorIntervalMs,
    auditAnchorFile: options.auditAnchorFile,
    auditRetentionDays: options.auditRetentionDays,
    auditArchiveDir: options.auditArchiveDir,
    limits: options.limits,
    postgres: options.postgres,
    kmsDigestAddon: options.kmsDigestAddon,
    encodeAuthorizationMessages: options.encodeAuthorizationMessages,
    kmsEncryptionBudget: options.kmsEncryptionBudget,
    metrics: options.metrics,
    parameterLimits: options.parameterLimits,
  });
  const admin = server.coffer.createdAdmin ?? { accessKeyId: 'test', secretAccessKey: 'test' };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    url: server.http.url,
    dataDir,
    server,
    admin,
    kms: (clientOptions = {}) =>
      new KMSClient({
        endpoint: server.http.url,
        region: clientOptions.region ?? 'us-east-1',
        credentials: clientOptions.credentials ?? admin,
        maxAttempts: 1,
      }),
    stop,
    async cleanup() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
      // The audit anchors are kept beside the data dir, not in it.
      rmSync(defaultAuditAnchorFile(dataDir), { force: true });
      rmSync(defaultAuditSpoolDir(dataDir), { recursive: true, force: true });
    },
  };
}
