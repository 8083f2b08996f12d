import { AUDIT_ANCHOR_KEY_INFO, deriveAuditAnchorKey, Keyring } from '../crypto/index.js';
import type { MetaRepository } from '../store/index.js';

/**
 * The audit anchor keys of root keys a rekey retired. The anchor key is derived from the root key
 * (crypto/root-key.ts), so a rekey changes it, and the anchors already written (in the anchor file, in logs) were
 * signed with the old one. To keep them verifiable, the rekey keeps each retired anchor key in this meta row,
 * sealed under the current root key (and sealed again under the next one at the next rekey); `coffer audit verify`
 * accepts an anchor signed with the current anchor key or any retired one.
 *
 * What this does not give: a holder of a retired root key can still derive its anchor key, and so forge an anchor
 * that verify accepts. It opens nothing sealed (that is what the rekey promises); anchors stay as strong as the
 * oldest root key ever used was kept secret.
 */
export const AUDIT_ANCHOR_KEYS_RETIRED = 'audit_anchor_keys_retired';
const OWNER = 'coffer:audit-anchor-keys-retired';

/** Adds the previous root key's anchor key to the row and seals the row under the current key (idempotent). */
export async function retirePreviousAnchorKey(store: Pick<MetaRepository, 'getMeta' | 'putMetaIfAbsent' | 'replaceMeta'>, keyring: Keyring): Promise<void> {
  const retiring = keyring.derivePreviousKey(AUDIT_ANCHOR_KEY_INFO);
  if (!retiring) return;
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      const stored = await store.getMeta(AUDIT_ANCHOR_KEYS_RETIRED);
      const keys = stored ? openList(keyring, stored) : [];
      if (!keys.some((key) => key.equals(retiring))) keys.push(Buffer.from(retiring));
      const sealed = keyring.seal(Buffer.from(JSON.stringify(keys.map((key) => key.toString('base64')))), OWNER);
      for (const key of keys) key.fill(0);
      const written = stored ? await store.replaceMeta(AUDIT_ANCHOR_KEYS_RETIRED, stored, sealed) : (await store.putMetaIfAbsent(AUDIT_ANCHOR_KEYS_RETIRED, sealed)).equals(sealed);
      if (written) return;
    }
    throw new Error('the retired audit anchor keys kept changing under this node');
  } finally {
    retiring.fill(0);
  }
}

/** Every anchor key an anchor may be signed with: the current root key's, then the retired ones. */
export async function anchorKeysOf(store: Pick<MetaRepository, 'getMeta'>, rootKey: Buffer): Promise<Buffer[]> {
  const current = deriveAuditAnchorKey(rootKey);
  const stored = await store.getMeta(AUDIT_ANCHOR_KEYS_RETIRED);
  if (!stored) return [current];
  const keyring = new Keyring(rootKey);
  try {
    return [current, ...openList(keyring, stored)];
  } finally {
    keyring.close();
  }
}

function openList(keyring: Keyring, sealed: Buffer): Buffer[] {
  const opened = keyring.openUncached(sealed, OWNER);
  if (!opened) throw new Error('the retired audit anchor keys do not open under the root key');
  try {
    return (JSON.parse(opened.toString('utf8')) as string[]).map((key) => Buffer.from(key, 'base64'));
  } finally {
    opened.fill(0);
  }
}
