import type { IamTag, OidcProviderCreateOutcome, OidcProviderRecord, OidcProviderUpdateOutcome } from '../records.js';
import type { OidcProviderRepository } from '../repositories/oidc-providers.js';
import { OIDC_PROVIDER_COLUMNS, oidcProviderEdits, oidcProviderFromRow, oidcProviderRow } from '../rows/oidc-providers.js';
import type { RunInTransaction } from './postgres-tables.js';
import type { Sql } from './transaction.js';

type Row = Record<string, any>;

/**
 * IAM OpenID Connect providers in PostgreSQL: the SQL of SqliteOidcProviderTables, each method one SERIALIZABLE
 * transaction, so the limit checks (providers per account, client ids, tags) hold under concurrent writers.
 */
export class PostgresOidcProviderTables implements OidcProviderRepository {
  readonly #transaction: RunInTransaction;

  constructor(transaction: RunInTransaction) {
    this.#transaction = transaction;
  }

  createOidcProvider(record: OidcProviderRecord, maxPerAccount: number): Promise<OidcProviderCreateOutcome> {
    return this.#transaction(async (sql): Promise<OidcProviderCreateOutcome> => {
      if (await rowOf(sql, record.accountId, record.arn)) return 'exists';
      const count = Number((await sql.one('SELECT count(*) AS n FROM iam_oidc_providers WHERE account_id = $1', [record.accountId]))!.n);
      if (count >= maxPerAccount) return 'limit-exceeded';
      const inserted = await sql.run(
        `INSERT INTO iam_oidc_providers (${OIDC_PROVIDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        oidcProviderRow(record),
      );
      return inserted === 1 ? 'created' : 'exists';
    });
  }

  getOidcProvider(accountId: string, arn: string): Promise<OidcProviderRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await rowOf(sql, accountId, arn);
      return row && oidcProviderFromRow(row);
    });
  }

  listOidcProviders(accountId: string): Promise<OidcProviderRecord[]> {
    return this.#transaction(async (sql) => (await sql.rows('SELECT * FROM iam_oidc_providers WHERE account_id = $1 ORDER BY arn', [accountId])).map(oidcProviderFromRow));
  }

  deleteOidcProvider(accountId: string, arn: string): Promise<boolean> {
    return this.#transaction(async (sql) => (await sql.run('DELETE FROM iam_oidc_providers WHERE account_id = $1 AND arn = $2', [accountId, arn])) === 1);
  }

  addOidcProviderClientId(accountId: string, arn: string, clientId: string, maxClientIds: number): Promise<OidcProviderUpdateOutcome> {
    return this.#edit(accountId, arn, 'client_ids', (row) => oidcProviderEdits.addClientId(row, clientId, maxClientIds));
  }

  async removeOidcProviderClientId(accountId: string, arn: string, clientId: string): Promise<boolean> {
    return (await this.#edit(accountId, arn, 'client_ids', (row) => oidcProviderEdits.removeClientId(row, clientId))) === 'updated';
  }

  setOidcProviderThumbprints(accountId: string, arn: string, thumbprints: string[]): Promise<boolean> {
    return this.#transaction(
      async (sql) => (await sql.run('UPDATE iam_oidc_providers SET thumbprints = $1 WHERE account_id = $2 AND arn = $3', [JSON.stringify(thumbprints), accountId, arn])) === 1,
    );
  }

  tagOidcProvider(accountId: string, arn: string, tags: IamTag[], maxTags: number): Promise<OidcProviderUpdateOutcome> {
    return this.#edit(accountId, arn, 'tags', (row) => oidcProviderEdits.tag(row, tags, maxTags));
  }

  async untagOidcProvider(accountId: string, arn: string, tagKeys: string[]): Promise<boolean> {
    return (await this.#edit(accountId, arn, 'tags', (row) => oidcProviderEdits.untag(row, tagKeys))) === 'updated';
  }

  setOidcProviderJwks(accountId: string, arn: string, jwks: string | undefined): Promise<boolean> {
    return this.#transaction(async (sql) => (await sql.run('UPDATE iam_oidc_providers SET jwks = $1 WHERE account_id = $2 AND arn = $3', [jwks ?? null, accountId, arn])) === 1);
  }

  /** Reads the row, computes the new JSON list of `column` (a fixed name, never caller data) and writes it, in one transaction. */
  #edit(accountId: string, arn: string, column: 'client_ids' | 'tags', next: (row: Row) => unknown[] | 'limit-exceeded'): Promise<OidcProviderUpdateOutcome> {
    return this.#transaction(async (sql): Promise<OidcProviderUpdateOutcome> => {
      const row = await rowOf(sql, accountId, arn);
      if (!row) return 'absent';
      const value = next(row);
      if (value === 'limit-exceeded') return value;
      await sql.run(`UPDATE iam_oidc_providers SET ${column} = $1 WHERE account_id = $2 AND arn = $3`, [JSON.stringify(value), accountId, arn]);
      return 'updated';
    });
  }
}

function rowOf(sql: Sql, accountId: string, arn: string): Promise<Row | undefined> {
  return sql.one('SELECT * FROM iam_oidc_providers WHERE account_id = $1 AND arn = $2', [accountId, arn]);
}
