/**
 * validatePolicy (Access Analyzer-style findings) and isPublic (BlockPublicPolicy).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPublic, parsePolicy, validatePolicy, type PolicyDocument } from '../../../src/policy/index.js';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf';
const text = (statement: unknown, version: string | null = '2012-10-17') => JSON.stringify(version === null ? { Statement: statement } : { Version: version, Statement: statement });
const issues = (policy: string, type: 'IDENTITY_POLICY' | 'RESOURCE_POLICY') =>
  validatePolicy(policy, type).map((finding) => `${finding.FindingType}:${finding.IssueCode}`);

describe('validatePolicy', () => {
  it('reports nothing for a well-formed identity policy', () => {
    assert.deepEqual(issues(text({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET }), 'IDENTITY_POLICY'), []);
  });

  it('reports nothing for a well-formed resource policy', () => {
    const policy = text({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::444455556666:role/reader' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    assert.deepEqual(issues(policy, 'RESOURCE_POLICY'), []);
  });

  it('passes parse findings through', () => {
    assert.deepEqual(issues('{', 'IDENTITY_POLICY'), ['ERROR:JSON_SYNTAX_ERROR']);
    assert.deepEqual(issues(text({ Action: '*', Resource: '*' }), 'RESOURCE_POLICY'), ['ERROR:MISSING_EFFECT']);
  });

  const cases: [name: string, policy: string, type: 'IDENTITY_POLICY' | 'RESOURCE_POLICY', expected: string[]][] = [
    ['a resource policy needs a Principal', text({ Effect: 'Allow', Action: '*', Resource: '*' }), 'RESOURCE_POLICY', ['ERROR:MISSING_PRINCIPAL']],
    ['an identity policy may not have one', text({ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: '*', Resource: '*' }), 'IDENTITY_POLICY', ['ERROR:UNSUPPORTED_PRINCIPAL']],
    ['a missing Resource', text({ Effect: 'Allow', Action: 'kms:Decrypt' }), 'IDENTITY_POLICY', ['ERROR:MISSING_RESOURCE']],
    ['a malformed resource ARN', text({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:us-east-1' }), 'IDENTITY_POLICY', ['ERROR:INVALID_ARN_RESOURCE']],
    ['a resource that is not an ARN', text({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'my-key' }), 'IDENTITY_POLICY', ['ERROR:INVALID_ARN_RESOURCE']],
    ['a wildcard account in a resource ARN is fine', text({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:us-east-1:*:key/*' }), 'IDENTITY_POLICY', []],
    ['a bad account in a resource ARN', text({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:us-east-1:1234:key/*' }), 'IDENTITY_POLICY', ['ERROR:INVALID_ARN_ACCOUNT']],
    ['a malformed action', text({ Effect: 'Allow', Action: 'Decrypt', Resource: '*' }), 'IDENTITY_POLICY', ['ERROR:INVALID_ACTION']],
    ['a malformed principal', text({ Effect: 'Allow', Principal: { AWS: 'alice' }, Action: '*', Resource: '*' }), 'RESOURCE_POLICY', ['ERROR:INVALID_PRINCIPAL_FORMAT']],
    ['an IAM group as Principal (groups are not principals)', text({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:group/admins' }, Action: '*', Resource: '*' }), 'RESOURCE_POLICY', ['ERROR:UNSUPPORTED_PRINCIPAL']],
    ['an IAM group as NotPrincipal', text({ Effect: 'Deny', NotPrincipal: { AWS: ['111122223333', 'arn:aws:iam::111122223333:group/ops/*'] }, Action: '*', Resource: '*' }), 'RESOURCE_POLICY', ['ERROR:UNSUPPORTED_PRINCIPAL']],
    ['an empty Action list', text({ Effect: 'Allow', Action: [], Resource: '*' }), 'IDENTITY_POLICY', ['SUGGESTION:EMPTY_ARRAY_ACTION']],
    ['no Version', text({ Effect: 'Allow', Action: '*', Resource: '*' }, null), 'IDENTITY_POLICY', ['WARNING:MISSING_VERSION']],
    ['Allow with NotPrincipal', text({ Effect: 'Allow', NotPrincipal: { AWS: '111122223333' }, Action: '*', Resource: '*' }), 'RESOURCE_POLICY', ['SECURITY_WARNING:ALLOW_WITH_NOT_PRINCIPAL', 'SECURITY_WARNING:PUBLIC_ACCESS']],
    ['a public resource policy', text({ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }), 'RESOURCE_POLICY', ['SECURITY_WARNING:PUBLIC_ACCESS']],
  ];
  for (const [name, policy, type, expected] of cases) {
    it(name, () => assert.deepEqual(issues(policy, type), expected));
  }

  it('locates findings in the statement that has them', () => {
    const findings = validatePolicy(text([
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: ['*', 'not-an-arn'] },
    ]), 'IDENTITY_POLICY');
    assert.deepEqual(findings.map((finding) => finding.Location), [
      { Path: [{ Value: 'Statement' }, { Index: 1 }, { Value: 'Resource' }, { Index: 1 }] },
    ]);
  });
});

describe('isPublic', () => {
  const docOf = (statement: Record<string, unknown>): PolicyDocument => {
    const parsed = parsePolicy(text({ Action: 'secretsmanager:GetSecretValue', Resource: '*', ...statement }));
    assert.ok(parsed.document, JSON.stringify(parsed.findings));
    return parsed.document;
  };
  const cases: [name: string, statement: Record<string, unknown>, expected: boolean][] = [
    ['Principal "*"', { Effect: 'Allow', Principal: '*' }, true],
    ['Principal {AWS: "*"}', { Effect: 'Allow', Principal: { AWS: '*' } }, true],
    ['Principal {AWS: ["arn...", "*"]}', { Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::111122223333:root', '*'] } }, true],
    ['Allow with NotPrincipal', { Effect: 'Allow', NotPrincipal: { AWS: '111122223333' } }, true],
    ['a Deny with "*"', { Effect: 'Deny', Principal: '*' }, false],
    ['a named account', { Effect: 'Allow', Principal: { AWS: '111122223333' } }, false],
    ['a service principal', { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }, false],
    ['"*" limited by aws:PrincipalAccount', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } }, false],
    ['"*" limited by aws:SourceAccount', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } }, false],
    ['"*" limited by aws:SourceArn', { Effect: 'Allow', Principal: '*', Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:lambda:us-east-1:111122223333:function:rotate' } } }, false],
    ['"*" limited by aws:PrincipalOrgID (key name in any case)', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'AWS:PRINCIPALORGID': 'o-abc123' } } }, false],
    ['"*" with a wildcard-only account condition', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 'aws:PrincipalAccount': '*' } } }, true],
    ['"*" with a negated account condition', { Effect: 'Allow', Principal: '*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': '444455556666' } } }, true],
    ['"*" with an IfExists account condition', { Effect: 'Allow', Principal: '*', Condition: { StringEqualsIfExists: { 'aws:PrincipalAccount': '111122223333' } } }, true],
    ['"*" with an unrelated condition', { Effect: 'Allow', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }, true],
  ];
  for (const [name, statement, expected] of cases) {
    it(`${name} is ${expected ? 'public' : 'not public'}`, () => assert.equal(isPublic(docOf(statement)), expected));
  }
});
