import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildEvent, canonicalEventJson, indexFields, verifyChain } from '../../../src/audit/index.js';
import { silentLogger } from '../../../src/core/index.js';
import { openAuditSpool, parseSpool, type AuditSpoolFile } from '../../../src/server/audit-spool.js';
import type { AuditEventDraft } from '../../../src/store/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';

/** A draft as the recorder makes it: index fields from the event, its canonical JSON as the body. */
function draft(requestId: string): AuditEventDraft {
  const event = buildEvent({ requestId, time: new Date(), service: 'secretsmanager', operation: 'GetSecretValue', input: { SecretId: 's' }, output: {} });
  return { ...indexFields(event), body: canonicalEventJson(event) };
}

describe('the audit spool (server/audit-spool.ts)', () => {
  let store: SqliteStore;
  let dir: string;
  const spools: AuditSpoolFile[] = [];
  const open = (isAlive?: (pid: number) => boolean) => {
    // A retry interval far beyond the test: only explicit replays append.
    const spool = openAuditSpool({ dir, store, logger: silentLogger, retryIntervalMs: 3_600_000, isAlive });
    spools.push(spool);
    return spool;
  };
  const chainRequestIds = async () => (await store.listAuditEvents(0, 1000)).map((record) => (JSON.parse(record.body) as { requestID: string }).requestID);

  beforeEach(async () => {
    store = new SqliteStore(':memory:');
    await store.migrate();
    dir = join(mkdtempSync(join(tmpdir(), 'coffer-spool-')), 'data.audit-spool');
  });
  afterEach(async () => {
    for (const spool of spools.splice(0)) await spool.close();
    store.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('keeps events in a 0600 file of a 0700 directory, and replays them into the chain exactly once', async () => {
    const spool = open();
    assert.equal(spool.holdsEvents(), false);
    await spool.keep([draft('r1'), draft('r2')]);
    await spool.keep([draft('r3')]);
    assert.equal(spool.holdsEvents(), true);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const [file] = readdirSync(dir);
    assert.equal(file, `${process.pid}.jsonl`);
    assert.equal(statSync(join(dir, file!)).mode & 0o777, 0o600);
    const spooled = readFileSync(join(dir, file!), 'utf8');

    assert.deepEqual(await spool.replay(), { appended: 3, files: 1 });
    assert.equal(spool.holdsEvents(), false);
    assert.deepEqual(readdirSync(dir), []);
    assert.deepEqual(await chainRequestIds(), ['r1', 'r2', 'r3']);
    assert.deepEqual(await spool.replay(), { appended: 0, files: 0 });

    // A crash after the chain's commit and before the file's removal: the file is back; nothing is appended twice.
    writeFileSync(join(dir, `${process.pid}.jsonl`), spooled, { mode: 0o600 });
    await spool.keep([draft('r4')]);
    assert.deepEqual(await spool.replay(), { appended: 1, files: 1 });
    assert.deepEqual(await chainRequestIds(), ['r1', 'r2', 'r3', 'r4']);
    const verified = await verifyChain((after, limit) => store.listAuditEvents(after, limit), 100);
    assert.equal(verified.intact, true);
  });

  it('ignores a torn last line (a write cut off by a crash) and replays the whole lines', async () => {
    const spool = open();
    await spool.keep([draft('r1')]);
    const file = join(dir, `${process.pid}.jsonl`);
    const whole = `${JSON.stringify(draft('r2'))}\n`;
    appendFileSync(file, whole.slice(0, whole.length / 2));
    assert.deepEqual(parseSpool(readFileSync(file, 'utf8')).skipped, 1);
    assert.deepEqual(await spool.replay(), { appended: 1, files: 1 });
    assert.deepEqual(await chainRequestIds(), ['r1']);
  });

  it("adopts a dead process's file at replay, and leaves a live process's file alone", async () => {
    const deadPid = 999_999_901;
    const livePid = 999_999_902;
    await open().keep([draft('mine')]);
    writeFileSync(join(dir, `${deadPid}.jsonl`), `${JSON.stringify(draft('dead'))}\n`, { mode: 0o600 });
    writeFileSync(join(dir, `${livePid}.jsonl`), `${JSON.stringify(draft('live'))}\n`, { mode: 0o600 });
    const spool = open((pid) => pid === livePid);
    assert.deepEqual(await spool.replay(), { appended: 2, files: 2 });
    assert.deepEqual((await chainRequestIds()).sort(), ['dead', 'mine']);
    assert.deepEqual(readdirSync(dir), [`${livePid}.jsonl`]);
  });

  it('keeps its events when the chain cannot take them, and appends them on a later replay', async () => {
    const spool = open();
    await spool.keep([draft('r1')]);
    store.close();
    await assert.rejects(spool.replay());
    assert.equal(spool.holdsEvents(), true);
    assert.deepEqual(readdirSync(dir), [`${process.pid}.jsonl`]);
    store = new SqliteStore(':memory:');
    await store.migrate();
    const again = openAuditSpool({ dir, store, logger: silentLogger, retryIntervalMs: 3_600_000 });
    spools.push(again);
    assert.deepEqual(await again.replay(), { appended: 1, files: 1 });
    assert.deepEqual(await chainRequestIds(), ['r1']);
  });
});
