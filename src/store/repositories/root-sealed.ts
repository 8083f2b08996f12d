/**
 * The records sealed under the root key, seen together for a rekey (server/rekey.ts): KMS backing key material
 * and the secrets of access keys. Everything else that is encrypted (secret values, function variables) is sealed
 * under KMS data keys, which are themselves in backing keys, so re-wrapping these two tables re-wraps everything.
 * The invariants of every repository are Store's (../store.ts).
 */
export type RootSealedRecord =
  | { kind: 'backing-key'; keyId: string; backingKeyId: string; keyArn: string; sealed: Buffer }
  | { kind: 'access-key'; accessKeyId: string; sealed: Buffer };

export type RootSealedKind = RootSealedRecord['kind'];

export interface RootSealedRepository {
  /**
   * Up to `limit` records of one kind after `after` (rootSealedCursor of the last record of the previous page),
   * in a stable order, so a pass over all of them can stop anywhere and go on from there.
   */
  listRootSealed(kind: RootSealedKind, after: string | undefined, limit: number): Promise<RootSealedRecord[]>;
  /** Replaces one record's sealed bytes if they are still `record.sealed`; false when they changed or the row is gone. */
  replaceRootSealed(record: RootSealedRecord, replacement: Buffer): Promise<boolean>;
}

/** A record's place in its kind's order, for listRootSealed's `after`. */
export function rootSealedCursor(record: RootSealedRecord): string {
  return record.kind === 'backing-key' ? `${record.keyId}\0${record.backingKeyId}` : record.accessKeyId;
}

/** The (key_id, backing_key_id) of a backing-key cursor. */
export function backingKeyCursor(after: string): [string, string] {
  const split = after.indexOf('\0');
  return [after.slice(0, split), after.slice(split + 1)];
}
