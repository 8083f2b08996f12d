/**
 * Anchors of the audit hash chain: the chain head (sequence, hash) and the time it was anchored, signed with
 * HMAC-SHA-256 under a key derived from the root key, appended to a file outside the data dir.
 *
 * The chain alone shows a changed, removed or moved event, but not the newest events deleted (the shorter
 * chain is still a valid chain). An anchor records how far the chain reached: `coffer audit verify` then
 * finds every anchored event still there with the anchored hash, or names the truncation. The MAC means an
 * anchor cannot be made up (to match a truncated log) without the root key. It lives in the store because the
 * audit writer, which alone knows the head it has just written, writes the anchors.
 */
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { createHmac, timingSafeEqual } from 'node:crypto';

export type AuditChainHead = { sequence: number; hash: string };
export type AuditAnchor = AuditChainHead & { time: string; mac: string };

/** Where and how often the writer anchors the chain; `key` is the anchor key (never the root key itself). */
export type AuditAnchorOptions = { file: string; key: Uint8Array; intervalMs: number };

/** Where a store's audit appender anchors the chain (options) and what its owner hears of it. */
export type AuditAnchoring = {
  options: AuditAnchorOptions;
  /** Each anchor written (the server logs it: a second copy outside the data dir). */
  onAnchor: (anchor: AuditAnchor) => void;
  onError: (message: string) => void;
};

/** Domain separation of the MAC input: a MAC made for anything else never checks as an anchor. */
const MAC_LABEL = 'coffer audit anchor v1';

function anchorMac(key: Uint8Array, head: AuditChainHead, time: string): string {
  return createHmac('sha256', key).update(`${MAC_LABEL}\n${head.sequence}\n${head.hash}\n${time}`).digest('hex');
}

export function signAnchor(key: Uint8Array, head: AuditChainHead, time: Date): AuditAnchor {
  const at = time.toISOString();
  return { sequence: head.sequence, hash: head.hash, time: at, mac: anchorMac(key, head, at) };
}

export function anchorMacValid(key: Uint8Array, anchor: AuditAnchor): boolean {
  const expected = Buffer.from(anchorMac(key, anchor, anchor.time), 'hex');
  const given = Buffer.from(anchor.mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One anchor as a line of the anchor file: canonical member order, so `parseAnchorLine` reads it back. */
export function anchorLine(anchor: AuditAnchor): string {
  return JSON.stringify({ sequence: anchor.sequence, hash: anchor.hash, time: anchor.time, mac: anchor.mac });
}

/**
 * The anchor in a line of the anchor file, or of the server's log (`{"message":"audit anchor","auditAnchor":
 * {...}}`, or the cluster primary's `coffer: audit anchor {...}`); undefined for any other line.
 */
export function parseAnchorLine(line: string): AuditAnchor | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.slice(start));
  } catch {
    return undefined;
  }
  const candidate = (parsed as { auditAnchor?: unknown } | null)?.auditAnchor ?? parsed;
  return isAnchor(candidate) ? candidate : undefined;
}

function isAnchor(value: unknown): value is AuditAnchor {
  const anchor = value as Partial<AuditAnchor> | null;
  return (
    typeof anchor === 'object' && anchor !== null &&
    Number.isSafeInteger(anchor.sequence) && (anchor.sequence ?? 0) > 0 &&
    typeof anchor.hash === 'string' && /^[0-9a-f]{64}$/.test(anchor.hash) &&
    typeof anchor.time === 'string' && typeof anchor.mac === 'string' && /^[0-9a-f]{64}$/.test(anchor.mac)
  );
}

/**
 * Opens (creating it 0600) the anchor file for appending: O_APPEND, so every write goes to the end whatever
 * else has the file open. Throws when it cannot be written, which a server start reports.
 */
export function openAnchorFile(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
}

/** How much of the anchor file's end is read for its newest anchor (a line is ~200 bytes). */
const TAIL_BYTES = 16 * 1024;

/** The newest anchor with a valid MAC in the last TAIL_BYTES of the anchor file; undefined if there is none. */
export function newestValidAnchor(path: string, key: Uint8Array): AuditAnchor | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const tail = Buffer.alloc(length);
    readSync(fd, tail, 0, length, size - length);
    const lines = tail.toString('utf8').split('\n').reverse();
    for (const line of lines) {
      const anchor = parseAnchorLine(line);
      if (anchor && anchorMacValid(key, anchor)) return anchor;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The writer's side: told each head it writes, it anchors the newest one every `intervalMs` (when the head
 * moved since the last anchor) and once more on close. Each anchor is one write of one line, then fsync.
 */
export class AuditAnchorer {
  readonly #options: AuditAnchorOptions;
  readonly #fd: number;
  readonly #timer: NodeJS.Timeout;
  readonly #onAnchor: (anchor: AuditAnchor) => void;
  readonly #onError: (error: unknown) => void;
  #head: AuditChainHead | undefined;
  #anchored: AuditChainHead | undefined;

  constructor(options: AuditAnchorOptions, callbacks: { onAnchor: (anchor: AuditAnchor) => void; onError: (error: unknown) => void }) {
    this.#options = options;
    this.#onAnchor = callbacks.onAnchor;
    this.#onError = callbacks.onError;
    this.#fd = openAnchorFile(options.file);
    this.#timer = setInterval(() => this.anchor(), options.intervalMs);
    this.#timer.unref();
  }

  /**
   * At the writer's start: the newest anchor must name an event the log still holds with the same hash. If not,
   * events were deleted or rewritten while no writer ran; the writer says so (`coffer audit verify` names it
   * too) and goes on appending, since refusing to record would hide what happens next as well.
   */
  checkAgainst(storedHash: (sequence: number) => string | undefined): void {
    const anchor = newestValidAnchor(this.#options.file, this.#options.key);
    if (!anchor) return;
    const hash = storedHash(anchor.sequence);
    if (hash === anchor.hash) {
      this.#anchored = { sequence: anchor.sequence, hash: anchor.hash };
      return;
    }
    this.#onError(
      new Error(
        `the audit log ${hash === undefined ? 'no longer holds' : 'holds a different'} event ${anchor.sequence}, anchored at ${anchor.time}: ` +
          'events were deleted or rewritten since; run coffer audit verify',
      ),
    );
  }

  /** The head the writer has just committed. */
  headMoved(head: AuditChainHead): void {
    this.#head = head;
  }

  /** Anchors the newest head now, unless it is already anchored. */
  anchor(): void {
    const head = this.#head;
    if (!head || (this.#anchored && this.#anchored.sequence === head.sequence && this.#anchored.hash === head.hash)) return;
    try {
      const anchor = signAnchor(this.#options.key, head, new Date());
      writeSync(this.#fd, `${anchorLine(anchor)}\n`);
      fsyncSync(this.#fd);
      this.#anchored = head;
      this.#onAnchor(anchor);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Anchors the last head (a clean shutdown leaves nothing unanchored), closes the file and wipes the key. */
  close(): void {
    clearInterval(this.#timer);
    this.anchor();
    closeSync(this.#fd);
    this.#options.key.fill(0);
  }
}
