/**
 * Policy simulation's pure parts: statement positions in the text, context key names as written, and
 * simulateAccess agreeing with checkAccess while explaining it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAccess, compilePolicyText, contextKeyNames, simulateAccess, statementPositions, type PrincipalPolicies } from '../../../src/policy/index.js';

const ALICE = 'arn:aws:iam::111111111111:user/alice';
const SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf';
const facts = { currentTime: new Date('2026-01-01T00:00:00Z') };

function compiled(text: string) {
  const result = compilePolicyText(text);
  assert.ok(result.policy, JSON.stringify(result.findings));
  return result.policy;
}

function alice(texts: string[]): PrincipalPolicies {
  return {
    principal: { arn: ALICE, accountId: '111111111111' },
    unrestricted: false,
    policies: texts.map(compiled),
    tags: {},
    principalType: 'User',
    userName: 'alice',
    sources: texts.map((text, index) => ({ id: `p${index}`, type: 'user', text })),
  };
}

describe('statementPositions', () => {
  it('gives each statement’s opening brace and the column past its closing brace, 1-based', () => {
    const text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", "Action": "a:b", "Resource": "*"},\n    {\n      "Effect": "Deny",\n      "Action": "a:c",\n      "Resource": "*"\n    }\n  ]\n}';
    assert.deepEqual(statementPositions(text), [
      { start: { Line: 4, Column: 5 }, end: { Line: 4, Column: 58 } },
      { start: { Line: 5, Column: 5 }, end: { Line: 9, Column: 6 } },
    ]);
  });

  it('a single Statement object is one span; strings holding braces and quotes do not confuse it', () => {
    const text = '{"Id": "x{\\"}", "Statement": {"Effect": "Allow", "Action": "a:b", "Resource": "arn:x:}"}}';
    assert.deepEqual(statementPositions(text), [{ start: { Line: 1, Column: 30 }, end: { Line: 1, Column: 89 } }]);
    assert.deepEqual(statementPositions('not json'), []);
  });
});

describe('contextKeyNames', () => {
  it('lists condition keys and policy variables once each, as first written', () => {
    const text = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::${aws:username}/*', Condition: { StringEquals: { 'aws:PrincipalTag/Team': '${aws:PrincipalTag/Team}' } } },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'AWS:SecureTransport': 'false' }, StringLike: { 'aws:USERNAME': 'x' } } },
      ],
    });
    assert.deepEqual(contextKeyNames(text), ['aws:username', 'aws:PrincipalTag/Team', 'AWS:SecureTransport']);
  });

  it('variables are literal text in a policy without Version 2012-10-17', () => {
    assert.deepEqual(contextKeyNames(JSON.stringify({ Statement: [{ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::${aws:username}' }] })), []);
  });
});

describe('simulateAccess', () => {
  const allow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Read', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  const deny = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'secretsmanager:*', Resource: SECRET }] });

  it('decides as checkAccess does and names the statements that decided', () => {
    for (const [texts, action] of [
      [[allow], 'secretsmanager:GetSecretValue'],
      [[allow], 'secretsmanager:DeleteSecret'],
      [[allow, deny], 'secretsmanager:GetSecretValue'],
    ] as const) {
      const identity = alice([...texts]);
      const request = { action, resource: SECRET, resourceAccount: '111111111111' };
      const simulated = simulateAccess({ identity, request, facts });
      const real = checkAccess(identity, request, facts);
      assert.equal(simulated.decision === 'allowed', real.allowed, `${action} with ${texts.length} policies`);
    }
    const denied = simulateAccess({ identity: alice([allow, deny]), request: { action: 'secretsmanager:GetSecretValue', resource: SECRET, resourceAccount: '111111111111' }, facts });
    assert.equal(denied.decision, 'explicitDeny');
    assert.deepEqual(denied.matched.map((statement) => [statement.source.id, statement.statementIndex]), [['p1', 1]]);
  });

  it('a boundary that does not allow turns an allow into an implicit deny; missing keys are reported as written', () => {
    const conditioned = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }] });
    const boundary = [{ policy: compiled(conditioned), source: { id: 'b', type: 'none' as const, text: conditioned } }];
    const result = simulateAccess({ identity: alice([allow]), request: { action: 'secretsmanager:GetSecretValue', resource: SECRET, resourceAccount: '111111111111' }, boundary, facts });
    assert.equal(result.decision, 'implicitDeny');
    assert.equal(result.allowedByBoundary, false);
    assert.deepEqual(result.missingContextKeys, ['aws:SourceIp']);
  });
});
