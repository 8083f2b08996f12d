import type { Statement } from 'better-sqlite3';
import { backingKeyCursor, type RootSealedKind, type RootSealedRecord, type RootSealedRepository } from '../repositories/root-sealed.js';

type Row = Record<string, unknown>;

/** The records sealed under the root key (RootSealedRepository) in SQLite: kms_backing_keys and access_keys. */
export class SqliteRootSealedTables {
  readonly #prepare: (sql: string) => Statement;

  constructor(prepare: (sql: string) => Statement) {
    this.#prepare = prepare;
  }

  listRootSealed(kind: RootSealedKind, after: string | undefined, limit: number): RootSealedRecord[] {
    if (kind === 'access-key') {
      const rows = this.#prepare('SELECT access_key_id, sealed_secret FROM access_keys WHERE access_key_id > ? ORDER BY access_key_id LIMIT ?').all(after ?? '', limit) as Row[];
      return rows.map((row) => ({ kind, accessKeyId: row.access_key_id as string, sealed: row.sealed_secret as Buffer }));
    }
    const [keyId, backingKeyId] = after === undefined ? ['', ''] : backingKeyCursor(after);
    const rows = this.#prepare(
      `SELECT b.key_id, b.backing_key_id, b.sealed_material, k.arn FROM kms_backing_keys b JOIN kms_keys k ON k.key_id = b.key_id
       WHERE (b.key_id, b.backing_key_id) > (?, ?) ORDER BY b.key_id, b.backing_key_id LIMIT ?`,
    ).all(keyId, backingKeyId, limit) as Row[];
    return rows.map((row) => ({
      kind,
      keyId: row.key_id as string,
      backingKeyId: row.backing_key_id as string,
      keyArn: row.arn as string,
      sealed: row.sealed_material as Buffer,
    }));
  }

  replaceRootSealed(record: RootSealedRecord, replacement: Buffer): boolean {
    const result =
      record.kind === 'access-key'
        ? this.#prepare('UPDATE access_keys SET sealed_secret = ? WHERE access_key_id = ? AND sealed_secret = ?').run(replacement, record.accessKeyId, record.sealed)
        : this.#prepare('UPDATE kms_backing_keys SET sealed_material = ? WHERE key_id = ? AND backing_key_id = ? AND sealed_material = ?').run(
            replacement, record.keyId, record.backingKeyId, record.sealed,
          );
    return result.changes === 1;
  }
}
