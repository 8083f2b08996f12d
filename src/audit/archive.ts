import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { chainHash, GENESIS_HASH, type AuditEventRecord } from '../store/index.js';

/**
 * Audit archive files (audit retention, docs/ARCHITECTURE.md "Audit"): the events that left the database's
 * window, one gzip file per UTC day, each a piece of the one hash chain. Like CloudTrail's digest files, each
 * file names the previous one and its SHA-256, and carries the chain head (hash of its last event), so the
 * files and the database verify as one chain: `coffer audit verify --archive DIR`.
 *
 * A file is gzip of JSON lines:
 *   {"format":"coffer-audit-archive","version":1,"day","firstSequence","prevHash","previousFile","previousSha256"}
 *   {"sequence","prevHash","hash","body"}      one per event, in sequence order (body: the stored canonical JSON)
 *   {"end":true,"lastSequence","chainHead","events"}
 * Pure: the server's retention (server/audit-retention.ts) and `coffer audit` do the file I/O.
 */

export const AUDIT_ARCHIVE_FORMAT = 'coffer-audit-archive';

export type AuditArchiveHeader = {
  format: typeof AUDIT_ARCHIVE_FORMAT;
  version: 1;
  /** The UTC day (YYYY-MM-DD) of the file's events. */
  day: string;
  firstSequence: number;
  /** The hash of the event before the first (64 zeros for the chain's first). */
  prevHash: string;
  /** The file before this one in the chain, and the SHA-256 (hex) of its bytes; null for the first file. */
  previousFile: string | null;
  previousSha256: string | null;
};

export type ArchivedEvent = { sequence: number; prevHash: string; hash: string; body: string };
export type AuditArchiveTrailer = { end: true; lastSequence: number; chainHead: string; events: number };
export type AuditArchive = { header: AuditArchiveHeader; events: ArchivedEvent[]; trailer: AuditArchiveTrailer };

/** The last file of an archive as the next one needs it: its name, its bytes' SHA-256, where the chain stood. */
export type ArchiveTip = { file: string; sha256: string; lastSequence: number; chainHead: string };

export class AuditArchiveError extends Error {
  override name = 'AuditArchiveError';
}

/** `audit-YYYY-MM-DD-<first sequence, 12 digits>.jsonl.gz`: names sort in chain order. */
export function auditArchiveFileName(day: string, firstSequence: number): string {
  return `audit-${day}-${String(firstSequence).padStart(12, '0')}.jsonl.gz`;
}

export const AUDIT_ARCHIVE_FILE_PATTERN = /^audit-\d{4}-\d{2}-\d{2}-\d{12}\.jsonl\.gz$/;

export function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One day's events (a run of the chain, in order) as an archive file following `previous`. */
export function encodeAuditArchive(day: string, records: readonly AuditEventRecord[], previous: ArchiveTip | undefined): Buffer {
  const first = records[0];
  const last = records[records.length - 1];
  if (!first || !last) throw new Error('an archive file holds at least one event');
  const header: AuditArchiveHeader = {
    format: AUDIT_ARCHIVE_FORMAT,
    version: 1,
    day,
    firstSequence: first.sequence,
    prevHash: first.prevHash,
    previousFile: previous?.file ?? null,
    previousSha256: previous?.sha256 ?? null,
  };
  const lines = [JSON.stringify(header)];
  for (const record of records) lines.push(JSON.stringify({ sequence: record.sequence, prevHash: record.prevHash, hash: record.hash, body: record.body }));
  const trailer: AuditArchiveTrailer = { end: true, lastSequence: last.sequence, chainHead: last.hash, events: records.length };
  lines.push(JSON.stringify(trailer));
  return gzipSync(`${lines.join('\n')}\n`);
}

