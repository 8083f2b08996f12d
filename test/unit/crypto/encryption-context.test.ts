/**
 * The canonical encryption context, the AAD of every KMS ciphertext and secret value: one form per set of pairs,
 * whatever the order, and a context changed in place never answered with the form it had before (a memo per
 * object was tried and measured slower: bench/RESULTS.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalEncryptionContext, type EncryptionContext } from '../../../src/crypto/encryption-context.js';

/** The canonical form as defined, computed apart from the function under test. */
function expected(context: EncryptionContext): string {
  const keys = Object.keys(context).sort();
  return keys.length === 0 ? '' : JSON.stringify(keys.map((key) => [key, context[key]]));
}

describe('canonicalEncryptionContext', () => {
  it('sorts pairs by key and serialises them as JSON; absent and empty are the same', () => {
    assert.equal(canonicalEncryptionContext({ b: '2', a: '1' }).toString('utf8'), '[["a","1"],["b","2"]]');
    assert.equal(canonicalEncryptionContext(undefined).length, 0);
    assert.equal(canonicalEncryptionContext({}).length, 0);
  });

  it('answers the same context object alike every time, and follows every change made to it in place', () => {
    const context: EncryptionContext = { SecretARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:a-AbCdEf', SecretVersionId: 'v1' };
    const check = (why: string) => assert.equal(canonicalEncryptionContext(context).toString('utf8'), expected(context), why);
    check('first use');
    check('second use');
    context.SecretVersionId = 'v2';
    check('a value changed');
    context.extra = 'x';
    check('a key added');
    delete context.extra;
    check('a key removed');
    delete context.SecretVersionId;
    context.Other = 'v2';
    check('a key replaced by another, same count and value');
    for (const key of Object.keys(context)) delete context[key];
    assert.equal(canonicalEncryptionContext(context).length, 0, 'emptied');
    context['é'] = 'ü"\\';
    check('refilled with characters JSON escapes');
  });

  it('orders the keys of every small context by code units, as Array.prototype.sort does, in any insertion order', () => {
    // Up to 16 keys are sorted by insertion in place: surrogate pairs, case, digits and prefixes must come out as
    // the default sort puts them.
    const names = ['b', 'a', 'B', '10', '9', '', 'ab', 'a\u0000', '\u00e9', '\ud83d\ude00', '\uffff', 'Z', 'aa', 'a ', '_', '~', 'k'];
    for (let count = 1; count <= names.length; count++) {
      for (let shift = 0; shift < count; shift++) {
        const keys = names.slice(0, count).map((_, index, all) => all[(index * 7 + shift) % count]!);
        const context = Object.fromEntries(keys.map((key, index) => [key, `v${index}`]));
        assert.equal(canonicalEncryptionContext(context).toString('utf8'), expected(context), JSON.stringify(keys));
      }
    }
  });

  it('answers equal contexts in different objects alike', () => {
    const a = canonicalEncryptionContext({ x: '1', y: '2' });
    const b = canonicalEncryptionContext({ y: '2', x: '1' });
    assert.deepEqual(a, b);
  });

  it('is exactly the JSON of the sorted pairs, for one pair and many, whatever the characters', () => {
    const samples: EncryptionContext[] = [
      { purpose: 'coffer-bench' },
      { 'quote"': 'back\\slash', '\u0000': '\n\t', 'é': '😀' },
      { b: '', a: '', '10': 'ten', '9': 'nine', B: 'upper' },
      Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`k${(index * 7919) % 97}`, `v${index}`])),
    ];
    for (const context of samples) {
      assert.equal(canonicalEncryptionContext(context).toString('utf8'), expected(context));
    }
  });
});
