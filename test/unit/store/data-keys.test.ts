import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeDataKeys, encodeDataKeys } from '../../../src/store/rows/secrets.js';

describe('data keys read from rows', () => {
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
});