export function decodeAuditArchive(bytes: Buffer, name: string): AuditArchive {
  let lines: string[];
  try {
    lines = gunzipSync(bytes).toString('utf8').split('\n');
  } catch {
    throw new AuditArchiveError(`${name} is damaged or truncated (not a whole gzip file)`);
  }
  if (lines[lines.length - 1] === '') lines.pop();
  const parse = (line: string | undefined, what: string): any => {
    try {
      return JSON.parse(line ?? '');
    } catch {
      throw new AuditArchiveError(`${name}: its ${what} is not JSON`);
    }
  };
  const header = parse(lines[0], 'header') as AuditArchiveHeader;
  if (header?.format !== AUDIT_ARCHIVE_FORMAT || header.version !== 1) throw new AuditArchiveError(`${name} is not a Coffer audit archive file`);
  const trailer = parse(lines[lines.length - 1], 'last line') as AuditArchiveTrailer;
  if (lines.length < 3 || trailer?.end !== true) throw new AuditArchiveError(`${name} ends without its trailer (truncated)`);
  const events = lines.slice(1, -1).map((line, index) => parse(line, `event line ${index + 2}`) as ArchivedEvent);
  return { header, events, trailer };
}

/** Where the chain stands after a run of files: the next file or the database continues from here. */
export type ChainPoint = { sequence: number; hash: string };

export type ArchiveVerification =
  | { intact: true; files: number; events: number; end: ChainPoint; tip?: ArchiveTip }
  | { intact: false; files: number; events: number; reason: string };

/**
 * Checks archive files (named in chain order, as their names sort; `read` loads one) as one chain from the chain's first event:
 * each file names the previous file and its SHA-256, starts where the previous one ended, and every event's
 * hash is SHA-256(prevHash ‖ body) of the one before; its trailer names its last event and the chain head.
 * `onEvent` sees every archived event (for anchors that name them).
 */
export function verifyAuditArchives(names: readonly string[], read: (name: string) => Buffer, onEvent?: (event: ArchivedEvent) => void): ArchiveVerification {
  let at: ChainPoint = { sequence: 0, hash: GENESIS_HASH };
  let previous: ArchiveTip | undefined;
  let events = 0;
  for (const [index, name] of names.entries()) {
    // One file in memory at a time: a year of archives need not fit.
    const file = { name, bytes: read(name) };
    const broken = (reason: string): ArchiveVerification => ({ intact: false, files: index, events, reason: `${file.name}: ${reason}` });
    let archive: AuditArchive;
    try {
      archive = decodeAuditArchive(file.bytes, file.name);
    } catch (error) {
      return { intact: false, files: index, events, reason: (error as Error).message };
    }
    const { header, trailer } = archive;
    if ((header.previousFile ?? null) !== (previous?.file ?? null) || (header.previousSha256 ?? null) !== (previous?.sha256 ?? null)) {
      return broken(previous ? `does not follow ${previous.file} (it names ${header.previousFile ?? 'no file'} or another digest): a file was removed, replaced or changed` : `names a previous file (${header.previousFile}) that is not there: the oldest archive files are missing`);
    }
    if (header.firstSequence !== at.sequence + 1 || header.prevHash !== at.hash) return broken(`does not start where the chain stood (event ${at.sequence + 1})`);
    for (const event of archive.events) {
      if (event.sequence !== at.sequence + 1) return broken(`event ${at.sequence + 1} is missing (next is ${event.sequence})`);
      if (event.prevHash !== at.hash) return broken(`event ${event.sequence}: prevHash does not match the previous event`);
      if (typeof event.body !== 'string' || chainHash(event.prevHash, event.body) !== event.hash) return broken(`event ${event.sequence}: hash does not match the event (the event was changed)`);
      at = { sequence: event.sequence, hash: event.hash };
      events += 1;
      onEvent?.(event);
    }
    if (trailer.lastSequence !== at.sequence || trailer.chainHead !== at.hash || trailer.events !== archive.events.length) {
      return broken('its trailer does not match its events');
    }
    previous = { file: file.name, sha256: sha256Hex(file.bytes), lastSequence: at.sequence, chainHead: at.hash };
  }
  return { intact: true, files: names.length, events, end: at, tip: previous };
}
