import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeNextToken, encodeNextToken, matchesFilters, searchWords, type FilterableSecret } from '../../../src/secrets/list-filters.js';

function secret(name: string, description?: string, tags: Record<string, string> = {}): FilterableSecret {
  return {
    arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-abcdef`,
    accountId: '000000000000',
    region: 'us-east-1',
    name,
    description,
    createdDate: new Date(0),
    lastChangedDate: new Date(0),
    primaryRegion: 'us-east-1',
    tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
  };
}

describe('ListSecrets filters', () => {
  const db = secret('prod/db/mysql', 'Production MySQL credentials', { Environment: 'Production' });
  const api = secret('staging/api-key', 'Staging key', { Environment: 'Staging' });

  it('name is a case-sensitive prefix match', () => {
    assert.equal(matchesFilters(db, [{ Key: 'name', Values: ['prod/'] }]), true);
    assert.equal(matchesFilters(db, [{ Key: 'name', Values: ['Prod/'] }]), false);
    assert.equal(matchesFilters(db, [{ Key: 'name', Values: ['db'] }]), false);
  });

  it('description ignores case', () => {
    assert.equal(matchesFilters(db, [{ Key: 'description', Values: ['production'] }]), true);
  });

  it('values of one filter are ORed, filters are ANDed, ! negates', () => {
    assert.equal(matchesFilters(api, [{ Key: 'name', Values: ['prod', 'staging'] }]), true);
    assert.equal(matchesFilters(api, [{ Key: 'name', Values: ['staging'] }, { Key: 'tag-value', Values: ['Production'] }]), false);
    assert.equal(matchesFilters(db, [{ Key: 'tag-key', Values: ['!Environment'] }]), false);
    assert.equal(matchesFilters(db, [{ Key: 'name', Values: ['!staging'] }]), true);
  });

  it('all searches every attribute by word, ignoring case', () => {
    assert.equal(matchesFilters(db, [{ Key: 'all', Values: ['mysql'] }]), true);
    assert.equal(matchesFilters(db, [{ Key: 'all', Values: ['PRODUCTION'] }]), true);
    assert.equal(matchesFilters(api, [{ Key: 'all', Values: ['mysql'] }]), false);
  });
});

describe('search words (User Guide, "Find secrets")', () => {
  it('split at lower to upper case, letters to digits, and punctuation, lower-cased', () => {
    assert.deepEqual(searchWords('credsDatabase#892'), ['creds', 'database', '892']);
    assert.deepEqual(searchWords('prod/AppBeta/x'), ['prod', 'app', 'beta', 'x']);
    assert.deepEqual(searchWords('HTTPServer_v2'), ['http', 'server', 'v', '2']);
    assert.deepEqual(searchWords('My_Secret'), ['my', 'secret']);
    assert.deepEqual(searchWords(' /-_ '), []);
  });

  it('description and all need every value word as a word prefix; a value without words matches nothing', () => {
    const secretOf = secret('prod/AppBeta/x', 'one and two');
    assert.equal(matchesFilters(secretOf, [{ Key: 'description', Values: ['one two'] }]), true);
    assert.equal(matchesFilters(secretOf, [{ Key: 'description', Values: ['one three'] }]), false);
    assert.equal(matchesFilters(secretOf, [{ Key: 'all', Values: ['Beta'] }]), true);
    assert.equal(matchesFilters(secretOf, [{ Key: 'all', Values: ['eta'] }]), false);
    assert.equal(matchesFilters(secretOf, [{ Key: 'all', Values: ['/'] }]), false);
  });
});

describe('NextToken', () => {
  it('round-trips an offset and rejects anything else', () => {
    assert.equal(decodeNextToken(encodeNextToken(40)), 40);
    assert.throws(() => decodeNextToken('garbage'), (error: Error & { code?: string }) => error.code === 'InvalidNextTokenException');
    assert.throws(() => decodeNextToken(Buffer.from('{"offset":-1}').toString('base64url')), /NextToken/);
  });
});
