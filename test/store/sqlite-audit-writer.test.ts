import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteStore, type AuditEventDraft, type AuditSealer } from '../../src/store/index.js';

/**
 * The SQLite audit log appends through a writer thread with its own connection (store/sqlite/audit-writer.ts).
 * Two stores on one file stand for two processes: their appends interleave and must still form one chain.
 * (That an audit commit never lands inside a main-connection transaction between its read and its write is
 * covered by test/integration/secrets/concurrency.test.ts: 50 concurrent PutSecretValue calls.)
 */
const seal = (body: string): AuditSealer => (last) => {
  const prevHash = last?.hash ?? '0'.repeat(64);
  return { prevHash, hash: createHash('sha256').update(prevHash + body).digest('hex') };
};

function draft(writer: string): AuditEventDraft {
  const eventId = randomUUID();
  return {
    eventId, accountId: '111111111111', eventTime: new Date(1_700_000_000_000), eventName: 'GetSecretValue', eventSource: 'secretsmanager.amazonaws.com',
    readOnly: true, accessKeyId: 'AKIA1', username: writer, resourceNames: [], body: JSON.stringify({ eventID: eventId, writer }),
  };
}

describe('SQLite audit writer thread', () => {
  it('keeps one chain when two connections append at the same time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-writer-'));
    const first = new SqliteStore(join(dir, 'coffer.db'));
    first.migrate();
    const second = new SqliteStore(join(dir, 'coffer.db'));
    try {
      const batches = Array.from({ length: 30 }, (_, index) => {
        const store = index % 2 === 0 ? first : second;
        const events = Array.from({ length: 1 + (index % 4) }, () => draft(store === first ? 'first' : 'second'));
        return store.appendAuditEvents(events.map((event) => ({ draft: event, seal: seal(event.body) })));
      });
      const appended = (await Promise.all(batches)).flat();
      const stored = await first.listAuditEvents(0, 1000);
      assert.equal(stored.length, appended.length);
      stored.forEach((record, index) => {
        assert.equal(record.sequence, index + 1);
        assert.equal(record.prevHash, index === 0 ? '0'.repeat(64) : stored[index - 1]!.hash);
        assert.equal(record.hash, seal(record.body)(index === 0 ? undefined : stored[index - 1]).hash);
      });
      assert.deepEqual(new Set(stored.map((record) => record.username)), new Set(['first', 'second']));
      // What each append answered is what was stored at its place.
      for (const record of appended) assert.equal(stored[record.sequence - 1]!.eventId, record.eventId);
    } finally {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
