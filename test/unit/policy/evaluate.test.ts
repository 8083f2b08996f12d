/**
 * Matching of Action, Resource and Principal, statement combination within a policy, and decide().
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compilePolicy,
  compilePolicyText,
  decide,
  evaluate,
  type AuthorizationRequest,
  type CompiledPolicy,
  type PolicyEvaluation,
  type PolicyStatement,
  type RequestPrincipal,
} from '../../../src/policy/index.js';

const ALICE: RequestPrincipal = { arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' };
const BOB_OTHER_ACCOUNT: RequestPrincipal = { arn: 'arn:aws:iam::444455556666:user/bob', accountId: '444455556666' };
const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/myapp/db-AbCdEf';
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function policyOf(...statements: PolicyStatement[]): CompiledPolicy {
  return compilePolicy({ Version: '2012-10-17', Statement: statements });
}

function request(overrides: Partial<AuthorizationRequest> = {}): AuthorizationRequest {
  return { principal: ALICE, action: 'secretsmanager:GetSecretValue', resource: SECRET, context: {}, ...overrides };
}

const decisionOf = (policy: CompiledPolicy, req: AuthorizationRequest) => evaluate([policy], req)[0]!.decision;

describe('Action matching', () => {
  const cases: [pattern: string, action: string, expected: boolean][] = [
    ['kms:Decrypt', 'kms:Decrypt', true],
    ['kms:decrypt', 'kms:Decrypt', true],
    ['KMS:Decrypt', 'kms:Decrypt', true],
    ['kms:*', 'kms:Decrypt', true],
    ['kms:*', 'secretsmanager:GetSecretValue', false],
    ['kms:Re*', 'kms:ReEncryptFrom', true],
    ['kms:Generate*', 'kms:Decrypt', false],
    ['kms:?ncrypt', 'kms:Encrypt', true],
    ['kms:?ncrypt', 'kms:ReEncrypt', false],
    ['*', 'secretsmanager:DeleteSecret', true],
    ['secretsmanager:Get*', 'secretsmanager:GetSecretValue', true],
    ['secretsmanager:Get*', 'secretsmanager:PutSecretValue', false],
  ];
  for (const [pattern, action, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${action}`, () => {
      const policy = policyOf({ Effect: 'Allow', Action: [pattern], Resource: ['*'] });
      assert.equal(decisionOf(policy, request({ action })), expected ? 'Allow' : 'NotApplicable');
    });
  }
});

describe('Resource matching', () => {
  const cases: [pattern: string, resource: string, expected: boolean][] = [
    ['*', SECRET, true],
    [SECRET, SECRET, true],
    ['arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/myapp/*', SECRET, true],
    ['arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/other/*', SECRET, false],
    ['arn:aws:secretsmanager:*:111122223333:secret:prod/*', SECRET, true],
    ['arn:aws:secretsmanager:us-east-1:*:secret:*', SECRET, true],
    ['arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/myapp/db-??????', SECRET, true],
    ['arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/myapp/db-?????', SECRET, false],
    // Case-sensitive.
    ['arn:aws:secretsmanager:us-east-1:111122223333:secret:PROD/*', SECRET, false],
    // The wildcard does not span ARN parts.
    ['arn:aws:secretsmanager:*:secret:*', SECRET, false],
    ['arn:aws:kms:us-east-1:111122223333:key/*', KEY, true],
    ['arn:aws:kms:us-east-1:111122223333:key/*', SECRET, false],
  ];
  for (const [pattern, resource, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${resource}`, () => {
      const policy = policyOf({ Effect: 'Allow', Action: ['*'], Resource: [pattern] });
      assert.equal(decisionOf(policy, request({ resource })), expected ? 'Allow' : 'NotApplicable');
    });
  }
});

describe('Principal matching (resource policies)', () => {
  const role: RequestPrincipal = {
    arn: 'arn:aws:sts::444455556666:assumed-role/reader/session-1',
    accountId: '444455556666',
    roleArn: 'arn:aws:iam::444455556666:role/reader',
  };
  const root: RequestPrincipal = { arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333' };
  const service: RequestPrincipal = { arn: 'secretsmanager.amazonaws.com', accountId: '', service: 'secretsmanager.amazonaws.com' };
  const cases: [name: string, principal: PolicyStatement['Principal'], caller: RequestPrincipal, expected: PolicyEvaluation['allowedVia']][] = [
    ['"*" matches everyone', '*', BOB_OTHER_ACCOUNT, 'principal'],
    ['{AWS: "*"} matches everyone', { AWS: ['*'] }, ALICE, 'principal'],
    ['a user ARN matches that user', { AWS: [ALICE.arn] }, ALICE, 'principal'],
    ['a user ARN does not match another user', { AWS: [ALICE.arn] }, BOB_OTHER_ACCOUNT, undefined],
    ['an account id matches its principals through the account', { AWS: ['111122223333'] }, ALICE, 'account'],
    ['a root ARN matches its principals through the account', { AWS: ['arn:aws:iam::111122223333:root'] }, ALICE, 'account'],
    ['a root ARN matches the root itself directly', { AWS: ['arn:aws:iam::111122223333:root'] }, root, 'principal'],
    ['a root ARN does not match another account', { AWS: ['arn:aws:iam::111122223333:root'] }, BOB_OTHER_ACCOUNT, undefined],
    ['a role ARN matches its sessions', { AWS: ['arn:aws:iam::444455556666:role/reader'] }, role, 'principal'],
    ['a wildcard ARN pattern', { AWS: ['arn:aws:iam::444455556666:role/read*'] }, role, 'principal'],
    ['a service principal', { Service: ['secretsmanager.amazonaws.com'] }, service, 'principal'],
    ['a service principal does not match a user', { Service: ['secretsmanager.amazonaws.com'] }, ALICE, undefined],
    ['a user ARN does not match a service', { AWS: ['*'] }, service, undefined],
    ['Federated principals never match', { Federated: ['cognito-identity.amazonaws.com'] }, ALICE, undefined],
  ];
  for (const [name, principal, caller, expected] of cases) {
    it(name, () => {
      const policy = policyOf({ Effect: 'Allow', Principal: principal!, Action: ['*'], Resource: ['*'] });
      const [result] = evaluate([policy], request({ principal: caller }));
      assert.equal(result!.decision, expected ? 'Allow' : 'NotApplicable');
      assert.equal(result!.allowedVia, expected);
    });
  }
});

describe('statements within one policy', () => {
  it('an explicit deny beats an allow', () => {
    const policy = policyOf(
      { Sid: 'ReadAll', Effect: 'Allow', Action: ['secretsmanager:*'], Resource: ['*'] },
      { Sid: 'NoProd', Effect: 'Deny', Action: ['secretsmanager:GetSecretValue'], Resource: ['arn:aws:secretsmanager:*:*:secret:prod/*'] },
    );
    const [result] = evaluate([policy], request());
    assert.equal(result!.decision, 'Deny');
    assert.deepEqual(result!.statements, ['NoProd']);
    assert.equal(decisionOf(policy, request({ resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dev/x-AbCdEf' })), 'Allow');
  });

  it('a deny whose condition does not hold does not apply', () => {
    const policy = policyOf(
      { Effect: 'Allow', Action: ['*'], Resource: ['*'] },
      { Effect: 'Deny', Action: ['*'], Resource: ['*'], Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } } },
    );
    assert.equal(decisionOf(policy, request({ context: { 'aws:SourceIp': '10.2.3.4' } })), 'Allow');
    assert.equal(decisionOf(policy, request({ context: { 'aws:SourceIp': '192.0.2.1' } })), 'Deny');
    // Negated operator on a missing key is true: the deny applies.
    assert.equal(decisionOf(policy, request({ context: {} })), 'Deny');
  });

  it('NotAction matches every action but the listed ones', () => {
    const policy = policyOf({ Effect: 'Allow', NotAction: ['secretsmanager:Delete*', 'kms:ScheduleKeyDeletion'], Resource: ['*'] });
    assert.equal(decisionOf(policy, request({ action: 'secretsmanager:GetSecretValue' })), 'Allow');
    assert.equal(decisionOf(policy, request({ action: 'secretsmanager:DeleteSecret' })), 'NotApplicable');
    assert.equal(decisionOf(policy, request({ action: 'KMS:schedulekeydeletion' })), 'NotApplicable');
  });

  it('NotResource matches every resource but the listed ones', () => {
    const policy = policyOf({ Effect: 'Deny', Action: ['*'], NotResource: ['arn:aws:secretsmanager:*:*:secret:dev/*'] });
    assert.equal(decisionOf(policy, request()), 'Deny');
    assert.equal(decisionOf(policy, request({ resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dev/a-AbCdEf' })), 'NotApplicable');
  });

  it('NotPrincipal applies to everyone not listed, directly or through their account', () => {
    const policy = policyOf({ Effect: 'Deny', NotPrincipal: { AWS: [ALICE.arn] }, Action: ['*'], Resource: ['*'] });
    assert.equal(decisionOf(policy, request()), 'NotApplicable');
    assert.equal(decisionOf(policy, request({ principal: BOB_OTHER_ACCOUNT })), 'Deny');
    const byAccount = policyOf({ Effect: 'Deny', NotPrincipal: { AWS: ['111122223333'] }, Action: ['*'], Resource: ['*'] });
    assert.equal(decisionOf(byAccount, request()), 'NotApplicable');
    assert.equal(decisionOf(byAccount, request({ principal: BOB_OTHER_ACCOUNT })), 'Deny');
  });

  it('a statement without Resource or Action matches nothing', () => {
    assert.equal(decisionOf(policyOf({ Effect: 'Allow', Action: ['*'] }), request()), 'NotApplicable');
    assert.equal(decisionOf(policyOf({ Effect: 'Allow', Resource: ['*'] }), request()), 'NotApplicable');
  });

  it('fills aws:PrincipalArn and aws:PrincipalAccount from the principal', () => {
    const policy = policyOf({
      Effect: 'Allow', Action: ['*'], Resource: ['*'],
      Condition: { StringEquals: { 'aws:PrincipalAccount': ['111122223333'] }, ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:user/al*'] } },
    });
    assert.equal(decisionOf(policy, request()), 'Allow');
    assert.equal(decisionOf(policy, request({ principal: BOB_OTHER_ACCOUNT })), 'NotApplicable');
  });

  it('evaluates many policies at once, one result each, in order', () => {
    const allow = policyOf({ Effect: 'Allow', Action: ['*'], Resource: ['*'] });
    const deny = policyOf({ Effect: 'Deny', Action: ['*'], Resource: ['*'] });
    const none = policyOf({ Effect: 'Allow', Action: ['kms:*'], Resource: ['*'] });
    assert.deepEqual(evaluate([allow, deny, none], request()).map((result) => result.decision), ['Allow', 'Deny', 'NotApplicable']);
  });

  it('compiles once and evaluates many times', () => {
    const compiled = compilePolicyText('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:app":"web"}}}]}');
    assert.ok(compiled.policy);
    for (let i = 0; i < 1000; i += 1) {
      const app = i % 2 === 0 ? 'web' : 'batch';
      const [result] = evaluate([compiled.policy], request({ action: 'kms:Decrypt', resource: KEY, context: { 'kms:EncryptionContext:app': app } }));
      assert.equal(result!.decision, app === 'web' ? 'Allow' : 'NotApplicable');
    }
  });
});

describe('decide()', () => {
  const allow: PolicyEvaluation = { decision: 'Allow', allowedVia: 'principal', statements: ['#0'] };
  const allowViaAccount: PolicyEvaluation = { decision: 'Allow', allowedVia: 'account', statements: ['#0'] };
  const deny: PolicyEvaluation = { decision: 'Deny', allowedVia: undefined, statements: ['#0'] };
  const none: PolicyEvaluation = { decision: 'NotApplicable', allowedVia: undefined, statements: [] };
  const same = { principalAccount: '111122223333', resourceAccount: '111122223333' };
  const cross = { principalAccount: '444455556666', resourceAccount: '111122223333' };

  type Row = [name: string, identity: PolicyEvaluation[], resource: PolicyEvaluation | undefined, accounts: typeof same, kind: 'resource-policy' | 'key-policy', expected: string];
  const rows: Row[] = [
    // "If either the identity-based policy or the resource-based policy within the same account allows the
    // request and the other doesn't, the request is still allowed."
    ['same account: identity allow alone', [allow], undefined, same, 'resource-policy', 'Allow/Allowed'],
    ['same account: resource allow alone', [none], allow, same, 'resource-policy', 'Allow/Allowed'],
    ['same account: nothing allows', [none], none, same, 'resource-policy', 'Deny/ImplicitDeny'],
    ['same account: no policies at all', [], undefined, same, 'resource-policy', 'Deny/ImplicitDeny'],
    ['same account: a resource policy naming only the account delegates to IAM', [none], allowViaAccount, same, 'resource-policy', 'Deny/ImplicitDeny'],
    ['same account: identity deny beats resource allow', [deny], allow, same, 'resource-policy', 'Deny/ExplicitDeny'],
    ['same account: resource deny beats identity allow', [allow], deny, same, 'resource-policy', 'Deny/ExplicitDeny'],
    ['same account: one deny among several identity allows', [allow, deny, allow], undefined, same, 'resource-policy', 'Deny/ExplicitDeny'],
    // "The request is allowed only if both evaluations return true."
    ['cross account: both allow', [allow], allow, cross, 'resource-policy', 'Allow/Allowed'],
    ['cross account: resource allows the account, identity allows', [allow], allowViaAccount, cross, 'resource-policy', 'Allow/Allowed'],
    ['cross account: identity allow only', [allow], none, cross, 'resource-policy', 'Deny/ImplicitDeny'],
    ['cross account: identity allow, no resource policy', [allow], undefined, cross, 'resource-policy', 'Deny/ImplicitDeny'],
    ['cross account: resource allow only', [none], allow, cross, 'resource-policy', 'Deny/ImplicitDeny'],
    ['cross account: deny wins', [allow], deny, cross, 'resource-policy', 'Deny/ExplicitDeny'],
    // KMS: the key policy must allow directly or delegate through the account root.
    ['key: key policy names the caller', [none], allow, same, 'key-policy', 'Allow/Allowed'],
    ['key: root delegation plus IAM allow', [allow], allowViaAccount, same, 'key-policy', 'Allow/Allowed'],
    ['key: root delegation without IAM allow', [none], allowViaAccount, same, 'key-policy', 'Deny/ImplicitDeny'],
    ['key: IAM allow without key policy allow', [allow], none, same, 'key-policy', 'Deny/ImplicitDeny'],
    ['key: IAM allow and no key policy', [allow], undefined, same, 'key-policy', 'Deny/ImplicitDeny'],
    ['key: cross account, key policy names the external account, IAM allows', [allow], allowViaAccount, cross, 'key-policy', 'Allow/Allowed'],
    ['key: cross account, key policy names the external user, IAM silent', [none], allow, cross, 'key-policy', 'Deny/ImplicitDeny'],
    ['key: cross account, key policy names the external user, IAM allows', [allow], allow, cross, 'key-policy', 'Allow/Allowed'],
    ['key: deny in the key policy wins', [allow], deny, same, 'key-policy', 'Deny/ExplicitDeny'],
  ];
  for (const [name, identityPolicies, resourcePolicy, accounts, resourceKind, expected] of rows) {
    it(name, () => {
      const result = decide({ identityPolicies, resourcePolicy, ...accounts, resourceKind });
      assert.equal(`${result.decision}/${result.reason}`, expected);
    });
  }

  it('end to end: a default key policy delegates to IAM; a reader policy then allows Decrypt', () => {
    // The default key policy: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    const keyPolicy = compilePolicyText(JSON.stringify({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }],
    })).policy!;
    const reader = compilePolicyText(JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: 'arn:aws:kms:us-east-1:111122223333:key/*' }],
    })).policy!;
    const decrypt = request({ action: 'kms:Decrypt', resource: KEY });
    const [identity] = evaluate([reader], decrypt);
    const [key] = evaluate([keyPolicy], decrypt);
    assert.equal(decide({ identityPolicies: [identity!], resourcePolicy: key, ...same, resourceKind: 'key-policy' }).decision, 'Allow');
    const encrypt = request({ action: 'kms:Encrypt', resource: KEY });
    const [identity2] = evaluate([reader], encrypt);
    const [key2] = evaluate([keyPolicy], encrypt);
    assert.equal(decide({ identityPolicies: [identity2!], resourcePolicy: key2, ...same, resourceKind: 'key-policy' }).decision, 'Deny');
  });
});
