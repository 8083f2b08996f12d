import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsBlob, isBase64 } from '../../../src/core/shapes.js';

/** The pattern blobs were checked with before isBase64: the new check must accept exactly the same strings. */
const GROUPED_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

describe('isBase64 (blob members on the wire)', () => {
  it('accepts what Buffer encodes, of every length and padding', () => {
    for (let length = 0; length < 70; length++) {
      const text = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + length) & 0xff)).toString('base64');
      assert.equal(isBase64(text), true, text);
    }
  });

  it('refuses bad lengths, misplaced or excess padding, other characters and whitespace', () => {
    for (const text of ['A', 'AB', 'ABC', 'A===', '====', 'AB=C', 'A=BC', 'ABCD=', 'ABCD==AB', 'AB-_', 'AB\nC', ' ABC', 'ABC ', 'QUJD\r\n', 'ABC=ABCD', 'AB==AB==']) {
      assert.equal(isBase64(text), false, JSON.stringify(text));
    }
  });

  it('decides every short string over the alphabet, padding and a stray character exactly as the grouped pattern does', () => {
    const alphabet = ['A', 'z', '9', '+', '/', '=', '-'];
    let strings = [''];
    for (let length = 1; length <= 6; length++) {
      strings = strings.flatMap((prefix) => alphabet.map((character) => prefix + character));
      for (const text of strings) assert.equal(isBase64(text), GROUPED_PATTERN.test(text), JSON.stringify(text));
    }
  });

  it('decides ciphertext-sized strings with one character changed exactly as the grouped pattern does (the fast path never widens or narrows it)', () => {
    const strange = ['-', '_', ' ', '\n', '=', '.', 'é', '\u0000', 'A', '/', '+'];
    for (const bytes of [93, 94, 95, 1085]) {
      const canonical = Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 131 + bytes) & 0xff)).toString('base64');
      const padding = canonical.length - canonical.replace(/=+$/, '').length;
      const positions = [0, 1, canonical.length >> 1, canonical.length - padding - 1, canonical.length - 1];
      for (const position of positions) {
        for (const character of strange) {
          const text = canonical.slice(0, position) + character + canonical.slice(position + 1);
          assert.equal(isBase64(text), GROUPED_PATTERN.test(text), `${bytes} bytes, ${JSON.stringify(character)} at ${position}`);
        }
      }
      // Non-zero bits under the padding: not what node encodes, yet the pattern (and AWS) accept it.
      if (padding > 0) {
        const lastData = canonical.length - padding - 1;
        const loose = canonical.slice(0, lastData) + 'z' + canonical.slice(lastData + 1);
        assert.equal(isBase64(loose), true, loose.slice(-4));
      }
    }
  });

  it('is what awsBlob checks: a bad blob is a ValidationException-shaped failure, a good one decodes', () => {
    const blob = awsBlob();
    assert.equal(blob.safeParse('AB=C').success, false);
    const parsed = blob.safeParse('QUJD');
    assert.equal(parsed.success, true);
    assert.deepEqual(parsed.data, Buffer.from('ABC'));
  });
});
