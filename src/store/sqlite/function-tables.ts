import type { Statement } from 'better-sqlite3';
import type { FunctionPatch, FunctionRecord } from '../records.js';
import { FUNCTION_COLUMNS, functionFromRow, toColumnPatch } from '../rows/functions.js';
import { patchAssignments } from './sql-values.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/** Hosted rotation functions in SQLite. */
export class SqliteFunctionTables {
  readonly #stmt: Prepare;

  constructor(prepare: Prepare) {
    this.#stmt = prepare;
  }

  createFunction(record: FunctionRecord): boolean {
    const result = this.#stmt(
      `INSERT INTO functions (arn, account_id, region, name, kind, runtime, handler, code_zip, code_sha256, code_size, url,
         environment, environment_key_arn, environment_data_key, environment_sealed, kms_key_arn,
         timeout_seconds, description, role, created_at, last_modified, revision_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      record.arn, record.accountId, record.region, record.name, record.kind, record.runtime ?? null, record.handler ?? null,
      record.codeZip ?? null, record.codeSha256 ?? null, record.codeSize, record.url ?? null, JSON.stringify(record.environment),
      record.sealedEnvironment?.kmsKeyArn ?? null, record.sealedEnvironment?.encryptedDataKey ?? null,
      record.sealedEnvironment?.sealedValue ?? null, record.kmsKeyArn ?? null, record.timeoutSeconds, record.description, record.role ?? null, record.createdAt.getTime(), record.lastModified.getTime(),
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
    const { assignments, values } = patchAssignments(toColumnPatch(patch), FUNCTION_COLUMNS);
    if (assignments.length === 0) return this.getFunction(accountId, region, name);
    const row = this.#stmt(`UPDATE functions SET ${assignments.join(', ')} WHERE account_id = ? AND region = ? AND name = ? RETURNING *`).get(
      ...values, accountId, region, name,
    ) as Row | undefined;
    return row && functionFromRow(row);
  }

  deleteFunction(accountId: string, region: string, name: string): boolean {
    return this.#stmt('DELETE FROM functions WHERE account_id = ? AND region = ? AND name = ?').run(accountId, region, name).changes === 1;
  }

  listFunctionsWithClearEnvironment(): FunctionRecord[] {
    const rows = this.#stmt(
      `SELECT * FROM functions WHERE environment_sealed IS NULL AND (environment <> '{}' OR url IS NOT NULL) ORDER BY arn`,
    ).all() as Row[];
    return rows.map(functionFromRow);
  }
}
