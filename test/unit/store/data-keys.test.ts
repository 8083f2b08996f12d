import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeDataKeys, encodeDataKeys, versionFromRow } from '../../../src/store/rows/secrets.js';

describe('data keys and sealed values read from rows', () => {
  it('decode to the bytes encoded, each in a Buffer of its own (not a slice of Node\'s shared pool, which a cached version would keep alive)', () => {
    const keys = [
      { kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/one', encryptedDataKey: randomBytes(90), defaultKey: true },
      { kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/two', encryptedDataKey: randomBytes(1), defaultKey: false },
    ];
    const decoded = decodeDataKeys(encodeDataKeys(keys));
    assert.deepEqual(decoded, keys);
    for (const key of decoded) {
      assert.equal(key.encryptedDataKey.byteOffset, 0);
      assert.equal(key.encryptedDataKey.buffer.byteLength, key.encryptedDataKey.length);
    }
    // What Buffer.from gives a short text, for contrast: a slice of the pool.
    assert.ok(Buffer.from(keys[0]!.encryptedDataKey.toString('base64'), 'base64').buffer.byteLength > 90);
  });

  it('copies a sealed value that is a slice of a larger buffer (a driver\'s pool), and keeps one that has its own memory', () => {
    const row = (sealed: Buffer) => ({ secret_arn: 'arn:a', version_id: 'v1', data_keys: '[]', sealed_value: sealed, value_type: 'string', created_date: 1, last_accessed_date: null });
    const pooled = Buffer.from(randomBytes(1052).toString('hex'), 'hex');
    assert.ok(pooled.buffer.byteLength > pooled.length);
    const copied = versionFromRow(row(pooled), []).sealedValue!;
    assert.deepEqual(copied, pooled);
    assert.equal(copied.buffer.byteLength, copied.length);
    const own = Buffer.allocUnsafeSlow(16).fill(7);
    assert.equal(versionFromRow(row(own), []).sealedValue, own);
  });
});
