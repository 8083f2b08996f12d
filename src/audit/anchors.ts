import { anchorMacValid, parseAnchorLine, type AuditAnchor } from '../store/index.js';

/**
 * Checks the audit log against its anchors (store/audit-anchor.ts): every anchor must carry a valid MAC under
 * the anchor key, and the event at every anchored sequence must still be there with the anchored hash. With an
 * intact chain that proves no event up to the newest anchor was deleted, the newest ones included; events
 * written after the newest anchor are not covered.
 */
export type AnchorCheck =
  | { ok: true; anchors: number; latest?: AuditAnchor }
  | { ok: false; anchors: number; reason: string };

export async function checkAnchors(
  lines: string[],
  /** The anchor key, or several: the current one and those retired by root key rotations (server/retired-anchor-keys.ts). */
  key: Uint8Array | readonly Uint8Array[],
  /** The stored hash of the event at this sequence, undefined if there is none. */
  hashAt: (sequence: number) => Promise<string | undefined>,
  /** The sequence of the newest stored event (0 for an empty log). */
  headSequence: number,
  /**
   * Events up to here left the database for archive files (audit retention): an anchor of one of them whose
   * hash `hashAt` cannot give (no archive was read) is checked for its MAC only.
   */
  archivedThrough = 0,
): Promise<AnchorCheck> {
  const keys: readonly Uint8Array[] = key instanceof Uint8Array ? [key] : key;
  let anchors = 0;
  let latest: AuditAnchor | undefined;
  for (const [index, line] of lines.entries()) {
    // Lines that are no anchor (a server log holds many) are skipped; adding lines proves nothing anyway.
    const anchor = parseAnchorLine(line);
    if (!anchor) continue;
    anchors += 1;
    const where = `the anchor of ${anchor.time} (line ${index + 1}, event ${anchor.sequence})`;
    if (!keys.some((each) => anchorMacValid(each, anchor))) {
      return { ok: false, anchors, reason: `${where} has an invalid MAC: it was not written by this Coffer (forged, or signed with another root key)` };
    }
    const hash = await hashAt(anchor.sequence);
    if (hash === undefined && anchor.sequence <= archivedThrough) continue;
    if (hash === undefined) {
      return { ok: false, anchors, reason: `${where} names an event the log no longer holds: the log ends at event ${headSequence}, so events were deleted from its end` };
    }
    if (hash !== anchor.hash) {
      return { ok: false, anchors, reason: `${where} does not match the stored event ${anchor.sequence}: the log was rewritten or rolled back after the anchor` };
    }
    if (!latest || anchor.sequence >= latest.sequence) latest = anchor;
  }
  return { ok: true, anchors, latest };
}
