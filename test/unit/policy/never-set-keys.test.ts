/**
 * A condition on a key Coffer never sets is a trap: validate names it (CONDITION_KEY_NEVER_SET), as a security
 * warning when it opens access. The keys checkAccess does set never trip it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAccess, compilePolicyText, validatePolicy, type CompiledPolicy, type PolicyFinding } from '../../../src/policy/index.js';

function findings(statement: object): PolicyFinding[] {
  return validatePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [statement] }), 'IDENTITY_POLICY').filter(
    (finding) => finding.IssueCode === 'CONDITION_KEY_NEVER_SET',
  );
}

const statement = (effect: 'Allow' | 'Deny', action: string | string[], condition: object) => ({ Effect: effect, Action: action, Resource: '*', Condition: condition });

describe('conditions on keys Coffer never sets', () => {
  it('a Deny that therefore never applies is a security warning naming the key and where it is', () => {
    const [finding, ...rest] = findings(statement('Deny', 'secretsmanager:GetSecretValue', { StringEquals: { 'aws:SourceVpc': 'vpc-1' } }));
    assert.equal(rest.length, 0);
    assert.equal(finding?.FindingType, 'SECURITY_WARNING');
    assert.match(finding!.FindingDetails, /aws:SourceVpc.*this Deny never applies/);
    assert.deepEqual(finding!.Location?.Path, [{ Value: 'Statement' }, { Index: 0 }, { Value: 'Condition' }, { Value: 'StringEquals' }, { Value: 'aws:SourceVpc' }]);
  });

  it('an Allow the condition does not limit is a security warning; one that never applies a warning', () => {
    assert.equal(findings(statement('Allow', '*', { StringNotEquals: { 'aws:PrincipalOrgID': 'o-1' } }))[0]?.FindingType, 'SECURITY_WARNING');
    assert.equal(findings(statement('Allow', '*', { StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-1' } }))[0]?.FindingType, 'SECURITY_WARNING');
    assert.equal(findings(statement('Allow', '*', { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } }))[0]?.FindingType, 'WARNING');
    assert.equal(findings(statement('Deny', '*', { Null: { 'aws:SourceVpc': 'true' } }))[0]?.FindingType, 'WARNING');
    assert.equal(findings(statement('Deny', '*', { Null: { 'aws:SourceVpc': 'false' } }))[0]?.FindingType, 'SECURITY_WARNING');
  });

  it('depends on the statement\'s actions: a key of another service, or of another operation, is never set', () => {
    assert.equal(findings(statement('Deny', 'secretsmanager:GetSecretValue', { StringEquals: { 'kms:ViaService': 'x' } })).length, 1);
    assert.equal(findings(statement('Deny', 'secretsmanager:GetSecretValue', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'x' } })).length, 1);
    assert.equal(findings(statement('Deny', 'secretsmanager:TagResource', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'x' } })).length, 0);
    assert.equal(findings(statement('Deny', ['secretsmanager:Get*', 'kms:Decrypt'], { StringEquals: { 'kms:ViaService': 'x' } })).length, 0);
    assert.equal(findings(statement('Deny', 'secretsmanager:*', { StringEquals: { 'secretsmanager:VersionStage': 'x' } })).length, 0);
    assert.equal(findings({ Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': 'x' } } }).length, 0);
  });

  it('no finding for any key checkAccess sets, in any case', () => {
    const keys = [
      'aws:CurrentTime', 'aws:EpochTime', 'aws:SourceIp', 'aws:SecureTransport', 'aws:RequestedRegion', 'aws:ResourceAccount',
      'aws:PrincipalArn', 'aws:PrincipalAccount', 'aws:PrincipalType', 'aws:PrincipalIsAWSService', 'aws:PrincipalTag/team',
      'aws:userid', 'AWS:UserName', 'aws:TokenIssueTime', 'aws:MultiFactorAuthPresent', 'aws:ViaAWSService', 'aws:CalledVia',
      'aws:CalledViaFirst', 'aws:CalledViaLast', 'aws:ResourceTag/env', 'kms:CallerAccount', 'kms:EncryptionContext:purpose',
      'aws:SourceIdentity',
    ];
    const condition = { 'ForAnyValue:StringLike': Object.fromEntries(keys.map((key) => [key, '*'])) };
    assert.deepEqual(findings(statement('Deny', ['secretsmanager:GetSecretValue', 'kms:Decrypt'], condition)), []);
  });

  it('the catalog agrees with checkAccess: each key it lists for every action is in the request context of a session', () => {
    // A Deny per key with Null "false" (the key is present) stops a role session's request only if checkAccess set it.
    const present = ['aws:CurrentTime', 'aws:EpochTime', 'aws:SourceIp', 'aws:SecureTransport', 'aws:RequestedRegion', 'aws:ResourceAccount',
      'aws:PrincipalArn', 'aws:PrincipalAccount', 'aws:PrincipalType', 'aws:PrincipalIsAWSService', 'aws:userid', 'aws:TokenIssueTime',
      'aws:MultiFactorAuthPresent', 'aws:ViaAWSService', 'aws:SourceIdentity'];
    const session = {
      principal: { arn: 'arn:aws:sts::111111111111:assumed-role/app/s', accountId: '111111111111', roleArn: 'arn:aws:iam::111111111111:role/app' },
      unrestricted: false,
      policies: [] as CompiledPolicy[],
      tags: {},
      principalType: 'AssumedRole' as const,
      userId: 'AROAEXAMPLE:s',
      sourceIdentity: 'alice',
    };
    const facts = { currentTime: new Date(), sourceIp: '127.0.0.1', region: 'us-east-1', secureTransport: false, tokenIssuedAt: new Date() };
    for (const key of present) {
      const deny = compilePolicyText(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Null: { [key]: 'false' } } }] }));
      const decision = checkAccess({ ...session, policies: [deny.policy!] }, { action: 'secretsmanager:GetSecretValue', resource: '*', resourceAccount: '111111111111' }, facts);
      assert.equal(decision.allowed, false, key);
    }
  });
});
