import { Keyring, makeRootKeyCheck, rootKeyMatches, RootKeyError } from '../crypto/index.js';
import type { MetaRepository } from '../store/index.js';

/** The meta row holding a check value of the root key (never the key): a start with another key is refused. */
export const ROOT_KEY_CHECK = 'root_key_check';
/**
 * The meta row of a rekey under way: its presence is the "rekey in progress" state every node polls for. It holds
 * both check values, the new key sealed under the old one (so every node running on the old key learns the new
 * one from the database, and a start with the old key can finish the job) and the old key sealed under the new
 * one (so a start with the new key can still open what is not yet re-wrapped). It is deleted when the rekey ends.
 */
export const ROOT_KEY_REKEY = 'root_key_rekey';
const NEW_KEY_OWNER = 'coffer:rekey:new-root-key';
const OLD_KEY_OWNER = 'coffer:rekey:old-root-key';

/** What the new root key is kept as once the rekey is done: the same form as before, or shares. */
export type RekeyTarget = { kind: 'same' } | { kind: 'shares'; shares: number; threshold: number };

export type RekeyRecord = {
  oldCheck: Buffer;
  newCheck: Buffer;
  newUnderOld: Buffer;
  oldUnderNew: Buffer;
  target: RekeyTarget;
  startedAt: string;
};

export function makeRekeyRecord(oldKey: Buffer, newKey: Buffer, target: RekeyTarget, now: Date): Buffer {
  const underOld = new Keyring(oldKey);
  const underNew = new Keyring(newKey);
  try {
    const record = {
      version: 1,
      oldCheck: makeRootKeyCheck(oldKey).toString('base64'),
      newCheck: makeRootKeyCheck(newKey).toString('base64'),
      newUnderOld: underOld.seal(newKey, NEW_KEY_OWNER).toString('base64'),
      oldUnderNew: underNew.seal(oldKey, OLD_KEY_OWNER).toString('base64'),
      target,
      startedAt: now.toISOString(),
    };
    return Buffer.from(JSON.stringify(record));
  } finally {
    underOld.close();
    underNew.close();
  }
}

export function parseRekeyRecord(value: Buffer): RekeyRecord {
  const parsed = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
  if (parsed.version !== 1) throw new RootKeyError('the database records a rekey in a format this version of Coffer does not know');
  const bytes = (name: string) => Buffer.from(String(parsed[name]), 'base64');
  return {
    oldCheck: bytes('oldCheck'),
    newCheck: bytes('newCheck'),
    newUnderOld: bytes('newUnderOld'),
    oldUnderNew: bytes('oldUnderNew'),
    target: parsed.target as RekeyTarget,
    startedAt: String(parsed.startedAt),
  };
}

/** The new root key of a rekey, opened with the old one (a keyring whose current or previous key is the old key). */
export function newKeyOf(record: RekeyRecord, keyring: Keyring): Buffer | undefined {
  return keyring.openUncached(record.newUnderOld, NEW_KEY_OWNER);
}

/** Both root keys of a rekey in progress, from whichever of the two `key` is; undefined when it is neither. */
export function rekeyPair(record: RekeyRecord, key: Buffer): { oldKey: Buffer; newKey: Buffer } | undefined {
  const keyring = new Keyring(key);
  try {
    if (rootKeyMatches(key, record.oldCheck)) {
      const newKey = keyring.openUncached(record.newUnderOld, NEW_KEY_OWNER);
      return newKey && { oldKey: Buffer.from(key), newKey };
    }
    if (rootKeyMatches(key, record.newCheck)) {
      const oldKey = keyring.openUncached(record.oldUnderNew, OLD_KEY_OWNER);
      return oldKey && { oldKey, newKey: Buffer.from(key) };
    }
    return undefined;
  } finally {
    keyring.close();
  }
}

/** The keys a start runs with: the current one, and during a rekey the previous one too. */
export type SettledRootKeys = { current: Buffer; previous?: Buffer };

/**
 * Settles the key a start loaded against the database: no check value yet (a new deployment) → that key; a rekey
 * in progress → both keys, whichever of the two was loaded, so the start finishes the job; otherwise the key must
 * match the check value. A wrong key changes nothing. The caller owns (and zeroes) the returned buffers.
 */
export async function settleRootKeys(store: Pick<MetaRepository, 'getMeta'>, loaded: Buffer, where: string): Promise<SettledRootKeys> {
  const check = await store.getMeta(ROOT_KEY_CHECK);
  if (!check) return { current: Buffer.from(loaded) };
  const rekeyRow = await store.getMeta(ROOT_KEY_REKEY);
  if (rekeyRow) {
    const pair = rekeyPair(parseRekeyRecord(rekeyRow), loaded);
    if (pair && (rootKeyMatches(pair.oldKey, check) || rootKeyMatches(pair.newKey, check))) return { current: pair.newKey, previous: pair.oldKey };
    pair?.oldKey.fill(0);
    pair?.newKey.fill(0);
    throw new RootKeyError(`the root key is neither the old nor the new key of the rekey in progress in ${where}; start with one of them`);
  }
  if (!rootKeyMatches(loaded, check)) {
    throw new RootKeyError(
      `the root key does not match the data in ${where}. If \`coffer rekey\` replaced the root key, this node holds the old one, ` +
        'which opens nothing any more: start it with the new root key (the key file of the node that ran the rekey, or the new shares)',
    );
  }
  return { current: Buffer.from(loaded) };
}

export function zeroSettledKeys(keys: SettledRootKeys): void {
  keys.current.fill(0);
  keys.previous?.fill(0);
}
