import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  BLOB_FORMAT_VERSION,
  BLOB_OVERHEAD_BYTES,
  blobAad,
  canonicalEncryptionContext,
  decodeBlob,
  encodeBlob,
  encodeBlobHeader,
  MULTI_REGION_BLOB_FORMAT_VERSION,
  open,
  seal,
} from '../../../src/crypto/index.js';

describe('ciphertext blob format', () => {
  it('puts the format version, key id and backing key id first, in that order', () => {
    const keyId = randomUUID();
    const backingKeyId = randomUUID();
    const header = encodeBlobHeader(keyId, backingKeyId);
    assert.equal(header.length, 33);
    assert.equal(header[0], BLOB_FORMAT_VERSION);
    assert.equal(header.subarray(1, 17).toString('hex'), keyId.replaceAll('-', ''));
    assert.equal(header.subarray(17, 33).toString('hex'), backingKeyId.replaceAll('-', ''));
  });

  it('decodes what it encodes', () => {
    const keyId = randomUUID();
    const backingKeyId = randomUUID();
    const sealed = { iv: randomBytes(12), tag: randomBytes(16), ciphertext: randomBytes(40) };
    const blob = encodeBlob(encodeBlobHeader(keyId, backingKeyId), sealed);
    assert.equal(blob.length, BLOB_OVERHEAD_BYTES + 40);
    const decoded = decodeBlob(blob)!;
    assert.equal(decoded.keyId, keyId);
    assert.equal(decoded.backingKeyId, backingKeyId);
    assert.deepEqual(decoded.iv, sealed.iv);
    assert.deepEqual(decoded.tag, sealed.tag);
    assert.deepEqual(decoded.ciphertext, sealed.ciphertext);
  });

  it('rejects short blobs and unknown format versions', () => {
    assert.equal(decodeBlob(Buffer.alloc(BLOB_OVERHEAD_BYTES - 1, 1)), undefined);
    const blob = encodeBlob(encodeBlobHeader(randomUUID(), randomUUID()), { iv: randomBytes(12), tag: randomBytes(16), ciphertext: Buffer.alloc(0) });
    blob[0] = 3;
    assert.equal(decodeBlob(blob), undefined);
  });

  it('marks a multi-Region key id with format version 2 and decodes it as mrk-…', () => {
    const keyId = `mrk-${randomBytes(16).toString('hex')}`;
    const backingKeyId = randomUUID();
    const header = encodeBlobHeader(keyId, backingKeyId);
    assert.equal(header.length, 33);
    assert.equal(header[0], MULTI_REGION_BLOB_FORMAT_VERSION);
    assert.equal(header.subarray(1, 17).toString('hex'), keyId.slice(4));
    const decoded = decodeBlob(encodeBlob(header, { iv: randomBytes(12), tag: randomBytes(16), ciphertext: randomBytes(5) }))!;
    assert.equal(decoded.keyId, keyId);
    assert.equal(decoded.backingKeyId, backingKeyId);
    assert.throws(() => encodeBlobHeader('mrk-1234', backingKeyId));
  });

  it('decodes the ids of blobs that share a header alike, and tells the format versions apart over the same id bytes', () => {
    const keyId = randomUUID();
    const backingKeyId = randomUUID();
    const header = encodeBlobHeader(keyId, backingKeyId);
    for (let index = 0; index < 3; index++) {
      const decoded = decodeBlob(encodeBlob(header, { iv: randomBytes(12), tag: randomBytes(16), ciphertext: randomBytes(index) }))!;
      assert.deepEqual([decoded.keyId, decoded.backingKeyId], [keyId, backingKeyId]);
    }
    // The same 32 id bytes under format version 2 name the multi-Region key, never the UUID decoded just before.
    const multiRegion = Buffer.from(header);
    multiRegion[0] = MULTI_REGION_BLOB_FORMAT_VERSION;
    const decoded = decodeBlob(encodeBlob(multiRegion, { iv: randomBytes(12), tag: randomBytes(16), ciphertext: randomBytes(1) }))!;
    assert.equal(decoded.keyId, `mrk-${keyId.replaceAll('-', '')}`);
    assert.equal(decoded.backingKeyId, backingKeyId);
  });

  it('decodes the right ids past the number of headers it remembers', () => {
    for (let index = 0; index < 2100; index++) {
      const keyId = randomUUID();
      const backingKeyId = randomUUID();
      const decoded = decodeBlob(encodeBlob(encodeBlobHeader(keyId, backingKeyId), { iv: randomBytes(12), tag: randomBytes(16), ciphertext: Buffer.alloc(0) }))!;
      assert.deepEqual([decoded.keyId, decoded.backingKeyId], [keyId, backingKeyId]);
    }
  });

  it('still decodes a version 1 blob written before multi-Region keys (fixed bytes)', () => {
    // A blob as format 1 wrote it: version 1, key id 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0, backing key id
    // 00112233-4455-6677-8899-aabbccddeeff, then IV, tag and 3 bytes of ciphertext.
    const blob = Buffer.from(
      '01' + '0f1e2d3c4b5a69788796a5b4c3d2e1f0' + '00112233445566778899aabbccddeeff' + '0'.repeat(24) + '1'.repeat(32) + 'abcdef',
      'hex',
    );
    const decoded = decodeBlob(blob)!;
    assert.equal(decoded.keyId, '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
    assert.equal(decoded.backingKeyId, '00112233-4455-6677-8899-aabbccddeeff');
    assert.deepEqual(decoded.header, blob.subarray(0, 33));
    assert.equal(decoded.ciphertext.toString('hex'), 'abcdef');
  });
});

describe('blobAad', () => {
  it('is the header followed by the canonical context; the header alone without a context', () => {
    const header = encodeBlobHeader(randomUUID(), randomUUID());
    const contexts: Array<Record<string, string>> = [{ purpose: 'coffer-bench' }, { b: '2', a: 'é"1' }, { SecretARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:a-AbCdEf', SecretVersionId: randomUUID() }];
    for (const context of contexts) {
      assert.deepEqual(blobAad(header, context), Buffer.concat([header, canonicalEncryptionContext(context)]));
    }
    assert.deepEqual(blobAad(header, undefined), header);
    assert.deepEqual(blobAad(header, {}), header);
  });
});

describe('AES-256-GCM with the header and context as AAD', () => {
  const key = randomBytes(32);
  const header = encodeBlobHeader(randomUUID(), randomUUID());
  const aad = (context?: Record<string, string>) => Buffer.concat([header, canonicalEncryptionContext(context)]);

  it('opens with the same key and AAD', () => {
    const sealed = seal(key, Buffer.from('payload'), aad({ purpose: 'test' }));
    assert.equal(open(key, sealed, aad({ purpose: 'test' }))?.toString(), 'payload');
  });

  it('uses a fresh IV for every message', () => {
    const first = seal(key, Buffer.from('same'), aad());
    const second = seal(key, Buffer.from('same'), aad());
    assert.notDeepEqual(first.iv, second.iv);
    assert.notDeepEqual(first.ciphertext, second.ciphertext);
  });

  it('fails with another context, another header, another key or a flipped byte', () => {
    const sealed = seal(key, Buffer.from('payload'), aad({ a: '1' }));
    assert.equal(open(key, sealed, aad({ a: '2' })), undefined);
    assert.equal(open(key, sealed, aad()), undefined);
    assert.equal(open(key, sealed, Buffer.concat([encodeBlobHeader(randomUUID(), randomUUID()), canonicalEncryptionContext({ a: '1' })])), undefined);
    assert.equal(open(randomBytes(32), sealed, aad({ a: '1' })), undefined);
    const tampered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext) };
    tampered.ciphertext[0]! ^= 1;
    assert.equal(open(key, tampered, aad({ a: '1' })), undefined);
  });
});

describe('canonical encryption context', () => {
  it('ignores the order of pairs', () => {
    assert.deepEqual(canonicalEncryptionContext({ b: '2', a: '1' }), canonicalEncryptionContext({ a: '1', b: '2' }));
  });

  it('treats an absent and an empty context alike', () => {
    assert.deepEqual(canonicalEncryptionContext(undefined), canonicalEncryptionContext({}));
  });

  it('cannot be made to collide by moving separators between keys and values', () => {
    assert.notDeepEqual(canonicalEncryptionContext({ 'a=b': 'c' }), canonicalEncryptionContext({ a: 'b=c' }));
    assert.notDeepEqual(canonicalEncryptionContext({ a: 'b', c: 'd' }), canonicalEncryptionContext({ a: 'b,c:d' }));
  });
});
