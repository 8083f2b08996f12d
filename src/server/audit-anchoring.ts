import { closeSync } from 'node:fs';
import { createLogger } from '../core/index.js';
import { deriveAuditAnchorKey } from '../crypto/index.js';
import { openAnchorFile, type AuditAnchoring } from '../store/index.js';
import { defaultAuditAnchorFile } from './audit-log.js';
import type { CofferConfig } from './config.js';
import { loadRootKeyFor } from './root-key.js';

/** The default period of audit chain anchors: events younger than this can go undetected if deleted after a crash. */
export const AUDIT_ANCHOR_INTERVAL_MS = 10_000;

/** The anchor file cannot be written: a start fails with this message, said plainly. */
export class AuditAnchorFileError extends Error {
  override name = 'AuditAnchorFileError';
}

/**
 * The anchoring of this process's audit writer: the anchor file must be writable now (created 0600 if new), so
 * that a server that cannot anchor its chain does not start. A cluster worker checks it too, though the
 * primary's writer is the one that anchors (server/cluster.ts).
 */
export function auditAnchoringFor(config: Pick<CofferConfig, 'dataDir' | 'auditAnchorFile' | 'auditAnchorIntervalMs' | 'logger'>, rootKey: Buffer): AuditAnchoring {
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
export function loadAuditAnchoring(config: CofferConfig): AuditAnchoring {
  const rootKey = loadRootKeyFor(config, false);
  try {
    return auditAnchoringFor(config, rootKey.key);
  } finally {
    rootKey.key.fill(0);
  }
}

