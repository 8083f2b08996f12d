/**
 * The pieces of AssumeRoleWithWebIdentity that need no server: JWT parsing and verification (node:crypto), issuer
 * URLs and provider keys, session claims, and the signing-key cache's refresh rules against a local issuer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AwsError } from '../../../src/core/index.js';
import { checkTokenTimes, parseJwt, publicKeyOf, signatureValid, CLOCK_SKEW_SECONDS } from '../../../src/iam/web-identity/jwt.js';
import { issuerKeyOf, issuerMatches, providerKeyOf } from '../../../src/iam/web-identity/issuer-urls.js';
import { sessionTagsOf } from '../../../src/iam/web-identity/session-claims.js';
import { SigningKeyCache } from '../../../src/iam/web-identity/signing-keys.js';
import { startTestIssuer, type TestIssuer } from '../../helpers/oidc-issuer.js';

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AwsError ? error.code : 'not an AwsError';
  }
  return undefined;
}

describe('web identity tokens', () => {
  let issuer: TestIssuer;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(() => issuer.close());

  it('verifies each supported algorithm with its key, and not with another key', () => {
    for (const [alg, key] of [['RS256', issuer.rsa], ['RS384', issuer.rsa], ['PS512', issuer.rsa], ['ES256', issuer.ec256], ['ES384', issuer.ec384]] as const) {
      const token = parseJwt(issuer.token({ sub: 's' }, { alg, key }));
      assert.equal(signatureValid(token, publicKeyOf(key.jwk)!), true, alg);
      const other = key === issuer.rsa ? issuer.newKey('rsa', { publish: false }) : issuer.newKey('ec', { publish: false });
      if (alg !== 'ES384') assert.equal(signatureValid(token, publicKeyOf(other.jwk)!), false, `${alg} with another key`);
    }
  });

  it('refuses none, HS256, crit headers and malformed tokens as InvalidIdentityToken', () => {
    assert.equal(code(() => parseJwt(issuer.token({}, { alg: 'none' }) + 'x')), 'InvalidIdentityToken');
    assert.equal(code(() => parseJwt(issuer.token({}, { alg: 'HS256' }))), 'InvalidIdentityToken');
    assert.equal(code(() => parseJwt(issuer.token({}, { header: { crit: ['exp'] } }))), 'InvalidIdentityToken');
    assert.equal(code(() => parseJwt('a.b')), 'InvalidIdentityToken');
    assert.equal(code(() => parseJwt('e30.e30.!!')), 'InvalidIdentityToken');
    assert.equal(code(() => parseJwt('W10.e30.AA')), 'InvalidIdentityToken'); // header is a JSON array
  });

  it(`checks exp, nbf and iat with ${CLOCK_SKEW_SECONDS} s of skew`, () => {
    const now = new Date(1_800_000_000_000);
    const t = now.getTime() / 1000;
    assert.equal(code(() => checkTokenTimes({ exp: t - CLOCK_SKEW_SECONDS + 1 }, now)), undefined);
    assert.equal(code(() => checkTokenTimes({ exp: t - CLOCK_SKEW_SECONDS }, now)), 'ExpiredTokenException');
    assert.equal(code(() => checkTokenTimes({}, now)), 'InvalidIdentityToken');
    assert.equal(code(() => checkTokenTimes({ exp: t + 60, nbf: t + CLOCK_SKEW_SECONDS + 1 }, now)), 'InvalidIdentityToken');
    assert.equal(code(() => checkTokenTimes({ exp: t + 60, iat: t + CLOCK_SKEW_SECONDS - 1 }, now)), undefined);
  });

  it('provider URLs: https only (loopback http with --dev), no query; the key is the URL without its scheme', () => {
    const strict = { allowLoopbackHttp: false };
    const dev = { allowLoopbackHttp: true };
    assert.deepEqual(providerKeyOf('https://issuer.example.com/path/', strict), { key: 'issuer.example.com/path/' });
    assert.ok('problem' in providerKeyOf('http://issuer.example.com', dev));
    assert.ok('problem' in providerKeyOf('http://127.0.0.1:8080', strict));
    assert.deepEqual(providerKeyOf('http://127.0.0.1:8080', dev), { key: '127.0.0.1:8080' });
    assert.ok('problem' in providerKeyOf('https://issuer.example.com?x=1', strict));
    assert.ok('problem' in providerKeyOf('https://user:pw@issuer.example.com', strict));
    assert.equal(issuerKeyOf('accounts.google.com', strict), 'accounts.google.com');
    assert.equal(issuerMatches('accounts.google.com', 'https://accounts.google.com'), true);
    assert.equal(issuerMatches('https://issuer.example.com/', 'https://issuer.example.com'), false);
  });

  it('session tags: one value per key, keys unique case-insensitively, transitive keys among them', () => {
    const claim = (value: unknown) => ({ 'https://aws.amazon.com/tags': value });
    assert.deepEqual(sessionTagsOf(claim({ principal_tags: { team: ['blue'], env: 'prod' }, transitive_tag_keys: ['team'] })), {
      tags: [{ Key: 'team', Value: 'blue' }, { Key: 'env', Value: 'prod' }],
      transitiveTagKeys: ['team'],
    });
    assert.equal(sessionTagsOf({}), undefined);
    assert.equal(code(() => sessionTagsOf(claim({ principal_tags: { team: ['a', 'b'] } }))), 'IDPRejectedClaim');
    assert.equal(code(() => sessionTagsOf(claim({ principal_tags: { team: 'a', TEAM: 'b' } }))), 'IDPRejectedClaim');
    assert.equal(code(() => sessionTagsOf(claim({ principal_tags: { team: 'a' }, transitive_tag_keys: ['env'] }))), 'IDPRejectedClaim');
    assert.equal(code(() => sessionTagsOf(claim('tags'))), 'IDPRejectedClaim');
  });

  it('the key cache fetches once, again for an unknown kid at most once per interval, and after its maximum age', async () => {
    let now = 1_000_000;
    const cache = new SigningKeyCache({ policy: { allowLoopbackHttp: true }, minRefreshIntervalMs: 30_000, maxAgeMs: 3_600_000, now: () => now });
    const source = { providerArn: 'arn:aws:iam::111122223333:oidc-provider/x', issuerUrl: issuer.url };
    const start = issuer.jwksRequests();
    await cache.keysFor(source, issuer.rsa.kid);
    await cache.keysFor(source, issuer.rsa.kid);
    assert.equal(issuer.jwksRequests(), start + 1);
    await cache.keysFor(source, 'unknown-1');
    await cache.keysFor(source, 'unknown-2');
    assert.equal(issuer.jwksRequests(), start + 2, 'one refresh for unknown kids within the interval');
    now += 30_000;
    await cache.keysFor(source, 'unknown-3');
    assert.equal(issuer.jwksRequests(), start + 3);
    now += 3_600_000;
    await cache.keysFor(source, issuer.rsa.kid);
    assert.equal(issuer.jwksRequests(), start + 4, 'stale after an hour');
    cache.forget(source.providerArn);
    await cache.keysFor(source, issuer.rsa.kid);
    assert.equal(issuer.jwksRequests(), start + 5, 'forgotten keys are fetched again');
    const stored = await cache.keysFor({ ...source, storedJwks: JSON.stringify({ keys: [issuer.ec256.jwk] }) }, undefined);
    assert.deepEqual(stored.map((key) => key.kid), [issuer.ec256.kid]);
    assert.equal(issuer.jwksRequests(), start + 5, 'a stored JWKS is never fetched');
  });

  it('an unreachable issuer is IDPCommunicationError; an issuer URL outside the policy is never fetched', async () => {
    const cache = new SigningKeyCache({ policy: { allowLoopbackHttp: true }, fetchTimeoutMs: 2000 });
    await assert.rejects(cache.keysFor({ providerArn: 'arn:aws:iam::111122223333:oidc-provider/y', issuerUrl: 'http://127.0.0.1:9' }, undefined), (error: AwsError) => error.code === 'IDPCommunicationError');
    const strict = new SigningKeyCache({ policy: { allowLoopbackHttp: false } });
    // The issuer is served over plain http: with https only, nothing is fetched.
    const requests = issuer.jwksRequests();
    await assert.rejects(strict.keysFor({ providerArn: 'arn:aws:iam::111122223333:oidc-provider/z', issuerUrl: issuer.url }, undefined), (error: AwsError) => error.code === 'IDPCommunicationError');
    assert.equal(issuer.jwksRequests(), requests);
  });
});
