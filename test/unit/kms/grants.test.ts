/**
 * Grant logic without a server: constraints against encryption contexts, sub-grants no broader than their
 * parent, tokens, the fingerprint of a named CreateGrant, and key policies with duplicate Sids.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  constraintsAllow,
  granteeNamesOf,
  grantAllows,
  grantFingerprint,
  isWithin,
  newGrantId,
  newGrantToken,
  parseGrantToken,
} from '../../../src/kms/grants.js';
import { awsManagedKeyPolicy, evaluableKeyPolicy } from '../../../src/kms/key-policy.js';
import { compilePolicyText } from '../../../src/policy/index.js';
import type { GrantRecord } from '../../../src/store/index.js';

function grant(operations: string[], constraints?: GrantRecord['constraints']): GrantRecord {
  return {
    grantId: newGrantId(),
    keyId: '11111111-2222-3333-4444-555555555555',
    keyArn: 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555',
    granteePrincipal: 'arn:aws:iam::000000000000:user/alice',
    issuingAccount: 'arn:aws:iam::000000000000:root',
    operations,
    constraints,
    creationDate: new Date(0),
    fingerprint: '',
  };
}

describe('grant constraints', () => {
  it('EncryptionContextSubset needs every pair, and allows more', () => {
    const subset = { EncryptionContextSubset: { a: '1', b: '2' } };
    assert.equal(constraintsAllow(subset, { a: '1', b: '2', c: '3' }), true);
    assert.equal(constraintsAllow(subset, { a: '1' }), false);
    assert.equal(constraintsAllow(subset, { a: '1', b: 'x' }), false);
    assert.equal(constraintsAllow(subset, undefined), false);
  });

  it('EncryptionContextEquals needs exactly the pairs', () => {
    const equals = { EncryptionContextEquals: { a: '1' } };
    assert.equal(constraintsAllow(equals, { a: '1' }), true);
    assert.equal(constraintsAllow(equals, { a: '1', b: '2' }), false);
    assert.equal(constraintsAllow(equals, {}), false);
  });

  it('apply to cryptographic operations, not to DescribeKey or RetireGrant', () => {
    const constrained = grant(['Decrypt', 'DescribeKey'], { EncryptionContextSubset: { a: '1' } });
    assert.equal(grantAllows(constrained, 'Decrypt', { a: '1' }), true);
    assert.equal(grantAllows(constrained, 'Decrypt', {}), false);
    assert.equal(grantAllows(constrained, 'DescribeKey', undefined), true);
    assert.equal(grantAllows(constrained, 'Encrypt', { a: '1' }), false, 'an operation the grant does not list');
  });
});

describe('a grant made through a grant is no broader than its parent', () => {
  it('operations must be among the parent\'s', () => {
    const parent = grant(['CreateGrant', 'Decrypt']);
    assert.equal(isWithin({ operations: ['Decrypt'] }, parent), true);
    assert.equal(isWithin({ operations: ['Decrypt', 'Encrypt'] }, parent), false);
  });

  it('constraints must be equally strict or stricter', () => {
    const subsetParent = grant(['CreateGrant', 'Decrypt'], { EncryptionContextSubset: { a: '1' } });
    assert.equal(isWithin({ operations: ['Decrypt'] }, subsetParent), false);
    assert.equal(isWithin({ operations: ['Decrypt'], constraints: { EncryptionContextSubset: { a: '1', b: '2' } } }, subsetParent), true);
    assert.equal(isWithin({ operations: ['Decrypt'], constraints: { EncryptionContextEquals: { a: '1' } } }, subsetParent), true);
    assert.equal(isWithin({ operations: ['Decrypt'], constraints: { EncryptionContextSubset: { a: '2' } } }, subsetParent), false);
    const equalsParent = grant(['CreateGrant', 'Decrypt'], { EncryptionContextEquals: { a: '1' } });
    assert.equal(isWithin({ operations: ['Decrypt'], constraints: { EncryptionContextEquals: { a: '1' } } }, equalsParent), true);
    assert.equal(isWithin({ operations: ['Decrypt'], constraints: { EncryptionContextSubset: { a: '1' } } }, equalsParent), false);
  });
});

describe('grant tokens and names', () => {
  it('a token names its grant and key; every token differs', () => {
    const grantId = newGrantId();
    const keyId = '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';
    const first = newGrantToken(grantId, keyId);
    assert.notEqual(first, newGrantToken(grantId, keyId));
    assert.deepEqual(parseGrantToken(first), { grantId, keyId });
  });

  it('anything else is InvalidGrantTokenException', () => {
    for (const token of ['', 'abc', Buffer.alloc(65).toString('base64'), 'not base64 at all!']) {
      assert.throws(() => parseGrantToken(token), { code: 'InvalidGrantTokenException' });
    }
  });

  it('the fingerprint ignores the order of operations and context pairs', () => {
    const base = { granteePrincipal: 'arn:aws:iam::000000000000:root', operations: ['Encrypt', 'Decrypt'] };
    assert.equal(
      grantFingerprint({ ...base, constraints: { EncryptionContextSubset: { a: '1', b: '2' } } }),
      grantFingerprint({ ...base, operations: ['Decrypt', 'Encrypt'], constraints: { EncryptionContextSubset: { b: '2', a: '1' } } }),
    );
    assert.notEqual(grantFingerprint(base), grantFingerprint({ ...base, retiringPrincipal: 'arn:aws:iam::000000000000:root' }));
  });

  it('a role session answers to grants naming its role', () => {
    assert.deepEqual(granteeNamesOf('arn:aws:sts::111122223333:assumed-role/app/session-1'), [
      'arn:aws:sts::111122223333:assumed-role/app/session-1',
      'arn:aws:iam::111122223333:role/app',
    ]);
    assert.deepEqual(granteeNamesOf('arn:aws:iam::111122223333:user/alice'), ['arn:aws:iam::111122223333:user/alice']);
  });
});

describe('key policies with duplicate Sids', () => {
  it('AWS\'s managed key policy reuses a Sid; it compiles for evaluation with the stored text unchanged', () => {
    const text = awsManagedKeyPolicy('111122223333', 'us-east-1', 'secretsmanager');
    assert.ok(compilePolicyText(text).findings, 'the policy engine refuses duplicate Sids as such');
    const evaluable = evaluableKeyPolicy(text);
    assert.notEqual(evaluable, text);
    assert.equal(compilePolicyText(evaluable).policy?.statements.length, 3);
    const plain = JSON.stringify({ Statement: [{ Sid: 'a', Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] });
    assert.equal(evaluableKeyPolicy(plain), plain);
  });
});
