import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUDIT_ARCHIVE_FILE_PATTERN,
  auditArchiveFileName,
  decodeAuditArchive,
  encodeAuditArchive,
  sha256Hex,
  utcDay,
  type ArchiveTip,
} from '../audit/index.js';
import { replaceFileDurably, type Logger } from '../core/index.js';
import type { AuditEventRecord, AuditRepository } from '../store/index.js';

/**
 * Audit retention (CloudTrail's event history keeps 90 days): once a UTC day has left the window of
 * `retentionDays`, its events are written to an archive file of their own (audit/archive.ts: gzip, the previous
 * file's SHA-256, the chain head) and then deleted from the database, which keeps the window for LookupEvents.
 * Run by the maintenance timer; does nothing until a whole day is past the window.
 *
 * Order makes it safe to stop anywhere: a file is written whole (temporary name, fsync, rename, fsync of the
 * directory) before any of its events is deleted, and a run starts from the newest file: events the database
 * still holds that a file already has (a run stopped between the two) are deleted first, never archived twice.
 * If the database starts after the newest file's end (files moved away, or another node's archive), nothing is
 * archived or deleted and the error is logged: the chain would get a hole.
 */
export type AuditRetention = {
  /** Archives and prunes what is past the window at `now`; returns the files written. */
  runDue(now: Date): Promise<string[]>;
};

export type AuditRetentionOptions = {
  store: Pick<AuditRepository, 'listAuditEvents' | 'pruneAuditEvents'>;
  retentionDays: number;
  archiveDir: string;
  logger: Logger;
};

const DAY_MS = 86_400_000;

/** Beside the data dir, not in it, like the anchors: a copy of the data dir does not carry them along. */
export function defaultAuditArchiveDir(dataDir: string): string {
  return `${dataDir.replace(/[/\\]+$/, '')}.audit-archive`;
}
const PAGE_ROWS = 1000;

export function createAuditRetention(options: AuditRetentionOptions): AuditRetention {
  const { store, archiveDir, logger } = options;
  return {
    async runDue(now) {
      // Whole UTC days: everything before the midnight that starts the oldest day still inside the window.
      const cutoff = Math.floor((now.getTime() - options.retentionDays * DAY_MS) / DAY_MS) * DAY_MS;
      const [oldest] = await store.listAuditEvents(0, 1);
      if (!oldest || oldest.eventTime.getTime() >= cutoff) return [];
      mkdirSync(archiveDir, { recursive: true, mode: 0o700 });
      let tip = newestArchive(archiveDir);
      if (tip && oldest.sequence <= tip.lastSequence) {
        // A run stopped after writing a file and before deleting its events: delete them now.
        await store.pruneAuditEvents(tip.lastSequence);
      } else if (oldest.sequence !== (tip?.lastSequence ?? 0) + 1) {
        logger.error('audit retention stopped', {
          reason: `the database starts at event ${oldest.sequence} but the archive in ${archiveDir} ends at event ${tip?.lastSequence ?? 0}; nothing archived or deleted`,
        });
        return [];
      }
      const written: string[] = [];
      let day: { name: string; records: AuditEventRecord[] } | undefined;
      const flush = () => {
        if (!day || day.records.length === 0) return;
        tip = writeArchive(archiveDir, day.name, day.records, tip);
        written.push(tip.file);
      };
      let after = tip?.lastSequence ?? 0;
      scan: for (;;) {
        const page = await store.listAuditEvents(after, PAGE_ROWS);
        for (const record of page) {
          if (record.eventTime.getTime() >= cutoff) break scan;
          const name = utcDay(record.eventTime);
          // A new file per UTC day; an event whose clock ran behind its predecessor's stays in its file.
          if (!day || name > day.name) {
            flush();
            day = { name, records: [] };
          }
          day.records.push(record);
          after = record.sequence;
        }
        if (page.length < PAGE_ROWS) break;
      }
      flush();
      if (tip) {
        const deleted = await store.pruneAuditEvents(tip.lastSequence);
        if (written.length > 0) logger.info('audit events archived', { files: written, deleted, throughSequence: tip.lastSequence });
      }
      return written;
    },
  };
}

/** The newest archive file of the directory (names sort in chain order), or undefined for none. */
export function newestArchive(archiveDir: string): ArchiveTip | undefined {
  const names = archiveFileNames(archiveDir);
  const file = names[names.length - 1];
  if (!file) return undefined;
  const bytes = readFileSync(join(archiveDir, file));
  const { trailer } = decodeAuditArchive(bytes, file);
  return { file, sha256: sha256Hex(bytes), lastSequence: trailer.lastSequence, chainHead: trailer.chainHead };
}

/** The archive files of a directory in chain order (other files are ignored). */
export function archiveFileNames(archiveDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(archiveDir);
  } catch {
    return [];
  }
  return names.filter((name) => AUDIT_ARCHIVE_FILE_PATTERN.test(name)).sort();
}

function writeArchive(archiveDir: string, day: string, records: AuditEventRecord[], previous: ArchiveTip | undefined): ArchiveTip {
  const bytes = encodeAuditArchive(day, records, previous);
  const file = auditArchiveFileName(day, records[0]!.sequence);
  replaceFileDurably(join(archiveDir, file), bytes, join(archiveDir, `.${file}.partial`));
  const last = records[records.length - 1]!;
  return { file, sha256: sha256Hex(bytes), lastSequence: last.sequence, chainHead: last.hash };
}
