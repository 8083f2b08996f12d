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
