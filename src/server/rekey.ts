import { accessKeySealOwner } from '../auth/index.js';
import type { Logger } from '../core/index.js';
import { backingKeyOwner } from '../kms/index.js';
import type { Keyring } from '../crypto/index.js';
import { rootSealedCursor, type MetaRepository, type RootSealedKind, type RootSealedRecord, type RootSealedRepository } from '../store/index.js';
import { retirePreviousAnchorKey } from './retired-anchor-keys.js';
import { newKeyOf, parseRekeyRecord, ROOT_KEY_CHECK, ROOT_KEY_REKEY, type RekeyRecord, type RekeyTarget } from './rekey-record.js';

/**
 * The online half of `coffer rekey` (server/rekey-command.ts writes the rekey row): every node polls the meta row,
 * and when one appears it
 * 1. learns the new root key from the row (sealed under the old key it holds), keeps it in its own key file, and
 *    makes it the keyring's current key, keeping the old one to open what is not re-wrapped yet;
 * 2. after a grace period (so that every node polling has adopted the new key before records change), re-wraps
 *    every record sealed under the root key (compare-and-set per record, so nodes doing it together are harmless),
 *    then checks that every record opens under the new key;
 * 3. keeps the old key's audit anchor key (retired-anchor-keys.ts), switches the check value to the new key's and deletes the row (compare-and-set), and after a further delay
 *    (reads cached before the last re-wrap expire) zeroes the old key.
 * A crash anywhere leaves the row: the next start, with either key, settles both keys (rekey-record.ts) and goes on.
 */
export type RekeyDeps = {
  store: Pick<MetaRepository, 'getMeta' | 'putMetaIfAbsent' | 'replaceMeta'> & RootSealedRepository;
  keyring: Keyring;
  logger: Logger;
  /** Keeps the new root key where this node's key came from (root-key.ts keepRotatedRootKey). */
  keepNewKey(newKey: Buffer, target: RekeyTarget): void;
  pollMs: number;
  /** Wait between adopting the new key and re-wrapping: more than a poll period of every node. */
  graceMs: number;
  /** Wait between the end and zeroing the old key: longer than any read cache's age (PostgreSQL's 500 ms). */
  dropDelayMs: number;
};

export type RekeyRunner = { close(): void; /** One poll, now (tests). */ pollNow(): Promise<void> };

const PAGE = 200;
const KINDS: readonly RootSealedKind[] = ['backing-key', 'access-key'];

