import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AuditEventDraft } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { openAuditDatabase, sealedAppender, sealsOf, type AuditDraftRow } from '../../src/store/sqlite/audit-writer.js';

/**
 * The SQLite audit log lives in audit.db beside coffer.db and is appended by a writer thread that seals each
 * batch against the head it reads under the write lock (store/sqlite/audit-writer.ts). Two stores on one
 * data dir stand for two writers: their appends interleave and must still form one chain.
 */
const sealed = (prevHash: string, body: string) => createHash('sha256').update(prevHash + body).digest('hex');

function draft(writer: string): AuditEventDraft {
  const eventId = randomUUID();
  return {
    eventId, accountId: '111111111111', eventTime: new Date(1_700_000_000_000), eventName: 'GetSecretValue', eventSource: 'secretsmanager.amazonaws.com',
    readOnly: true, accessKeyId: 'AKIA1', username: writer, resourceNames: [], body: JSON.stringify({ eventID: eventId, writer }),
  };
}

describe('SQLite audit writer (audit.db)', () => {
  it('keeps one chain when two writers append at the same time, in audit.db (0600), not coffer.db', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-writer-'));
    const first = new SqliteStore(join(dir, 'coffer.db'));
    first.migrate();
    const second = new SqliteStore(join(dir, 'coffer.db'));
    try {
      const batches = Array.from({ length: 30 }, (_, index) => {
        const store = index % 2 === 0 ? first : second;
        const events = Array.from({ length: 1 + (index % 4) }, () => draft(store === first ? 'first' : 'second'));
        return store.appendAuditEvents(events);
      });
      const appended = (await Promise.all(batches)).flat();
      const stored = await first.listAuditEvents(0, 1000);
      assert.equal(stored.length, appended.length);
      stored.forEach((record, index) => {
        assert.equal(record.sequence, index + 1);
        assert.equal(record.prevHash, index === 0 ? '0'.repeat(64) : stored[index - 1]!.hash);
        assert.equal(record.hash, sealed(record.prevHash, record.body));
      });
      assert.deepEqual(new Set(stored.map((record) => record.username)), new Set(['first', 'second']));
      // What each append answered is what was stored at its place.
      for (const record of appended) assert.deepEqual(stored[record.sequence - 1], record);
      assert.equal(statSync(join(dir, 'audit.db')).mode & 0o777, 0o600);
      const main = new Database(join(dir, 'coffer.db'), { readonly: true });
      assert.equal(main.prepare('SELECT count(*) FROM audit_events').pluck().get(), 0);
      main.close();
    } finally {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store that only reads starts no writer and creates audit.db 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-writer-'));
    const store = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      assert.deepEqual(await store.listAuditEvents(0, 10), []);
      assert.ok(existsSync(join(dir, 'audit.db')));
      assert.equal(statSync(join(dir, 'audit.db')).mode & 0o777, 0o600);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens audit.db durable (WAL, synchronous FULL) with a 2 MiB page cache, not the 16 MiB default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-writer-'));
    const db = openAuditDatabase(join(dir, 'audit.db'));
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
      assert.equal(db.pragma('cache_size', { simple: true }), -2000);
      const plain = new Database(':memory:');
      assert.equal(plain.pragma('cache_size', { simple: true }), -16000, "better-sqlite3's default, which audit.db does not keep");
      plain.close();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inserts a batch of any size in order with multi-row statements, and a batch with a refused row not at all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-writer-'));
    const db = openAuditDatabase(join(dir, 'audit.db'));
    try {
      const append = sealedAppender(db);
      const row = (index: number, eventId = randomUUID()): AuditDraftRow => [
        eventId, '111111111111', 1_700_000_000_000 + index, 'GetSecretValue', 'secretsmanager.amazonaws.com', 1, 'AKIA1', 'app',
        JSON.stringify([`app/${index}`]), JSON.stringify({ eventID: eventId, index }),
      ];
      // 63 takes every chunk size once (32 + 16 + 8 + 4 + 2 + 1); 64 and 70 take two of 32, then the rest.
      let next = 0;
      for (const size of [1, 2, 3, 31, 32, 33, 63, 64, 70]) {
        const seals = sealsOf(append(Array.from({ length: size }, () => row(next++))), size);
        assert.deepEqual(seals.map((seal) => seal.sequence), Array.from({ length: size }, (_, index) => next - size + index + 1));
      }
      const store = new SqliteStore(join(dir, 'coffer.db'));
      try {
        store.migrate();
        const stored = await store.listAuditEvents(0, 1000);
        assert.equal(stored.length, next);
        stored.forEach((record, index) => {
          assert.equal(record.sequence, index + 1);
          assert.equal(record.eventTime.getTime(), 1_700_000_000_000 + index);
          assert.deepEqual(record.resourceNames, [`app/${index}`]);
          assert.equal(record.prevHash, index === 0 ? '0'.repeat(64) : stored[index - 1]!.hash);
          assert.equal(record.hash, sealed(record.prevHash, record.body));
        });
      } finally {
        store.close();
      }
      // The same event id twice (the 41st row, inside a chunk of 8): the whole batch is refused, nothing of it kept.
      const duplicate = randomUUID();
      const refused = Array.from({ length: 50 }, (_, index) => row(next + index, index === 10 || index === 40 ? duplicate : undefined));
      assert.throws(() => append(refused), /UNIQUE/);
      assert.equal(db.prepare('SELECT count(*) FROM audit_events').pluck().get(), next);
      assert.equal(append([row(next)]).firstSequence, next + 1);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the writer thread's isolate the young generation of its own limits, whatever semi-space flags the server runs with", () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-writer-'));
    try {
      // A process with bin/coffer's flags: a thread started before the writer has the flags' young generation, the writer not.
      const script = `
        import { once } from 'node:events';
        import { Worker } from 'node:worker_threads';
        import { AuditWriterThread } from ${JSON.stringify(new URL('../../src/store/sqlite/audit-writer.js', import.meta.url).href)};
        const other = new Worker('setTimeout(() => {}, 60000)', { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
        await once(other, 'online');
        const otherLimit = (await other.getHeapStatistics()).heap_size_limit;
        const writer = new AuditWriterThread(${JSON.stringify(join(dir, 'audit.db'))});
        await writer.probe();
        const writerLimit = (await writer.heapStatistics()).heap_size_limit;
        writer.close();
        await other.terminate();
        console.log(JSON.stringify({ otherLimit, writerLimit }));`;
      // A file, not --input-type=module -e: the threads inherit the process's options, and --input-type refuses them.
      writeFileSync(join(dir, 'limits.mjs'), script);
      const child = spawnSync(process.execPath, ['--max-semi-space-size=32', '--min-semi-space-size=16', join(dir, 'limits.mjs')], { encoding: 'utf8' });
      assert.equal(child.status, 0, child.stderr);
      const { otherLimit, writerLimit } = JSON.parse(child.stdout) as { otherLimit: number; writerLimit: number };
      // Three 32 MB semi-spaces' worth against the 8 MB young generation the writer asks for.
      assert.ok(otherLimit - writerLimit >= 64 * 1024 * 1024, `writer ${writerLimit}, other thread ${otherLimit}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
