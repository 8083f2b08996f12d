import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { IamTag, OidcProviderCreateOutcome, OidcProviderRecord, OidcProviderUpdateOutcome } from '../records.js';
import { OIDC_PROVIDER_COLUMNS, oidcProviderEdits, oidcProviderFromRow, oidcProviderRow } from '../rows/oidc-providers.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/** IAM OpenID Connect providers in SQLite (iam_oidc_providers); read-decide-write methods run in IMMEDIATE transactions. */
export class SqliteOidcProviderTables {
  readonly #db: Database.Database;
  readonly #stmt: Prepare;

  constructor(db: Database.Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
  }

  createOidcProvider(record: OidcProviderRecord, maxPerAccount: number): OidcProviderCreateOutcome {
    return this.#db.transaction((): OidcProviderCreateOutcome => {
      const count = this.#stmt('SELECT count(*) FROM iam_oidc_providers WHERE account_id = ?').pluck().get(record.accountId) as number;
      if (this.#row(record.accountId, record.arn)) return 'exists';
      if (count >= maxPerAccount) return 'limit-exceeded';
      const inserted = this.#stmt(`INSERT INTO iam_oidc_providers (${OIDC_PROVIDER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`).run(
        ...oidcProviderRow(record),
      ).changes;
      return inserted === 1 ? 'created' : 'exists';
    }).immediate();
  }

  getOidcProvider(accountId: string, arn: string): OidcProviderRecord | undefined {
    const row = this.#row(accountId, arn);
    return row && oidcProviderFromRow(row);
  }

  listOidcProviders(accountId: string): OidcProviderRecord[] {
    return (this.#stmt('SELECT * FROM iam_oidc_providers WHERE account_id = ? ORDER BY arn').all(accountId) as Row[]).map(oidcProviderFromRow);
  }

  deleteOidcProvider(accountId: string, arn: string): boolean {
    return this.#stmt('DELETE FROM iam_oidc_providers WHERE account_id = ? AND arn = ?').run(accountId, arn).changes === 1;
  }

  addOidcProviderClientId(accountId: string, arn: string, clientId: string, maxClientIds: number): OidcProviderUpdateOutcome {
    return this.#edit(accountId, arn, 'client_ids', (row) => oidcProviderEdits.addClientId(row, clientId, maxClientIds));
  }

  removeOidcProviderClientId(accountId: string, arn: string, clientId: string): boolean {
    return this.#edit(accountId, arn, 'client_ids', (row) => oidcProviderEdits.removeClientId(row, clientId)) === 'updated';
  }

  setOidcProviderThumbprints(accountId: string, arn: string, thumbprints: string[]): boolean {
    return this.#stmt('UPDATE iam_oidc_providers SET thumbprints = ? WHERE account_id = ? AND arn = ?').run(JSON.stringify(thumbprints), accountId, arn).changes === 1;
  }

  tagOidcProvider(accountId: string, arn: string, tags: IamTag[], maxTags: number): OidcProviderUpdateOutcome {
    return this.#edit(accountId, arn, 'tags', (row) => oidcProviderEdits.tag(row, tags, maxTags));
  }

  untagOidcProvider(accountId: string, arn: string, tagKeys: string[]): boolean {
    return this.#edit(accountId, arn, 'tags', (row) => oidcProviderEdits.untag(row, tagKeys)) === 'updated';
  }

  setOidcProviderJwks(accountId: string, arn: string, jwks: string | undefined): boolean {
    return this.#stmt('UPDATE iam_oidc_providers SET jwks = ? WHERE account_id = ? AND arn = ?').run(jwks ?? null, accountId, arn).changes === 1;
  }

  #row(accountId: string, arn: string): Row | undefined {
    return this.#stmt('SELECT * FROM iam_oidc_providers WHERE account_id = ? AND arn = ?').get(accountId, arn) as Row | undefined;
  }

  /** Reads the row, computes the new JSON list of `column` (a fixed name, never caller data) and writes it, in one transaction. */
  #edit(accountId: string, arn: string, column: 'client_ids' | 'tags', next: (row: Row) => unknown[] | 'limit-exceeded'): OidcProviderUpdateOutcome {
    return this.#db.transaction((): OidcProviderUpdateOutcome => {
      const row = this.#row(accountId, arn);
      if (!row) return 'absent';
      const value = next(row);
      if (value === 'limit-exceeded') return value;
      this.#stmt(`UPDATE iam_oidc_providers SET ${column} = ? WHERE account_id = ? AND arn = ?`).run(JSON.stringify(value), accountId, arn);
      return 'updated';
    }).immediate();
  }
}
