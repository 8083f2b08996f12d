import type { FunctionPatch, FunctionRecord } from '../records.js';
import { FUNCTION_COLUMNS, functionFromRow, toColumnPatch } from '../rows/functions.js';
import type { FunctionsRepository } from '../repositories/functions.js';
import { patchAssignments, type RunInTransaction } from './postgres-tables.js';

/** Hosted and HTTP functions in PostgreSQL: the SQL of SqliteFunctionTables. */
export class PostgresFunctionTables implements FunctionsRepository {
  readonly #transaction: RunInTransaction;

  constructor(transaction: RunInTransaction) {
    this.#transaction = transaction;
  }

  createFunction(record: FunctionRecord): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run(
        `INSERT INTO functions (arn, account_id, region, name, kind, runtime, handler, code_zip, code_sha256, code_size, url,
           environment, environment_key_arn, environment_data_key, environment_sealed, kms_key_arn,
           timeout_seconds, description, role, created_at, last_modified, revision_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) ON CONFLICT DO NOTHING`,
        [
          record.arn, record.accountId, record.region, record.name, record.kind, record.runtime ?? null, record.handler ?? null,
          record.codeZip ?? null, record.codeSha256 ?? null, record.codeSize, record.url ?? null, JSON.stringify(record.environment),
          record.sealedEnvironment?.kmsKeyArn ?? null, record.sealedEnvironment?.encryptedDataKey ?? null,
          record.sealedEnvironment?.sealedValue ?? null, record.kmsKeyArn ?? null, record.timeoutSeconds, record.description,
          record.role ?? null, record.createdAt.getTime(), record.lastModified.getTime(), record.revisionId,
        ],
      )) === 1,
    );
  }

  getFunction(accountId: string, region: string, name: string): Promise<FunctionRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT * FROM functions WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name]);
      return row && functionFromRow(row);
    });
  }

  listFunctions(accountId: string, region: string): Promise<FunctionRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT * FROM functions WHERE account_id = $1 AND region = $2 ORDER BY name', [accountId, region])).map(functionFromRow),
    );
  }

  updateFunction(accountId: string, region: string, name: string, patch: FunctionPatch): Promise<FunctionRecord | undefined> {
    const { assignments, values } = patchAssignments(toColumnPatch(patch), FUNCTION_COLUMNS, 4);
    return this.#transaction(async (sql) => {
      const row =
        assignments.length === 0
          ? await sql.one('SELECT * FROM functions WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name])
          : await sql.one(`UPDATE functions SET ${assignments.join(', ')} WHERE account_id = $1 AND region = $2 AND name = $3 RETURNING *`, [
              accountId,
              region,
              name,
              ...values,
            ]);
      return row && functionFromRow(row);
    });
  }

  deleteFunction(accountId: string, region: string, name: string): Promise<boolean> {
    return this.#transaction(async (sql) => (await sql.run('DELETE FROM functions WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name])) === 1);
  }

  listFunctionsWithClearEnvironment(): Promise<FunctionRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows(`SELECT * FROM functions WHERE environment_sealed IS NULL AND (environment <> '{}' OR url IS NOT NULL) ORDER BY arn`)).map(functionFromRow),
    );
  }
}
