/**
 * The CiphertextBlob of the API's Decrypt and ReEncrypt: decoded into a buffer of its own (never a slice of Node's
 * shared Buffer pool), validated as every blob member is, and released (its ArrayBuffer detached) once the call
 * has ended, whether it answered or threw; a Buffer that shares its ArrayBuffer is never touched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { awsBlob, type RequestContext } from '../../../src/core/index.js';
import { apiCiphertextBlob, releasingCiphertextBlob } from '../../../src/kms/api-ciphertext.js';

const ctx = {} as RequestContext;

describe('apiCiphertextBlob', () => {
  it('decodes into a Buffer that is its whole ArrayBuffer, with the same bytes', () => {
    const bytes = randomBytes(1085);
    const decoded = apiCiphertextBlob().parse(bytes.toString('base64'));
    assert.deepEqual(decoded, bytes);
    assert.equal(decoded.byteOffset, 0);
    assert.equal(decoded.buffer.byteLength, bytes.length);
  });

  it('refuses what every blob member refuses, with the same issues', () => {
    for (const input of ['not base64!', '', 'A'.repeat(8196), 42]) {
      const ours = apiCiphertextBlob().safeParse(input);
      const blob = awsBlob({ min: 1, max: 6144 }).safeParse(input);
      assert.equal(ours.success, false, String(input));
      assert.deepEqual(ours.error?.issues.map((issue) => issue.message), blob.error?.issues.map((issue) => issue.message));
    }
  });
});

describe('releasingCiphertextBlob', () => {
  it('runs the operation on the intact blob, then frees its bytes', async () => {
    const blob = apiCiphertextBlob().parse(randomBytes(64).toString('base64'));
    const copy = Buffer.from(blob);
    let seen: Buffer | undefined;
    const answer = await releasingCiphertextBlob(async (_ctx, input: { CiphertextBlob: Buffer }) => {
      seen = Buffer.from(input.CiphertextBlob);
      return 'answer';
    })(ctx, { CiphertextBlob: blob });
    assert.equal(answer, 'answer');
    assert.deepEqual(seen, copy);
    assert.equal(blob.length, 0);
    assert.equal((blob.buffer as ArrayBuffer & { detached: boolean }).detached, true);
  });

  it('frees them when the operation throws too, and the error is the operation\'s', async () => {
    const blob = apiCiphertextBlob().parse(randomBytes(64).toString('base64'));
    const failing = releasingCiphertextBlob(async () => {
      throw new Error('refused');
    });
    await assert.rejects(failing(ctx, { CiphertextBlob: blob }), /refused/);
    assert.equal(blob.length, 0);
  });

  it('leaves a Buffer that shares its ArrayBuffer (a pool slice, a store row) as it is', async () => {
    const slice = Buffer.from('a pool slice');
    const neighbour = Buffer.from('its neighbour');
    const run = releasingCiphertextBlob(async (_ctx, input: { CiphertextBlob: Buffer }) => input.CiphertextBlob.length);
    assert.equal(await run(ctx, { CiphertextBlob: slice }), 12);
    assert.equal(slice.toString(), 'a pool slice');
    assert.equal(neighbour.toString(), 'its neighbour');
  });
});
