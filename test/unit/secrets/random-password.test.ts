import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomPassword } from '../../../src/secrets/random-password.js';

const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;
const samples = (rules: Parameters<typeof randomPassword>[0], count = 50) => Array.from({ length: count }, () => randomPassword(rules));

describe('GetRandomPassword rules', () => {
  it('defaults to 32 characters with every type present', () => {
    for (const password of samples({})) {
      assert.equal(password.length, 32);
      assert.match(password, /[a-z]/);
      assert.match(password, /[A-Z]/);
      assert.match(password, /[0-9]/);
      assert.match(password, PUNCTUATION);
      assert.doesNotMatch(password, / /);
    }
  });

  it('honours exclusions and ExcludeCharacters', () => {
    for (const password of samples({ PasswordLength: 40, ExcludePunctuation: true, ExcludeNumbers: true, ExcludeCharacters: 'aeiouAEIOU' })) {
      assert.match(password, /^[b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z]{40}$/);
    }
  });

  it('includes a space only when asked, and then always with RequireEachIncludedType', () => {
    for (const password of samples({ PasswordLength: 8, IncludeSpace: true })) assert.match(password, / /);
  });

  it('does not repeat itself', () => {
    assert.equal(new Set(samples({}, 100)).size, 100);
  });

  it('refuses rules that exclude every character, or a length too short for the required types', () => {
    assert.throws(() => randomPassword({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true }), /exclude every character/);
    assert.throws(() => randomPassword({ PasswordLength: 3 }), /too short/);
    assert.equal(randomPassword({ PasswordLength: 3, RequireEachIncludedType: false }).length, 3);
  });
});
