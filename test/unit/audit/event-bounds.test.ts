import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { boundMembers, boundResourceNames, clipTextField, RESOURCES_CAP_BYTES, TRUNCATED_PREFIX_CHARS, type TruncatedValue } from '../../../src/audit/index.js';

describe('audit event bounds', () => {
  it('leaves members within their limits untouched', () => {
    const input = { SecretId: 's'.repeat(2048), Tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }], Limit: 3, Flag: true, Nothing: null };
    assert.deepEqual(boundMembers(input), input);
  });

  it('truncates a member over its AWS limit or past 4 KB to a prefix, its length and SHA-256', () => {
    const over = 'k'.repeat(129);
    const big = 'b'.repeat(5000);
    const bounded = boundMembers({ Tags: [{ Key: over }], Other: big, TagKeys: ['ok', over] }) as Record<string, any>;
    const expected = (text: string): TruncatedValue => ({
      truncated: true,
      prefix: text.slice(0, TRUNCATED_PREFIX_CHARS),
      length: text.length,
      sha256: createHash('sha256').update(text).digest('hex'),
    });
    assert.deepEqual(bounded.Tags[0].Key, expected(over));
    assert.deepEqual(bounded.Other, expected(big));
    assert.deepEqual(bounded.TagKeys, ['ok', expected(over)]);
  });

  it('counts JSON escapes: 1,000 control characters are 6,000 bytes of JSON', () => {
    const bounded = boundMembers({ Other: '\u0001'.repeat(1000) }) as Record<string, any>;
    assert.equal(bounded.Other.truncated, true);
  });

  it('never cuts a prefix inside a surrogate pair', () => {
    const text = `${'a'.repeat(TRUNCATED_PREFIX_CHARS - 1)}${'😀'.repeat(3000)}`;
    const bounded = boundMembers({ Other: text }) as Record<string, any>;
    assert.equal(bounded.Other.prefix, 'a'.repeat(TRUNCATED_PREFIX_CHARS - 1));
    assert.equal(clipTextField('awsRegion', `${'r'.repeat(63)}😀`), 'r'.repeat(63));
  });

  it('cuts a long member name to a prefix with its length and digest', () => {
    const name = 'n'.repeat(300);
    const [bounded] = Object.keys(boundMembers({ [name]: 1 }) as object);
    assert.match(bounded!, new RegExp(`^n{64}…\\[300 chars, sha256 ${createHash('sha256').update(name).digest('hex')}\\]$`));
  });

  it('keeps resources whole and within their budget', () => {
    const arn = (index: number) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${String(index).padStart(1900, 'x')}`;
    assert.deepEqual(boundResourceNames(['a', 'z'.repeat(3000), 'b']), ['a', 'b']);
    assert.equal(boundResourceNames([1, 2, 3, 4, 5, 6].map(arn)).length, 4);
    // 200 names of 40 characters (42 bytes of JSON each): 195 fit; at the 6 bytes a character could take, none would be counted exactly.
    const short = Array.from({ length: 200 }, (_, index) => `name-${String(index).padStart(35, '0')}`);
    assert.deepEqual(boundResourceNames(short), short.slice(0, Math.floor(RESOURCES_CAP_BYTES / 42)));
    // Multi-byte names: counted in UTF-8 bytes, not characters.
    const wide = Array.from({ length: 100 }, (_, index) => `${'é'.repeat(40)}${index}`);
    const kept = boundResourceNames(wide);
    assert.ok(kept.reduce((bytes, name) => bytes + Buffer.byteLength(JSON.stringify(name)), 0) <= RESOURCES_CAP_BYTES);
    assert.equal(kept.length, wide.findIndex((_, index) => wide.slice(0, index + 1).reduce((bytes, name) => bytes + Buffer.byteLength(JSON.stringify(name)), 0) > RESOURCES_CAP_BYTES));
  });
});
