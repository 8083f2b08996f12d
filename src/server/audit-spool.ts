import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { appendMissingAuditEvents, type AuditSpool, type MissingAppender } from '../audit/index.js';
import { fsyncDirectory, type Logger } from '../core/index.js';
import type { AuditEventDraft } from '../store/index.js';

/**
 * The audit spool (docs/ARCHITECTURE.md, "Audit"): with fail-open auditing, the events of a batch the audit log
 * did not take are written here, durably, before their calls are answered, and appended to the chain later —
 * by a background retry once the store answers again, and at the next start before serving.
 *
 * On disk: a directory beside the data dir (0700) with one file per process (`<pid>.jsonl`, 0600), one JSON
 * line per event draft (its canonical body and index fields: no secret values, redaction ran before), each
 * batch appended with one write and one fsync. Per process, because several processes of one data dir (cluster
 * workers) may spool at once and each must empty only what it owns; a dead process's file is adopted by an
 * atomic rename to `<pid>.<old name>` (only one adopter can win the rename). A file is removed only after its
 * events are in the chain; a crash between the two leaves it, and the replay then appends only the eventIDs the
 * chain does not hold. A torn last line (a crash mid-write: that batch was never acknowledged) is ignored.
 */

/** Where the spool lives unless configured: beside the data dir, like the anchor file (audit-log.ts). */
export function defaultAuditSpoolDir(dataDir: string): string {
  return `${dataDir.replace(/[/\\]+$/, '')}.audit-spool`;
}

export type AuditSpoolFile = AuditSpool & {
  /** Appends every spooled event (this process's and dead processes') the chain lacks, then removes their files. */
  replay(): Promise<{ appended: number; files: number }>;
  /** Stops the background retry after a last replay. Events still spooled stay on disk for the next start. */
  close(): Promise<void>;
};

export type AuditSpoolOptions = {
  dir: string;
  store: MissingAppender;
  logger: Logger;
  /** How often the background retry tries to append spooled events; default 1 s. */
  retryIntervalMs?: number;
  /** Whether process `pid` still runs (its file is not adopted while it does); for tests. */
  isAlive?: (pid: number) => boolean;
};

/** Events per append transaction when replaying. */
const REPLAY_BATCH = 200;

export function openAuditSpool(options: AuditSpoolOptions): AuditSpoolFile {
  const ownName = `${process.pid}.jsonl`;
  const isAlive = options.isAlive ?? processIsAlive;
  let handle: FileHandle | undefined;
  let held = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let retryFailing = false;
  /** keep() and replay() run one at a time: a replay removes only files nobody is appending to. */
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  async function ownFile(): Promise<FileHandle> {
    if (handle) return handle;
    // Made when first needed: a server whose audit log never failed leaves no directory behind.
    if (mkdirSync(options.dir, { recursive: true, mode: 0o700 }) !== undefined) fsyncDirectory(dirname(options.dir));
    handle = await open(join(options.dir, ownName), 'a', 0o600);
    // The file's name must survive a power loss too, not only its bytes.
    fsyncDirectory(options.dir);
    return handle;
  }

  function keep(drafts: AuditEventDraft[]): Promise<void> {
    return serialized(async () => {
      const file = await ownFile();
      const sizeBefore = (await file.stat()).size;
      try {
        await file.appendFile(drafts.map((draft) => `${JSON.stringify(draft)}\n`).join(''));
        await file.sync();
      } catch (error) {
        // A write cut short (disk full) must not leave a partial line for the next batch to be glued to.
        await file.truncate(sizeBefore).catch(() => undefined);
        throw error;
      }
      held += drafts.length;
      scheduleRetry();
    });
  }

  /** A failed replay (the store still failing) is tried again in the background. */
  async function replay(): Promise<{ appended: number; files: number }> {
    try {
      return await serialized(replayNow);
    } catch (error) {
      held = Math.max(held, 1);
      scheduleRetry();
      throw error;
    }
  }

  async function replayNow(): Promise<{ appended: number; files: number }> {
    let appended = 0;
    const names = await filesToReplay();
    for (const name of names) {
      if (name === ownName) await closeOwnFile();
      appended += await replayFile(name);
      await unlink(join(options.dir, name));
    }
    held = 0;
    return { appended, files: names.length };
  }

  /** This process's file and those it adopts from processes that no longer run. */
  async function filesToReplay(): Promise<string[]> {
    const names: string[] = [];
    for (const name of (await listDirectory(options.dir)).filter((entry) => entry.endsWith('.jsonl')).sort()) {
      const owner = Number(name.split('.')[0]);
      if (owner === process.pid) names.push(name);
      else if (!Number.isInteger(owner) || !isAlive(owner)) {
        const adopted = `${process.pid}.${name}`;
        try {
          await rename(join(options.dir, name), join(options.dir, adopted));
          names.push(adopted);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // another process adopted it first
        }
      }
    }
    return names;
  }

  async function replayFile(name: string): Promise<number> {
    const { drafts, skipped } = parseSpool(await readFile(join(options.dir, name), 'utf8'));
    if (skipped > 0) options.logger.warn('audit spool: lines that are not whole events ignored (a write cut off by a crash; its calls were not answered)', { file: name, lines: skipped });
    let appended = 0;
    for (let start = 0; start < drafts.length; start += REPLAY_BATCH) {
      const records = await appendMissingAuditEvents(options.store, drafts.slice(start, start + REPLAY_BATCH));
      appended += records.filter((record) => record !== undefined).length;
    }
    return appended;
  }

  async function closeOwnFile(): Promise<void> {
    await handle?.close();
    handle = undefined;
  }

  function scheduleRetry(): void {
    if (timer || closed) return;
    timer = setTimeout(retry, options.retryIntervalMs ?? 1_000);
    timer.unref();
  }

  async function retry(): Promise<void> {
    timer = undefined;
    try {
      const { appended } = await replay();
      retryFailing = false;
      options.logger.info('audit spool replayed into the audit log', { appended });
    } catch (error) {
      // Logged once per outage, not at every retry (replay() scheduled the next one).
      if (!retryFailing) options.logger.warn('audit spool: the audit log still cannot be written; retrying', { error: error instanceof Error ? error.message : String(error) });
      retryFailing = true;
    }
  }

  return {
    keep,
    replay,
    holdsEvents: () => held > 0,
    /** A clean stop tries once more to empty the spool; what the chain still cannot take waits for the next start. */
    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      if (held > 0) await replay().catch(() => undefined);
      await serialized(closeOwnFile);
    },
  };
}

/**
 * The drafts of a spool file. A line that is not a whole event — the last one cut off by a crash during its
 * write (that batch's calls were never answered) — is skipped and counted.
 */
export function parseSpool(text: string): { drafts: AuditEventDraft[]; skipped: number } {
  const drafts: AuditEventDraft[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const draft = parseDraft(line);
    if (draft) drafts.push(draft);
    else skipped++;
  }
  return { drafts, skipped };
}

function parseDraft(line: string): AuditEventDraft | undefined {
  try {
    const value = JSON.parse(line) as Omit<AuditEventDraft, 'eventTime'> & { eventTime: string };
    if (typeof value.eventId !== 'string' || typeof value.body !== 'string') return undefined;
    return { ...value, eventTime: new Date(value.eventTime) };
  } catch {
    return undefined;
  }
}

async function listDirectory(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
