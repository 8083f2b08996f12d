import type { GrantRecord, Page } from '../records.js';
import { grantFromRow } from '../rows/grants.js';
import { toPage, type RunInTransaction } from './postgres-tables.js';

/** KMS grants in PostgreSQL (table kms_grants): the SQL of SqliteGrantTables. Rows cascade away with their key. */
export class PostgresGrantTables {
  readonly #transaction: RunInTransaction;

  constructor(transaction: RunInTransaction) {
    this.#transaction = transaction;
  }

  /**
   * Insert-or-get: the partial unique index on (key_id, name, fingerprint) makes a named retry find its grant.
   * A conflicting grant committed after this transaction began is a serialization failure under
   * SERIALIZABLE, retried, and then found.
   */
  createGrant(grant: GrantRecord): Promise<GrantRecord> {
    return this.#transaction(async (sql) => {
      const inserted = await sql.run(
        `INSERT INTO kms_grants (grant_id, key_id, key_arn, name, grantee_principal, retiring_principal, issuing_account,
           operations, constraints, fingerprint, creation_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
        [
          grant.grantId, grant.keyId, grant.keyArn, grant.name ?? null, grant.granteePrincipal, grant.retiringPrincipal ?? null,
          grant.issuingAccount, JSON.stringify(grant.operations), grant.constraints ? JSON.stringify(grant.constraints) : null,
          grant.fingerprint, grant.creationDate.getTime(),
        ],
      );
      if (inserted === 1 || grant.name === undefined) return grant;
      const existing = await sql.one('SELECT * FROM kms_grants WHERE key_id = $1 AND name = $2 AND fingerprint = $3', [grant.keyId, grant.name, grant.fingerprint]);
      // A conflict on the primary key alone (a grant id collision) would leave nothing to return: surface it.
      if (!existing) throw new Error('grant id collision');
      return grantFromRow(existing);
    });
  }

  getGrant(keyId: string, grantId: string): Promise<GrantRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT * FROM kms_grants WHERE key_id = $1 AND grant_id = $2', [keyId, grantId]);
      return row && grantFromRow(row);
    });
  }

  listGrants(keyId: string, page: { limit: number; marker?: string; grantId?: string; granteePrincipal?: string }): Promise<Page<GrantRecord>> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        `SELECT * FROM kms_grants WHERE key_id = $1 AND grant_id > $2
           AND ($3::text IS NULL OR grant_id = $3) AND ($4::text IS NULL OR grantee_principal = $4)
         ORDER BY grant_id LIMIT $5`,
        [keyId, page.marker ?? '', page.grantId ?? null, page.granteePrincipal ?? null, page.limit + 1],
      );
      return toPage(rows.map(grantFromRow), page.limit, (grant) => grant.grantId);
    });
  }

  listRetirableGrants(retiringPrincipal: string, page: { limit: number; marker?: string }): Promise<Page<GrantRecord>> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows('SELECT * FROM kms_grants WHERE retiring_principal = $1 AND grant_id > $2 ORDER BY grant_id LIMIT $3', [
        retiringPrincipal,
        page.marker ?? '',
        page.limit + 1,
      ]);
      return toPage(rows.map(grantFromRow), page.limit, (grant) => grant.grantId);
    });
  }

  listGrantsForGrantee(keyId: string, granteePrincipals: readonly string[]): Promise<GrantRecord[]> {
    if (granteePrincipals.length === 0) return Promise.resolve([]);
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT * FROM kms_grants WHERE key_id = $1 AND grantee_principal = ANY($2::text[]) ORDER BY grant_id', [keyId, granteePrincipals])).map(
        grantFromRow,
      ),
    );
  }

  deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    return this.#transaction(async (sql) => (await sql.run('DELETE FROM kms_grants WHERE key_id = $1 AND grant_id = $2', [keyId, grantId])) === 1);
  }
}
