import type { Statement } from 'better-sqlite3';
import type { GrantRecord, Page } from '../records.js';
import { grantFromRow } from '../rows/grants.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/** KMS grants in SQLite (table kms_grants, migration 7). Rows cascade away with their key. */
export class SqliteGrantTables {
  readonly #stmt: Prepare;

  constructor(prepare: Prepare) {
    this.#stmt = prepare;
  }

  /** Insert-or-get: the partial unique index on (key_id, name, fingerprint) makes a named retry find its grant. */
  createGrant(grant: GrantRecord): GrantRecord {
    const inserted = this.#stmt(
      `INSERT INTO kms_grants (grant_id, key_id, key_arn, name, grantee_principal, retiring_principal, issuing_account,
         operations, constraints, fingerprint, creation_date)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      grant.grantId,
      grant.keyId,
      grant.keyArn,
      grant.name ?? null,
      grant.granteePrincipal,
      grant.retiringPrincipal ?? null,
      grant.issuingAccount,
      JSON.stringify(grant.operations),
      grant.constraints ? JSON.stringify(grant.constraints) : null,
      grant.fingerprint,
      grant.creationDate.getTime(),
    );
    if (inserted.changes === 1 || grant.name === undefined) return grant;
    const existing = this.#stmt('SELECT * FROM kms_grants WHERE key_id = ? AND name = ? AND fingerprint = ?').get(
      grant.keyId,
      grant.name,
      grant.fingerprint,
    ) as Row | undefined;
    // A conflict on the primary key alone (a grant id collision) would leave nothing to return: surface it.
    if (!existing) throw new Error('grant id collision');
    return grantFromRow(existing);
  }

  getGrant(keyId: string, grantId: string): GrantRecord | undefined {
    const row = this.#stmt('SELECT * FROM kms_grants WHERE key_id = ? AND grant_id = ?').get(keyId, grantId) as Row | undefined;
    return row && grantFromRow(row);
  }

  listGrants(keyId: string, page: { limit: number; marker?: string; grantId?: string; granteePrincipal?: string }): Page<GrantRecord> {
    const rows = this.#stmt(
      `SELECT * FROM kms_grants WHERE key_id = ? AND grant_id > ?
         AND (? IS NULL OR grant_id = ?) AND (? IS NULL OR grantee_principal = ?)
       ORDER BY grant_id LIMIT ?`,
    ).all(
      keyId,
      page.marker ?? '',
      page.grantId ?? null,
      page.grantId ?? null,
      page.granteePrincipal ?? null,
      page.granteePrincipal ?? null,
      page.limit + 1,
    ) as Row[];
    return toPage(rows.map(grantFromRow), page.limit);
  }

  listRetirableGrants(retiringPrincipal: string, page: { limit: number; marker?: string }): Page<GrantRecord> {
    const rows = this.#stmt(
      'SELECT * FROM kms_grants WHERE retiring_principal = ? AND grant_id > ? ORDER BY grant_id LIMIT ?',
    ).all(retiringPrincipal, page.marker ?? '', page.limit + 1) as Row[];
    return toPage(rows.map(grantFromRow), page.limit);
  }

  listGrantsForGrantee(keyId: string, granteePrincipals: readonly string[]): GrantRecord[] {
    if (granteePrincipals.length === 0) return [];
    const placeholders = granteePrincipals.map(() => '?').join(', ');
    const rows = this.#stmt(`SELECT * FROM kms_grants WHERE key_id = ? AND grantee_principal IN (${placeholders})`).all(
      keyId,
      ...granteePrincipals,
    ) as Row[];
    return rows.map(grantFromRow);
  }

  deleteGrant(keyId: string, grantId: string): boolean {
    return this.#stmt('DELETE FROM kms_grants WHERE key_id = ? AND grant_id = ?').run(keyId, grantId).changes === 1;
  }
}

/** Rows were fetched with limit + 1; the marker is the last grant id of the page. */
function toPage(items: GrantRecord[], limit: number): Page<GrantRecord> {
  if (items.length <= limit) return { items };
  const pageItems = items.slice(0, limit);
  return { items: pageItems, nextMarker: pageItems[pageItems.length - 1]!.grantId };
}
