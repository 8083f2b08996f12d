import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEvent, canonicalEventJson, canonicalJson, chainHash, GENESIS_HASH, indexFields, verifyChain } from '../../../src/audit/index.js';
import type { AuditEventRecord } from '../../../src/store/index.js';

/** A chain of `count` events built the way the store appends them. */
function chain(count: number): AuditEventRecord[] {
  const records: AuditEventRecord[] = [];
  for (let index = 1; index <= count; index++) {
    const body = canonicalJson({ eventID: `e${index}`, eventName: 'GetSecretValue', eventSource: 'secretsmanager.amazonaws.com', eventTime: new Date(index * 1000).toISOString(), readOnly: true, recipientAccountId: '1', userIdentity: { accessKeyId: 'AK', userName: 'root' }, resources: [] });
    const last = records.at(-1);
    const prevHash = last?.hash ?? GENESIS_HASH;
    records.push({ ...indexFields(JSON.parse(body) as Record<string, unknown>), body, sequence: index, prevHash, hash: chainHash(prevHash, body) });
  }
  return records;
}

const listOf = (records: AuditEventRecord[]) => async (afterSequence: number, limit: number) =>
  records.filter((record) => record.sequence > afterSequence).sort((a, b) => a.sequence - b.sequence).slice(0, limit);

describe('audit hash chain', () => {
  it('canonical JSON sorts keys at every level and leaves out undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: undefined, c: [{ z: 1, y: 2 }] } }), '{"a":{"c":[{"y":2,"z":1}]},"b":1}');
  });

  it("writes the recorder's events exactly as canonicalJson does", () => {
    const time = new Date(1_700_000_000_123);
    const principal = { accountId: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', accessKeyId: 'AKIDALICE' };
    const calls = [
      { requestId: 'r1', time, service: 'secretsmanager', operation: 'GetSecretValue', principal, region: 'eu-west-1', sourceIp: '10.0.0.1', userAgent: 'ua',
        input: { SecretId: 'db', VersionStage: 'AWSCURRENT' }, output: { Name: 'db', ARN: 'arn:x', CreatedDate: time, VersionStages: ['AWSCURRENT'], Nested: { z: 1, a: [{ y: 2, b: 1 }] } } },
      { requestId: 'r2', time, service: 'kms', operation: 'Decrypt', claimedAccessKeyId: 'AKIDX', error: { code: 'InvalidSignatureException', message: 'no' } },
      { requestId: 'r3', time, service: 'secretsmanager', operation: 'PutSecretValue', principal, invokedBy: 'secretsmanager.amazonaws.com', input: { SecretId: 'db', SecretString: 'hidden' }, output: {} },
      { requestId: 'r4', time, input: undefined, output: undefined },
    ];
    for (const call of calls) {
      const event = buildEvent(call, `event-${call.requestId}`);
      assert.equal(canonicalEventJson(event), canonicalJson(event));
      assert.deepEqual(indexFields(event), indexFields(JSON.parse(canonicalJson(event)) as Record<string, unknown>));
    }
  });

  it('hashes SHA-256 over prevHash and the body; the first event follows the genesis hash', () => {
    const [first] = chain(1);
    assert.equal(first!.prevHash, GENESIS_HASH);
    assert.equal(first!.hash, chainHash(GENESIS_HASH, first!.body));
    assert.match(first!.hash, /^[0-9a-f]{64}$/);
  });

  it('verifies an intact chain across pages', async () => {
    const records = chain(7);
    const last = records[6]!;
    assert.deepEqual(await verifyChain(listOf(records), 3), { intact: true, events: 7, head: { sequence: 7, hash: last.hash, eventTime: last.eventTime } });
    assert.deepEqual(await verifyChain(listOf([]), 3), { intact: true, events: 0, head: undefined });
  });

  it('names a changed event', async () => {
    const records = chain(5);
    records[2] = { ...records[2]!, body: records[2]!.body.replace('GetSecretValue', 'GetSecretValuf') };
    const result = await verifyChain(listOf(records));
    assert.equal(result.intact, false);
    assert.equal(!result.intact && result.brokenSequence, 3);
  });

  it('names the place of a deleted event, also when the successors were renumbered', async () => {
    const records = chain(5);
    const gap = records.filter((record) => record.sequence !== 2);
    const gapResult = await verifyChain(listOf(gap));
    assert.equal(!gapResult.intact && gapResult.brokenSequence, 2);
    const renumbered = gap.map((record) => (record.sequence > 2 ? { ...record, sequence: record.sequence - 1 } : record));
    const renumberedResult = await verifyChain(listOf(renumbered));
    assert.equal(!renumberedResult.intact && renumberedResult.brokenSequence, 2);
  });

  it('names a reordered event', async () => {
    const records = chain(5);
    const swapped = records.map((record) =>
      record.sequence === 3 ? { ...records[3]!, sequence: 3 } : record.sequence === 4 ? { ...records[2]!, sequence: 4 } : record,
    );
    const result = await verifyChain(listOf(swapped));
    assert.equal(!result.intact && result.brokenSequence, 3);
  });

  it('names an event whose lookup columns disagree with its body', async () => {
    const records = chain(3);
    records[1] = { ...records[1]!, eventName: 'DeleteSecret' };
    const result = await verifyChain(listOf(records));
    assert.equal(!result.intact && result.brokenSequence, 2);
  });
});
