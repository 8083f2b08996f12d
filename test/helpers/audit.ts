import { execFile } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeAuditBody } from '../../src/store/audit-codec.js';
import { AUDIT_COLUMNS, AuditNames, logicalAuditRow } from '../../src/store/sqlite/audit-rows.js';
import { REPO_ROOT } from './child-server.js';

/** Helpers of the audit tests: the raw audit rows of a data dir and the `coffer audit` command. */

export type AuditRow = { sequence: number; event_id: string; event_name: string; body: string; prev_hash: string; hash: string; [column: string]: unknown };

export function databasePath(dataDir: string): string {
  return join(dataDir, 'coffer.db');
}

/** The audit log's own file (store/sqlite/audit-writer.ts). */
export function auditDatabasePath(dataDir: string): string {
  return join(dataDir, 'audit.db');
}

/**
 * Every audit row, in chain order, read with a separate connection (works while the server runs: WAL), in its
 * logical form (texts, canonical JSON body, hex hashes) whatever its stored encoding (store/sqlite/audit-rows.ts).
 * Written back as they are, they are rows of the old (text) encoding, which the store reads too.
 */
export function auditRows(dataDir: string): AuditRow[] {
  const db = new Database(auditDatabasePath(dataDir), { readonly: true });
  try {
    const names = new AuditNames(db);
    const columns = AUDIT_COLUMNS.split(', ');
    return (db.prepare('SELECT * FROM audit_events ORDER BY sequence').all() as Array<Record<string, unknown>>).map((row) => {
      const logical = logicalAuditRow(names, row);
      return Object.fromEntries(columns.map((column, index) => [column, logical[index]])) as AuditRow;
    });
  } finally {
    db.close();
  }
}

/** The parsed CloudTrail events, in chain order. */
export function auditEvents(dataDir: string): Array<Record<string, any>> {
  return auditRows(dataDir).map((row) => JSON.parse(row.body) as Record<string, any>);
}

/** Runs SQL against the data dir's database with a connection of the test's own. */
export function withDatabase<T>(dataDir: string, use: (db: Database.Database) => T): T {
  const db = new Database(databasePath(dataDir));
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/** Runs SQL against the data dir's audit database with a connection of the test's own. */
export function withAuditDatabase<T>(dataDir: string, use: (db: Database.Database) => T): T {
  const db = new Database(auditDatabasePath(dataDir));
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/** `coffer <args>` as a user runs it (bin/coffer → dist/cli/main.js). */
export function coffer(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), ...args], { timeout: 30_000, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** What a query of raw PostgreSQL audit rows selects to decode their bodies (postgresAuditBody). */
export const POSTGRES_AUDIT_BODY_COLUMNS = 'body, event_id, event_time, resource_names';
/** The query of the body templates that postgresAuditBody takes (store/audit-codec.ts, codec 2). */
export const POSTGRES_AUDIT_TEMPLATES = 'SELECT id, template FROM audit_templates';

type RawPostgresAuditRow = { body: Uint8Array; event_id: string; event_time: number | string; resource_names: string[] };

/** The canonical JSON of a raw PostgreSQL audit row, whatever its stored encoding (text, compressed, a template and holes). */
export function postgresAuditBody(row: RawPostgresAuditRow, templates: ReadonlyArray<{ id: number | string; template: string }>): string {
  return decodeAuditBody(row.body, {
    template: (id) => templates.find((candidate) => Number(candidate.id) === id)?.template,
    context: () => ({ eventId: row.event_id, eventTime: Number(row.event_time), resourceNames: row.resource_names }),
  });
}
