import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { OidcProviderRecord, OidcProviderRepository } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';

const ACCOUNT = '111111111111';

function provider(host: string, accountId = ACCOUNT): OidcProviderRecord {
  return {
    accountId,
    arn: `arn:aws:iam::${accountId}:oidc-provider/${host}`,
    url: `https://${host}`,
    clientIds: ['sts.amazonaws.com'],
    thumbprints: ['a'.repeat(40)],
    tags: [{ Key: 'team', Value: 'a' }],
    createdAt: new Date(1_700_000_000_000),
  };
}

/**
 * The conformance suite of OidcProviderRepository: unique ARNs, the per-account limit, list edits with their
 * limits, the stored JWKS, and accounts kept apart.
 */
export function runOidcProviderRepositorySuite(backend: string, open: OpenRepositories<OidcProviderRepository>): void {
  describeRepository<OidcProviderRepository>('OidcProviderRepository', backend, open, (opened) => {
    it('creates a provider once, per account, within the account limit', async () => {
      const store = opened();
      const first = provider('issuer.example/one');
      assert.equal(await store.createOidcProvider(first, 2), 'created');
      assert.equal(await store.createOidcProvider({ ...first, url: 'https://other' }, 2), 'exists');
      assert.deepEqual(await store.getOidcProvider(ACCOUNT, first.arn), { ...first, jwks: undefined });
      assert.equal(await store.getOidcProvider('222222222222', first.arn), undefined);
      assert.equal(await store.createOidcProvider(provider('issuer.example/two'), 2), 'created');
      assert.equal(await store.createOidcProvider(provider('issuer.example/three'), 2), 'limit-exceeded');
      assert.equal(await store.createOidcProvider(provider('issuer.example/three', '222222222222'), 2), 'created');
      assert.deepEqual((await store.listOidcProviders(ACCOUNT)).map((record) => record.arn), [first.arn, provider('issuer.example/two').arn]);
      assert.equal(await store.deleteOidcProvider(ACCOUNT, first.arn), true);
      assert.equal(await store.deleteOidcProvider(ACCOUNT, first.arn), false);
      assert.equal(await store.getOidcProvider(ACCOUNT, first.arn), undefined);
    });

    it('adds and removes client ids within the limit; absent providers say so', async () => {
      const store = opened();
      const record = provider('clients.example');
      await store.createOidcProvider(record, 100);
      assert.equal(await store.addOidcProviderClientId(ACCOUNT, record.arn, 'app-1', 2), 'updated');
      assert.equal(await store.addOidcProviderClientId(ACCOUNT, record.arn, 'app-1', 2), 'updated');
      assert.equal(await store.addOidcProviderClientId(ACCOUNT, record.arn, 'app-2', 2), 'limit-exceeded');
      assert.deepEqual((await store.getOidcProvider(ACCOUNT, record.arn))!.clientIds, ['sts.amazonaws.com', 'app-1']);
      assert.equal(await store.removeOidcProviderClientId(ACCOUNT, record.arn, 'sts.amazonaws.com'), true);
      assert.deepEqual((await store.getOidcProvider(ACCOUNT, record.arn))!.clientIds, ['app-1']);
      assert.equal(await store.addOidcProviderClientId(ACCOUNT, `${record.arn}x`, 'app-1', 2), 'absent');
      assert.equal(await store.removeOidcProviderClientId('222222222222', record.arn, 'app-1'), false);
    });

    it('replaces thumbprints, merges and removes tags, stores and clears a JWKS', async () => {
      const store = opened();
      const record = provider('keys.example');
      await store.createOidcProvider(record, 100);
      assert.equal(await store.setOidcProviderThumbprints(ACCOUNT, record.arn, ['b'.repeat(40), 'c'.repeat(40)]), true);
      assert.equal(await store.tagOidcProvider(ACCOUNT, record.arn, [{ Key: 'team', Value: 'b' }, { Key: 'env', Value: 'dev' }], 2), 'updated');
      assert.equal(await store.tagOidcProvider(ACCOUNT, record.arn, [{ Key: 'third', Value: '3' }], 2), 'limit-exceeded');
      assert.equal(await store.untagOidcProvider(ACCOUNT, record.arn, ['env']), true);
      const jwks = '{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}';
      assert.equal(await store.setOidcProviderJwks(ACCOUNT, record.arn, jwks), true);
      const updated = await store.getOidcProvider(ACCOUNT, record.arn);
      assert.deepEqual(updated!.thumbprints, ['b'.repeat(40), 'c'.repeat(40)]);
      assert.deepEqual(updated!.tags, [{ Key: 'team', Value: 'b' }]);
      assert.equal(updated!.jwks, jwks);
      assert.equal(await store.setOidcProviderJwks(ACCOUNT, record.arn, undefined), true);
      assert.equal((await store.getOidcProvider(ACCOUNT, record.arn))!.jwks, undefined);
      assert.equal(await store.setOidcProviderThumbprints(ACCOUNT, `${record.arn}x`, []), false);
      assert.equal(await store.tagOidcProvider(ACCOUNT, `${record.arn}x`, [], 2), 'absent');
      assert.equal(await store.untagOidcProvider(ACCOUNT, `${record.arn}x`, ['a']), false);
      assert.equal(await store.setOidcProviderJwks(ACCOUNT, `${record.arn}x`, jwks), false);
    });
  });
}
