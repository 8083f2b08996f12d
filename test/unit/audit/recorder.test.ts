import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AuditUnavailableError, buildEvent, canonicalJson, createAuditRecorder, type ApiCall } from '../../../src/audit/index.js';
import { Sensitive } from '../../../src/core/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';

const principal = { accountId: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', accessKeyId: 'AKIDALICE' };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function getSecretValue(requestId: string, time = new Date()): ApiCall {
  return {
    requestId, time, service: 'secretsmanager', operation: 'GetSecretValue', principal, region: 'eu-west-1', sourceIp: '10.0.0.1', userAgent: 'ua',
    input: { SecretId: 'db' },
    output: { ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf', Name: 'db', SecretString: new Sensitive('never-in-the-log'), CreatedDate: time },
  };
}

/** A trigger that makes audit.db refuse every insert, as a full or read-only disk would. */
function refuseAppends(dir: string, refuse: boolean): void {
  const db = new Database(join(dir, 'audit.db'));
  try {
    db.exec(refuse ? "CREATE TRIGGER refuse BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'refused'); END;" : 'DROP TRIGGER refuse');
  } finally {
    db.close();
  }
}

describe('the audit recorder (group commit on the SQLite store and its writer thread)', () => {
  let dir: string;
  let store: SqliteStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-recorder-'));
    store = new SqliteStore(join(dir, 'coffer.db'));
    store.migrate();
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers each call of a batch with its own record, its body the canonical JSON of its event', async () => {
    const recorder = createAuditRecorder({ store, logger: quiet, failClosed: true });
    const calls = Array.from({ length: 64 }, (_, index) => getSecretValue(`request-${index}`, new Date(1_800_000_000_000 + (index % 3))));
    const records = await Promise.all(calls.map((call) => recorder.record(call)));
    const sequences = records.map((record) => record!.sequence);
    assert.deepEqual(sequences, sequences.map((_, index) => sequences[0]! + index));
    records.forEach((record, index) => {
      const event = JSON.parse(record!.body) as { requestID: string; eventID: string; eventTime: string };
      assert.equal(event.requestID, calls[index]!.requestId);
      assert.equal(event.eventTime, calls[index]!.time.toISOString());
      assert.equal(record!.eventId, event.eventID);
      assert.equal(record!.eventTime.getTime(), calls[index]!.time.getTime());
      assert.equal(record!.body, canonicalJson(buildEvent(calls[index]!, event.eventID)));
      assert.ok(!record!.body.includes('never-in-the-log'));
    });
  });

  it('fail-closed: refuses every call of a batch the store refused, and records the next batch', async () => {
    const recorder = createAuditRecorder({ store, logger: quiet, failClosed: true });
    refuseAppends(dir, true);
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, index) => recorder.record(getSecretValue(`refused-${index}`))));
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.ok(outcome.status === 'rejected' && outcome.reason instanceof AuditUnavailableError);
      }
    } finally {
      refuseAppends(dir, false);
    }
    const record = await recorder.record(getSecretValue('after-repair'));
    assert.equal((JSON.parse(record!.body) as { requestID: string }).requestID, 'after-repair');
  });

  it('fail-open without a spool: answers undefined for each call of a refused batch', async () => {
    const recorder = createAuditRecorder({ store, logger: quiet, failClosed: false });
    refuseAppends(dir, true);
    try {
      const records = await Promise.all(Array.from({ length: 8 }, (_, index) => recorder.record(getSecretValue(`open-${index}`))));
      assert.deepEqual(records, Array.from({ length: 8 }, () => undefined));
    } finally {
      refuseAppends(dir, false);
    }
  });
});

describe('the audit recorder: which events go in one append', () => {
  /** A store that seals at once and remembers the size of every batch it was handed. */
  function countingStore(appendMs = 0) {
    const batches: number[] = [];
    let sequence = 0;
    return {
      batches,
      async appendAuditEvents(drafts: Array<{ body: string }>) {
        batches.push(drafts.length);
        if (appendMs > 0) await new Promise((resolve) => setTimeout(resolve, appendMs));
        return drafts.map((draft) => ({ ...draft, sequence: ++sequence, prevHash: '', hash: '' }));
      },
      async probeAuditAppend() {},
      async lookupAuditEvents() {
        return [];
      },
    };
  }
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('keeps gathering while every turn of the event loop brings events, and appends at the first turn that brings none', async () => {
    const store = countingStore();
    const recorder = createAuditRecorder({ store: store as never, logger: quiet, failClosed: false });
    const pending = [recorder.record(getSecretValue('wave-0'))];
    // Callers coming back one turn after another (a wave answered by the last append): one batch, not one each.
    for (let index = 1; index < 5; index += 1) {
      await turn();
      pending.push(recorder.record(getSecretValue(`wave-${index}`)));
    }
    await Promise.all(pending);
    assert.deepEqual(store.batches, [5]);
  });

  it("does not gather the event of a call that changed something: its batch is appended at the end of the event's turn", async () => {
    const store = countingStore();
    const recorder = createAuditRecorder({ store: store as never, logger: quiet, failClosed: false });
    const put = (requestId: string): ApiCall => ({ ...getSecretValue(requestId), operation: 'PutSecretValue', input: { SecretId: 'db', SecretString: new Sensitive('x') } });
    const pending = [recorder.record(getSecretValue('read-0')), recorder.record(put('write-0'))];
    await turn();
    pending.push(recorder.record(put('write-1')));
    await Promise.all(pending);
    assert.deepEqual(store.batches, [2, 1]);
  });

  it('appends a lone event after one idle turn, with no timer', async () => {
    const store = countingStore();
    const recorder = createAuditRecorder({ store: store as never, logger: quiet, failClosed: false });
    const started = performance.now();
    const record = await recorder.record(getSecretValue('alone'));
    assert.equal(record!.sequence, 1);
    assert.deepEqual(store.batches, [1]);
    assert.ok(performance.now() - started < 1_000);
  });

  it('appends what arrived during an append as the next batch, gathered the same way', async () => {
    const store = countingStore(20);
    const recorder = createAuditRecorder({ store: store as never, logger: quiet, failClosed: false });
    const first = recorder.record(getSecretValue('first'));
    await turn();
    await turn();
    await turn();
    // The first batch is with the store now (for 20 ms); these two wait for it, then go together.
    assert.deepEqual(store.batches, [1]);
    const later = [recorder.record(getSecretValue('later-0'))];
    await turn();
    later.push(recorder.record(getSecretValue('later-1')));
    await Promise.all([first, ...later]);
    assert.deepEqual(store.batches, [1, 2]);
  });
});
