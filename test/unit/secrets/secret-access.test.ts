import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock, type RequestContext } from '../../../src/core/index.js';
import { checkAccess, compilePolicyText, type PrincipalPolicies } from '../../../src/policy/index.js';
import { requestTagConditions, secretConditions } from '../../../src/secrets/secret-access.js';
import { ownerKeyReference } from '../../../src/secrets/secret-values.js';
import type { SecretRecord } from '../../../src/store/index.js';

const OWNER = '111122223333';
const secret: SecretRecord = {
  arn: `arn:aws:secretsmanager:eu-west-1:${OWNER}:secret:prod/db-AbCdEf`,
  accountId: OWNER,
  region: 'eu-west-1',
  name: 'prod/db',
  createdDate: new Date(0),
  lastChangedDate: new Date(0),
  primaryRegion: 'eu-west-1',
};

function callerIn(accountId: string): RequestContext {
  return { requestId: 'r', principal: { accountId, arn: `arn:aws:iam::${accountId}:root`, accessKeyId: 'AKIA' }, region: 'eu-west-1', clock: systemClock };
}

describe('secret condition keys', () => {
  it('carry the name, the ARN as SecretId and each tag under both tag keys', () => {
    const conditions = secretConditions(secret, [{ TagKey: 'team', TagValue: 'payments' }]);
    assert.equal(conditions['secretsmanager:Name'], 'prod/db');
    assert.equal(conditions['secretsmanager:SecretId'], secret.arn);
    assert.equal(conditions['secretsmanager:ResourceTag/team'], 'payments');
    assert.equal(conditions['aws:ResourceTag/team'], 'payments');
  });

  it('turn request tags into aws:RequestTag/<key> and the aws:TagKeys list, and nothing without tags', () => {
    assert.deepEqual(requestTagConditions([{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]), {
      'aws:TagKeys': ['a', 'b'],
      'aws:RequestTag/a': '1',
      'aws:RequestTag/b': '2',
    });
    assert.deepEqual(requestTagConditions(undefined), {});
  });

  it('make a policy condition on secretsmanager:ResourceTag decide as the tags say', () => {
    const policy = compilePolicyText(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'secretsmanager:ResourceTag/team': 'payments' } } }],
      }),
    ).policy!;
    const identity: PrincipalPolicies = { principal: { arn: `arn:aws:iam::${OWNER}:user/u`, accountId: OWNER }, unrestricted: false, policies: [policy], tags: {} };
    const decide = (tags: Array<{ TagKey: string; TagValue: string }>) =>
      checkAccess(identity, { action: 'secretsmanager:GetSecretValue', resource: secret.arn, resourceAccount: OWNER, context: secretConditions(secret, tags) }, { currentTime: new Date() }).allowed;
    assert.equal(decide([{ TagKey: 'team', TagValue: 'payments' }]), true);
    assert.equal(decide([{ TagKey: 'team', TagValue: 'billing' }]), false);
    assert.equal(decide([]), false);
  });
});

describe('the KMS key a secret is sealed with, as the caller names it', () => {
  it('is the stored reference for the owner account (undefined: its default key)', () => {
    assert.equal(ownerKeyReference(callerIn(OWNER), secret, undefined), undefined);
    assert.equal(ownerKeyReference(callerIn(OWNER), secret, 'alias/mine'), 'alias/mine');
  });

  it('is the owner\'s key by ARN for another account, its alias/aws/secretsmanager when the secret names none', () => {
    const other = callerIn('444455556666');
    assert.equal(ownerKeyReference(other, secret, undefined), `arn:aws:kms:eu-west-1:${OWNER}:alias/aws/secretsmanager`);
    assert.equal(ownerKeyReference(other, secret, 'alias/shared'), `arn:aws:kms:eu-west-1:${OWNER}:alias/shared`);
    assert.equal(ownerKeyReference(other, secret, '1234abcd-12ab-34cd-56ef-1234567890ab'), `arn:aws:kms:eu-west-1:${OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`);
    const arn = `arn:aws:kms:eu-west-1:${OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    assert.equal(ownerKeyReference(other, secret, arn), arn);
  });
});
