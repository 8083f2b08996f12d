import type { Statement } from 'better-sqlite3';
import type { FunctionRecord } from '../records.js';
import { patchAssignments } from './sql-values.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;
type FunctionPatch = Partial<Pick<FunctionRecord, 'codeZip' | 'codeSha256' | 'codeSize' | 'url' | 'runtime' | 'handler' | 'environment' | 'timeoutSeconds' | 'description' | 'lastModified' | 'revisionId'>>;

const FUNCTION_COLUMNS: Record<keyof FunctionPatch, string> = {
  codeZip: 'code_zip',
  codeSha256: 'code_sha256',
  codeSize: 'code_size',
  url: 'url',
  runtime: 'runtime',
  handler: 'handler',
  environment: 'environment',
  timeoutSeconds: 'timeout_seconds',
  description: 'description',
  lastModified: 'last_modified',
  revisionId: 'revision_id',
};

/** Hosted rotation functions in SQLite. */
export class SqliteFunctionTables {
  readonly #stmt: Prepare;

  constructor(prepare: Prepare) {
    this.#stmt = prepare;
  }

  createFunction(record: FunctionRecord): boolean {
    const result = this.#stmt(
      `INSERT INTO functions (arn, account_id, region, name, kind, runtime, handler, code_zip, code_sha256, code_size, url,
         environment, timeout_seconds, description, role, created_at, last_modified, revision_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      record.arn, record.accountId, record.region, record.name, record.kind, record.runtime ?? null, record.handler ?? null,
      record.codeZip ?? null, record.codeSha256 ?? null, record.codeSize, record.url ?? null, JSON.stringify(record.environment),
      record.timeoutSeconds, record.description, record.role ?? null, record.createdAt.getTime(), record.lastModified.getTime(),
      record.revisionId,
    );
    return result.changes === 1;
  }

  getFunction(accountId: string, region: string, name: string): FunctionRecord | undefined {
    const row = this.#stmt('SELECT * FROM functions WHERE account_id = ? AND region = ? AND name = ?').get(accountId, region, name) as Row | undefined;
    return row && functionFromRow(row);
  }

  listFunctions(accountId: string, region: string): FunctionRecord[] {
    const rows = this.#stmt('SELECT * FROM functions WHERE account_id = ? AND region = ? ORDER BY name').all(accountId, region) as Row[];
    return rows.map(functionFromRow);
  }

  updateFunction(accountId: string, region: string, name: string, patch: FunctionPatch): FunctionRecord | undefined {
    const { assignments, values } = patchAssignments(patch, FUNCTION_COLUMNS);
    if (assignments.length === 0) return this.getFunction(accountId, region, name);
    const row = this.#stmt(`UPDATE functions SET ${assignments.join(', ')} WHERE account_id = ? AND region = ? AND name = ? RETURNING *`).get(
      ...values, accountId, region, name,
    ) as Row | undefined;
    return row && functionFromRow(row);
  }

  deleteFunction(accountId: string, region: string, name: string): boolean {
    return this.#stmt('DELETE FROM functions WHERE account_id = ? AND region = ? AND name = ?').run(accountId, region, name).changes === 1;
  }
}

function functionFromRow(row: Row): FunctionRecord {
  return {
    arn: row.arn,
    accountId: row.account_id,
    region: row.region,
    name: row.name,
    kind: row.kind,
    runtime: row.runtime ?? undefined,
    handler: row.handler ?? undefined,
    codeZip: row.code_zip ?? undefined,
    codeSha256: row.code_sha256 ?? undefined,
    codeSize: row.code_size,
    url: row.url ?? undefined,
    environment: JSON.parse(row.environment) as Record<string, string>,
    timeoutSeconds: row.timeout_seconds,
    description: row.description,
    role: row.role ?? undefined,
    createdAt: new Date(row.created_at),
    lastModified: new Date(row.last_modified),
    revisionId: row.revision_id,
  };
}
