import { backingKeyCursor, type RootSealedKind, type RootSealedRecord, type RootSealedRepository } from '../repositories/root-sealed.js';
import type { RunInTransaction } from './postgres-tables.js';

/** The records sealed under the root key (RootSealedRepository) in PostgreSQL: kms_backing_keys and access_keys. */
export class PostgresRootSealedTables implements RootSealedRepository {
  readonly #transaction: RunInTransaction;

  constructor(transaction: RunInTransaction) {
    this.#transaction = transaction;
  }

  async listRootSealed(kind: RootSealedKind, after: string | undefined, limit: number): Promise<RootSealedRecord[]> {
    return this.#transaction(async (sql) => {
      if (kind === 'access-key') {
        const rows = await sql.rows('SELECT access_key_id, sealed_secret FROM access_keys WHERE access_key_id > $1 ORDER BY access_key_id LIMIT $2', [after ?? '', limit]);
        return rows.map((row) => ({ kind, accessKeyId: row.access_key_id as string, sealed: row.sealed_secret as Buffer }));
      }
      const [keyId, backingKeyId] = after === undefined ? ['', ''] : backingKeyCursor(after);
      const rows = await sql.rows(
        `SELECT b.key_id, b.backing_key_id, b.sealed_material, k.arn FROM kms_backing_keys b JOIN kms_keys k ON k.key_id = b.key_id
         WHERE (b.key_id, b.backing_key_id) > ($1, $2) ORDER BY b.key_id, b.backing_key_id LIMIT $3`,
        [keyId, backingKeyId, limit],
      );
      return rows.map((row) => ({
        kind,
        keyId: row.key_id as string,
        backingKeyId: row.backing_key_id as string,
        keyArn: row.arn as string,
        sealed: row.sealed_material as Buffer,
      }));
    });
  }

  async replaceRootSealed(record: RootSealedRecord, replacement: Buffer): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const changed =
        record.kind === 'access-key'
          ? await sql.run('UPDATE access_keys SET sealed_secret = $1 WHERE access_key_id = $2 AND sealed_secret = $3', [replacement, record.accessKeyId, record.sealed])
          : await sql.run('UPDATE kms_backing_keys SET sealed_material = $1 WHERE key_id = $2 AND backing_key_id = $3 AND sealed_material = $4', [
              replacement, record.keyId, record.backingKeyId, record.sealed,
            ]);
      return changed === 1;
    });
  }
}
