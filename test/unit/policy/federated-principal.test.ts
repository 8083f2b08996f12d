/**
 * Federated principals: a web identity caller (an OIDC provider's ARN) is matched by `Principal: {Federated: …}`
 * or `*`, never by an account or an ARN under AWS; and a Federated entry matches no other caller.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-federated-web-identity
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, evaluate, parsePolicy, type PrincipalSpec, type RequestPrincipal } from '../../../src/policy/index.js';

const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com';
const FEDERATED: RequestPrincipal = { arn: PROVIDER, accountId: '111122223333', federated: PROVIDER };
const ALICE: RequestPrincipal = { arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' };

function decision(principal: PrincipalSpec, caller: RequestPrincipal, condition?: Record<string, Record<string, string[]>>) {
  const policy = compilePolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: ['sts:AssumeRoleWithWebIdentity'], Resource: ['*'], ...(condition ? { Condition: condition } : {}) }] });
  return evaluate([policy], {
    principal: caller,
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: '*',
    context: { 'token.actions.githubusercontent.com:sub': 'repo:org/app:ref:refs/heads/main' },
  })[0]!.decision;
}

describe('Federated principals', () => {
  it('a Federated entry naming the provider matches the web identity caller, and only it', () => {
    assert.equal(decision({ Federated: [PROVIDER] }, FEDERATED), 'Allow');
    assert.equal(decision({ Federated: [`${PROVIDER}-other`] }, FEDERATED), 'NotApplicable');
    assert.equal(decision({ Federated: [PROVIDER] }, ALICE), 'NotApplicable');
  });

  it('AWS account or ARN entries never match a federated caller; "*" and AWS "*" do', () => {
    assert.equal(decision({ AWS: ['111122223333'] }, FEDERATED), 'NotApplicable');
    assert.equal(decision({ AWS: ['arn:aws:iam::111122223333:root'] }, FEDERATED), 'NotApplicable');
    assert.equal(decision({ AWS: [PROVIDER] }, FEDERATED), 'NotApplicable');
    assert.equal(decision('*', FEDERATED), 'Allow');
    assert.equal(decision({ AWS: ['*'] }, FEDERATED), 'Allow');
  });

  it('conditions on the provider claim keys apply (StringEquals, StringLike)', () => {
    assert.equal(decision({ Federated: [PROVIDER] }, FEDERATED, { StringLike: { 'token.actions.githubusercontent.com:sub': ['repo:org/app:*'] } }), 'Allow');
    assert.equal(decision({ Federated: [PROVIDER] }, FEDERATED, { StringEquals: { 'token.actions.githubusercontent.com:sub': ['repo:org/other:ref:refs/heads/main'] } }), 'NotApplicable');
  });

  it('the parser accepts OIDC claim keys: host, port and path before the claim', () => {
    for (const key of ['token.actions.githubusercontent.com:sub', 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:aud', '127.0.0.1:8443/issuer:amr', 'aws:SourceIp']) {
      const parsed = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [key]: 'x' } } }] }));
      assert.equal(parsed.findings, undefined, key);
    }
    const bad = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'no colon': 'x' } } }] }));
    assert.ok(bad.findings?.some((finding) => finding.IssueCode === 'INVALID_CONDITION_KEY_FORMAT'));
  });
});
