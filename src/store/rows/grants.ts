/** Row -> record mapping of the grants table, shared by the SQLite and PostgreSQL backends (same columns, same encodings). */
import type { GrantRecord } from '../records.js';
import type { Row } from './values.js';

export function grantFromRow(row: Row): GrantRecord {
  return {
    grantId: row.grant_id,
    keyId: row.key_id,
    keyArn: row.key_arn,
    name: row.name ?? undefined,
    granteePrincipal: row.grantee_principal,
    retiringPrincipal: row.retiring_principal ?? undefined,
    issuingAccount: row.issuing_account,
    operations: JSON.parse(row.operations) as string[],
    constraints: row.constraints === null ? undefined : JSON.parse(row.constraints),
    fingerprint: row.fingerprint,
    creationDate: new Date(row.creation_date),
  };
}