export function startRekeyRunner(deps: RekeyDeps): RekeyRunner {
  const { store, keyring, logger } = deps;
  let adoptedAt: number | undefined = keyring.holdsPreviousRootKey ? Date.now() : undefined;
  let keptFor: string | undefined;
  let dropTimer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  async function poll(): Promise<void> {
    const row = await store.getMeta(ROOT_KEY_REKEY);
    if (!row) return settleWithoutRow();
    const record = parseRekeyRecord(row);
    if (!keyring.currentKeyMatches(record.newCheck)) adopt(record);
    keep(record);
    if (adoptedAt !== undefined && Date.now() - adoptedAt >= deps.graceMs) await rewrapAndFinish(record, row);
  }

  function adopt(record: RekeyRecord): void {
    const newKey = newKeyOf(record, keyring);
    if (!newKey) {
      logger.error('a rekey is in progress, but its new root key does not open under this node\'s root key; this node keeps its key');
      return;
    }
    // A drop still pending from the previous rekey would zero the key this one needs to open what it has not re-wrapped.
    if (dropTimer) clearTimeout(dropTimer);
    dropTimer = undefined;
    try {
      keyring.adoptRootKey(newKey);
    } finally {
      newKey.fill(0);
    }
    adoptedAt = Date.now();
    logger.info('rekey: new root key adopted; re-wrapping starts after the grace period', { graceMs: deps.graceMs, startedAt: record.startedAt });
  }

  /** The new key goes to this node's key file once per rekey (and again on a start that resumes one). */
  function keep(record: RekeyRecord): void {
    const id = record.newCheck.toString('base64');
    if (keptFor === id || !keyring.currentKeyMatches(record.newCheck)) return;
    keptFor = id;
    const newKey = newKeyOf(record, keyring);
    if (!newKey) return;
    try {
      deps.keepNewKey(newKey, record.target);
    } catch (error) {
      logger.error('rekey: cannot write the new root key to this node\'s key file; it will not restart until given the new key', { error: errorText(error) });
    } finally {
      newKey.fill(0);
    }
  }

  async function rewrapAndFinish(record: RekeyRecord, row: Buffer): Promise<void> {
    let resealed = 0;
    let unreadable = 0;
    // Passes until one changes nothing: records written by a node that adopted late are caught by the next pass.
    for (let pass = 0; ; pass++) {
      const result = await rewrapPass();
      resealed += result.resealed;
      unreadable = result.unreadable;
      if (result.resealed === 0) break;
      if (pass > 20) return; // still changing: try again at the next poll
    }
    // Anchors signed with the old root key's anchor key stay verifiable (retired-anchor-keys.ts).
    await retirePreviousAnchorKey(store, keyring);
    const check = await store.getMeta(ROOT_KEY_CHECK);
    if (check && !keyring.currentKeyMatches(check)) await store.replaceMeta(ROOT_KEY_CHECK, check, record.newCheck);
    if (await store.replaceMeta(ROOT_KEY_REKEY, row, undefined)) {
      logger.info('rekey finished: every record sealed under the root key is re-wrapped under the new key', { resealed, unreadable });
    }
    if (unreadable > 0) logger.error('rekey: records that opened under neither root key were left as they are', { unreadable });
    scheduleDrop();
  }

  async function rewrapPass(): Promise<{ resealed: number; unreadable: number }> {
    let resealed = 0;
    let unreadable = 0;
    for (const kind of KINDS) {
      let after: string | undefined;
      for (;;) {
        const page = await store.listRootSealed(kind, after, PAGE);
        for (const record of page) {
          const outcome = keyring.reseal(record.sealed, ownerOf(record));
          if (outcome.state === 'unreadable') unreadable += 1;
          // A lost compare-and-set means another node (or a write) changed the record: the next pass looks again.
          if (outcome.state === 'resealed' && (await store.replaceRootSealed(record, outcome.sealed))) resealed += 1;
        }
        if (page.length < PAGE) break;
        after = rootSealedCursor(page[page.length - 1]!);
      }
    }
    return { resealed, unreadable };
  }

  /** No row: if this node still holds an old key, the rekey ended (here or on another node): drop it once the check value is the new key's. */
  async function settleWithoutRow(): Promise<void> {
    if (!keyring.holdsPreviousRootKey || dropTimer) return;
    const check = await store.getMeta(ROOT_KEY_CHECK);
    if (check && keyring.currentKeyMatches(check)) scheduleDrop();
  }

  function scheduleDrop(): void {
    if (dropTimer) return;
    dropTimer = setTimeout(() => {
      dropTimer = undefined;
      if (closed) return;
      keyring.dropPreviousRootKey();
      adoptedAt = undefined;
      logger.info('rekey: the old root key is zeroed in this node');
    }, deps.dropDelayMs);
    dropTimer.unref();
  }

  function pollOnce(): Promise<void> {
    running ??= poll()
      .catch((error) => logger.error('rekey poll failed; retrying', { error: errorText(error) }))
      .finally(() => (running = undefined));
    return running;
  }

  const timer = setInterval(() => void pollOnce(), deps.pollMs);
  timer.unref();
  void pollOnce();
  return {
    pollNow: pollOnce,
    close() {
      closed = true;
      clearInterval(timer);
      if (dropTimer) clearTimeout(dropTimer);
    },
  };
}

/** The AAD owner each kind is sealed for, as the module that seals it names it. */
function ownerOf(record: RootSealedRecord): string {
  return record.kind === 'backing-key' ? backingKeyOwner(record.keyArn, record.backingKeyId) : accessKeySealOwner(record.accessKeyId);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
