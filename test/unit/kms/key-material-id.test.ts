/**
 * The KeyMaterialId of generated material: SHA-256 of its backing key id, the same on every call (remembered per
 * backing key id), different for another backing key; imported material keeps the id stored on the key.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyMaterialIdOf } from '../../../src/kms/key-material-id.js';
import type { KeyRecord } from '../../../src/store/index.js';

const symmetric = { keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS' } as KeyRecord;

function expected(backingKeyId: string): string {
  return createHash('sha256').update(`coffer key material id\0${backingKeyId}`).digest('hex');
}

describe('keyMaterialIdOf', () => {
  it('is the hash of the backing key id, alike on every call, and differs between backing keys', () => {
    const first = randomUUID();
    const second = randomUUID();
    for (let call = 0; call < 3; call++) {
      assert.equal(keyMaterialIdOf(symmetric, first), expected(first));
      assert.equal(keyMaterialIdOf(symmetric, second), expected(second));
    }
    assert.notEqual(keyMaterialIdOf(symmetric, first), keyMaterialIdOf(symmetric, second));
  });

  it('stays right past the bound of remembered ids', () => {
    const ids = Array.from({ length: 10_050 }, () => randomUUID());
    for (const id of ids) keyMaterialIdOf(symmetric, id);
    for (const id of [ids[0]!, ids[5_000]!, ids[10_049]!]) assert.equal(keyMaterialIdOf(symmetric, id), expected(id));
  });

  it('answers imported material with the key\'s own id, and nothing for other key specs or no material', () => {
    const imported = { keySpec: 'SYMMETRIC_DEFAULT', origin: 'EXTERNAL', keyMaterialId: 'f'.repeat(64) } as KeyRecord;
    assert.equal(keyMaterialIdOf(imported, randomUUID()), 'f'.repeat(64));
    assert.equal(keyMaterialIdOf({ keySpec: 'HMAC_256', origin: 'AWS_KMS' } as KeyRecord, randomUUID()), undefined);
    assert.equal(keyMaterialIdOf(symmetric, ''), undefined);
  });
});
