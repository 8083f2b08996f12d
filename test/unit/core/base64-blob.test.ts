import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsBlob, decodeBase64, isBase64 } from '../../../src/core/shapes.js';

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

  it('decides short strings with what Buffer.from would skip or misread (whitespace, base64url, NUL, non-ASCII) as the grouped pattern does', () => {
    // isBase64 decodes with Buffer.from, which is lenient: these are the characters it would take, skip or read by
    // their low byte ('\u0141' as 'A', '\u017a' as 'z'); one of them anywhere must refuse the string.
    const alphabet = ['A', '/', '=', '-', '_', ' ', '\n', '\0', '.', '\u00e9', '\u0141', '\u017a', '\ud83d'];
    let strings = [''];
    for (let length = 1; length <= 5; length++) {
      strings = strings.flatMap((prefix) => alphabet.map((character) => prefix + character));
      for (const text of strings) assert.equal(isBase64(text), GROUPED_PATTERN.test(text), JSON.stringify(text));
    }
    // One stray character inside a long valid string, at every position, as a ciphertext would carry it.
    const valid = Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 53) & 0xff)).toString('base64');
    for (const stray of ['-', '_', ' ', '\n', '=', '\u0141', '\u00e9', '*']) {
      for (let at = 0; at < valid.length; at++) {
        const text = valid.slice(0, at) + stray + valid.slice(at + 1);
        assert.equal(isBase64(text), GROUPED_PATTERN.test(text), JSON.stringify(text));
      }
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

  it('returns the bytes it decoded (decodeBase64), or undefined for what it refuses', () => {
    assert.deepEqual(decodeBase64('QUJD'), Buffer.from('ABC'));
    assert.deepEqual(decodeBase64('QQ=='), Buffer.from('A'));
    assert.deepEqual(decodeBase64(''), Buffer.alloc(0));
    for (const text of ['QU\u0141D', 'QUJ-', 'QQ', 'QQ=A']) assert.equal(decodeBase64(text), undefined, JSON.stringify(text));
  });

  it('decides every short string alike into a buffer of its own (ownBuffer), with the same bytes, never a pool slice', () => {
    const alphabet = ['A', 'z', '9', '+', '/', '=', '-', ' ', '\u0141'];
    let strings = [''];
    for (let length = 1; length <= 5; length++) {
      strings = strings.flatMap((prefix) => alphabet.map((character) => prefix + character));
      for (const text of strings) {
        const pooled = decodeBase64(text);
        const own = decodeBase64(text, true);
        assert.deepEqual(own, pooled, JSON.stringify(text));
        if (own) assert.equal(own.byteOffset === 0 && own.buffer.byteLength === own.length, true, JSON.stringify(text));
      }
    }
  });

  it('refuses through awsBlob in one issue each, in the words AWS uses: not base64, shorter than min, longer than max, not a string', () => {
    const blob = awsBlob({ min: 2, max: 3 });
    const issues = (input: unknown) => blob.safeParse(input).error?.issues.map((issue) => [issue.code, issue.message, issue.path]);
    assert.deepEqual(issues('AB=C'), [['custom', 'Member must be valid base64', []]]);
    assert.deepEqual(issues('QQ=='), [['custom', 'Member must have length greater than or equal to 2', []]]);
    assert.deepEqual(issues('QUJDRA=='), [['custom', 'Member must have length less than or equal to 3', []]]);
    assert.equal(issues(42)?.[0]?.[1], 'Member must be a base64-encoded blob');
    assert.equal(issues(null)?.[0]?.[1], 'Member must not be null');
    assert.deepEqual(blob.parse('QUI='), Buffer.from('AB'));
    assert.deepEqual(blob.parse('QUJD'), Buffer.from('ABC'));
    // Without limits any length passes, the empty blob included.
    assert.deepEqual(awsBlob().parse(''), Buffer.alloc(0));
  });

  it('is what awsBlob checks: a bad blob is a ValidationException-shaped failure, a good one decodes', () => {
    const blob = awsBlob();
    const refused = blob.safeParse('AB=C');
    assert.equal(refused.success, false);
    assert.deepEqual(refused.error?.issues.map((issue) => [issue.code, issue.message, issue.path]), [['custom', 'Member must be valid base64', []]]);
    const parsed = blob.safeParse('QUJD');
    assert.equal(parsed.success, true);
    assert.deepEqual(parsed.data, Buffer.from('ABC'));
  });
});
