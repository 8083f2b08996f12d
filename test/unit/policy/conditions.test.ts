/**
 * Condition operator tables, one block per family, following
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * ("If the key that you specify in a policy condition is not present in the request context, the values do not
 * match and the condition is false. If the policy condition requires that the key is not matched, such as
 * StringNotLike or ArnNotLike, and the right key is not present, the condition is true.")
 * and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildKeyTest, parseOperator } from '../../../src/policy/conditions/registry.js';
import { compilePolicyText, evaluate, type AuthorizationRequest } from '../../../src/policy/index.js';

type Case = readonly [operator: string, policyValues: string | readonly string[], context: string | readonly string[] | undefined, expected: boolean];

function holds(operatorName: string, policyValues: string | readonly string[], context: string | readonly string[] | undefined): boolean {
  const operator = parseOperator(operatorName);
  assert.ok(!('issue' in operator), `operator ${operatorName} should be known`);
  const test = buildKeyTest(operator, typeof policyValues === 'string' ? [policyValues] : policyValues);
  assert.equal(typeof test, 'function', `values for ${operatorName} should be valid: ${String(test)}`);
  if (typeof test === 'string') throw new Error(test);
  return test(typeof context === 'string' ? [context] : context);
}

function runTable(cases: readonly Case[]): void {
  for (const [operator, policyValues, context, expected] of cases) {
    it(`${operator} ${JSON.stringify(policyValues)} against ${JSON.stringify(context)} is ${expected}`, () => {
      assert.equal(holds(operator, policyValues, context), expected);
    });
  }
}

describe('string operators', () => {
  runTable([
    ['StringEquals', 'prod', 'prod', true],
    ['StringEquals', 'prod', 'Prod', false],
    ['StringEquals', ['dev', 'prod'], 'prod', true],
    ['StringEquals', 'prod', undefined, false],
    ['StringNotEquals', 'prod', 'dev', true],
    ['StringNotEquals', 'prod', 'prod', false],
    ['StringNotEquals', ['dev', 'prod'], 'prod', false],
    ['StringNotEquals', 'prod', undefined, true],
    ['StringEqualsIgnoreCase', 'PROD', 'prod', true],
    ['StringEqualsIgnoreCase', 'PROD', 'dev', false],
    ['StringNotEqualsIgnoreCase', 'PROD', 'prod', false],
    ['StringNotEqualsIgnoreCase', 'PROD', 'dev', true],
    ['StringLike', 'prod/myapp/*', 'prod/myapp/db', true],
    ['StringLike', 'prod/myapp/*', 'prod/other/db', false],
    ['StringLike', 'prod/?', 'prod/a', true],
    ['StringLike', 'prod/?', 'prod/ab', false],
    ['StringLike', 'Prod/*', 'prod/a', false],
    ['StringLike', 'a.b', 'axb', false],
    ['StringNotLike', 'prod/*', 'dev/x', true],
    ['StringNotLike', 'prod/*', 'prod/x', false],
    ['StringNotLike', 'prod/*', undefined, true],
    ['StringLike', '${aws:username}', '${aws:username}', true],
  ]);
});

describe('numeric operators', () => {
  runTable([
    ['NumericEquals', '10', '10', true],
    ['NumericEquals', '10', '10.0', true],
    ['NumericEquals', '10', '11', false],
    ['NumericNotEquals', '10', '11', true],
    ['NumericNotEquals', '10', '10', false],
    ['NumericNotEquals', '10', undefined, true],
    ['NumericLessThan', '10', '9', true],
    ['NumericLessThan', '10', '10', false],
    ['NumericLessThanEquals', '10', '10', true],
    ['NumericGreaterThan', '10', '10.5', true],
    ['NumericGreaterThan', '10', '-1', false],
    ['NumericGreaterThanEquals', '10', '10', true],
    ['NumericGreaterThanEquals', '10', 'ten', false],
    ['NumericLessThan', '10', undefined, false],
  ]);
});

describe('date operators (ISO 8601 and epoch seconds)', () => {
  runTable([
    ['DateLessThan', '2026-12-31T23:59:59Z', '2026-11-23T18:00:00Z', true],
    ['DateLessThan', '2026-12-31T23:59:59Z', '2027-01-01T00:00:00Z', false],
    ['DateGreaterThan', '2026-01-01', '2026-11-23T18:00:00Z', true],
    ['DateEquals', '2026-11-23T18:00:00Z', '1795456800', true],
    ['DateEquals', '1795456800', '2026-11-23T18:00:00.000Z', true],
    ['DateNotEquals', '2026-11-23T18:00:00Z', '2026-11-23T18:00:01Z', true],
    ['DateNotEquals', '2026-11-23T18:00:00Z', undefined, true],
    ['DateLessThanEquals', '2026-11-23T18:00:00Z', '2026-11-23T18:00:00Z', true],
    ['DateGreaterThanEquals', '2026-11-23T18:00:00Z', '2026-11-23T17:59:59Z', false],
    ['DateGreaterThanEquals', '2026-11-23T18:00:00+01:00', '2026-11-23T17:00:00Z', true],
    ['DateLessThan', '2026-12-31', 'not a date', false],
    // A time without a zone is UTC, whatever the server's time zone.
    ['DateEquals', '2026-11-23T18:00:00', '2026-11-23T18:00:00Z', true],
    ['DateEquals', '2026-11-23 18:00:00', '1795456800', true],
  ]);
});

describe('Bool', () => {
  runTable([
    ['Bool', 'true', 'true', true],
    ['Bool', 'true', 'TRUE', true],
    ['Bool', 'true', 'false', false],
    ['Bool', 'false', undefined, false],
    ['BoolIfExists', 'false', undefined, true],
    ['BoolIfExists', 'false', 'true', false],
  ]);
});

describe('ARN operators', () => {
  const secret = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf';
  runTable([
    ['ArnEquals', secret, secret, true],
    ['ArnLike', 'arn:aws:secretsmanager:*:111122223333:secret:prod/*', secret, true],
    ['ArnLike', 'arn:aws:secretsmanager:us-east-?:111122223333:secret:*', secret, true],
    ['ArnLike', 'arn:aws:secretsmanager:us-east-1:444455556666:secret:*', secret, false],
    // A wildcard stays inside its ARN part: it cannot swallow the colons between region and account.
    ['ArnLike', 'arn:aws:secretsmanager:*:secret:*', secret, false],
    ['ArnLike', 'arn:aws:SecretsManager:*:*:secret:*', secret, false],
    ['ArnEquals', 'arn:aws:secretsmanager:*:*:secret:*', secret, true],
    ['ArnNotLike', 'arn:aws:secretsmanager:*:*:secret:dev/*', secret, true],
    ['ArnNotLike', 'arn:aws:secretsmanager:*:*:secret:prod/*', secret, false],
    ['ArnNotEquals', secret, undefined, true],
    ['ArnLike', 'arn:aws:iam::*:role/*', 'not-an-arn', false],
  ]);
});

describe('IpAddress / NotIpAddress', () => {
  runTable([
    ['IpAddress', '203.0.113.0/24', '203.0.113.7', true],
    ['IpAddress', '203.0.113.0/24', '203.0.114.7', false],
    ['IpAddress', '203.0.113.7', '203.0.113.7', true],
    ['IpAddress', ['10.0.0.0/8', '192.168.0.0/16'], '192.168.4.4', true],
    ['IpAddress', '2001:db8::/32', '2001:db8:1::1', true],
    ['IpAddress', '2001:db8::/32', '2001:db9::1', false],
    ['IpAddress', '203.0.113.0/24', '2001:db8::1', false],
    ['IpAddress', '0.0.0.0/0', '127.0.0.1', true],
    ['IpAddress', '203.0.113.0/24', 'garbage', false],
    ['NotIpAddress', '203.0.113.0/24', '198.51.100.1', true],
    ['NotIpAddress', '203.0.113.0/24', '203.0.113.1', false],
    ['NotIpAddress', '203.0.113.0/24', undefined, true],
    ['IpAddressIfExists', '203.0.113.0/24', undefined, true],
  ]);
});

describe('Null', () => {
  runTable([
    ['Null', 'true', undefined, true],
    ['Null', 'true', [], true],
    ['Null', 'true', 'x', false],
    ['Null', 'false', 'x', true],
    ['Null', 'false', undefined, false],
  ]);
});

describe('...IfExists', () => {
  runTable([
    ['StringEqualsIfExists', 'prod', undefined, true],
    ['StringEqualsIfExists', 'prod', 'prod', true],
    ['StringEqualsIfExists', 'prod', 'dev', false],
    ['StringNotEqualsIfExists', 'prod', undefined, true],
    ['StringNotEqualsIfExists', 'prod', 'prod', false],
    ['NumericLessThanIfExists', '5', undefined, true],
    ['NumericLessThanIfExists', '5', '6', false],
    ['ArnLikeIfExists', 'arn:aws:iam::*:role/*', undefined, true],
    ['DateLessThanIfExists', '2026-01-01', undefined, true],
  ]);
});

describe('ForAnyValue / ForAllValues', () => {
  runTable([
    // ForAllValues: true when every request value matches one of the policy values; "It also returns true if
    // there are no context keys in the request."
    ['ForAllValues:StringEquals', ['a', 'b', 'c'], ['a', 'b'], true],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'z'], false],
    ['ForAllValues:StringEquals', ['a'], undefined, true],
    ['ForAllValues:StringEquals', ['a'], [], true],
    ['ForAllValues:StringLike', 'Created*', ['CreatedBy', 'CreatedAt'], true],
    ['ForAllValues:StringNotEquals', ['secret'], ['a', 'b'], true],
    ['ForAllValues:StringNotEquals', ['secret'], ['a', 'secret'], false],
    // ForAnyValue: at least one request value matches; an absent key is false (even with IfExists).
    ['ForAnyValue:StringEquals', ['a', 'b'], ['z', 'b'], true],
    ['ForAnyValue:StringEquals', ['a', 'b'], ['y', 'z'], false],
    ['ForAnyValue:StringEquals', ['a'], undefined, false],
    ['ForAnyValue:StringEquals', ['a'], [], false],
    ['ForAnyValue:StringEqualsIfExists', ['a'], undefined, false],
    ['ForAnyValue:StringNotEquals', ['a'], ['a', 'b'], true],
    ['ForAnyValue:StringNotEquals', ['a'], ['a'], false],
    ['ForAnyValue:StringNotEquals', ['a'], undefined, false],
    ['ForAnyValue:StringLike', ['kms:*'], ['Decrypt', 'kms:Encrypt'], true],
    // Without a set operator, a multivalued key: a positive operator needs one value, a negated one none.
    ['StringEquals', 'b', ['a', 'b'], true],
    ['StringNotEquals', 'b', ['a', 'b'], false],
  ]);
});

describe('operator names', () => {
  const known = [
    'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
    'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
    'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
    'Bool', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'IpAddress', 'NotIpAddress', 'Null',
    'ForAnyValue:StringLike', 'ForAllValues:ArnLikeIfExists',
  ];
  it('knows every documented operator, with prefixes and suffix', () => {
    for (const name of known) assert.ok(!('issue' in parseOperator(name)), name);
  });
  it('refuses unknown names, Null with IfExists and doubled prefixes', () => {
    assert.deepEqual(parseOperator('StringEqualz'), { issue: 'INVALID_CONDITION_OPERATOR', message: 'The condition operator StringEqualz is not valid.' });
    assert.equal((parseOperator('NullIfExists') as { issue: string }).issue, 'NULL_WITH_IF_EXISTS');
    assert.ok('issue' in parseOperator('ForAnyValue:Null'));
    assert.ok('issue' in parseOperator('ForAnyValue:ForAllValues:StringEquals'));
    assert.ok('issue' in parseOperator('stringequals'));
  });
  it('refuses malformed policy values per family', () => {
    const bad: [string, string][] = [
      ['NumericEquals', 'ten'], ['DateLessThan', 'tomorrow'], ['Bool', 'yes'], ['IpAddress', '10.0.0.0/33'],
      ['IpAddress', '300.1.1.1'], ['Null', 'maybe'],
    ];
    for (const [name, value] of bad) {
      const operator = parseOperator(name);
      if ('issue' in operator) assert.fail(name);
      assert.equal(typeof buildKeyTest(operator, [value]), 'string', `${name} ${value}`);
    }
  });
});

describe('conditions inside a statement', () => {
  const request = (context: AuthorizationRequest['context']): AuthorizationRequest => ({
    principal: { arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
    action: 'secretsmanager:GetSecretValue',
    resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf',
    context,
  });
  const compiled = compilePolicyText(JSON.stringify({
    Version: '2012-10-17',
    Statement: {
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalTag/Team': 'payments', 'secretsmanager:ResourceTag/Env': ['prod', 'staging'] },
        IpAddress: { 'aws:SourceIp': '10.0.0.0/8' },
      },
    },
  }));
  const policy = compiled.policy!;
  const decision = (context: AuthorizationRequest['context']) => evaluate([policy], request(context))[0]!.decision;

  it('ANDs keys and operators, ORs the values of one key', () => {
    assert.equal(decision({ 'aws:PrincipalTag/Team': 'payments', 'secretsmanager:ResourceTag/Env': 'staging', 'aws:SourceIp': '10.1.2.3' }), 'Allow');
    assert.equal(decision({ 'aws:PrincipalTag/Team': 'payments', 'secretsmanager:ResourceTag/Env': 'dev', 'aws:SourceIp': '10.1.2.3' }), 'NotApplicable');
    assert.equal(decision({ 'aws:PrincipalTag/Team': 'payments', 'secretsmanager:ResourceTag/Env': 'prod', 'aws:SourceIp': '192.0.2.1' }), 'NotApplicable');
    assert.equal(decision({ 'secretsmanager:ResourceTag/Env': 'prod', 'aws:SourceIp': '10.1.2.3' }), 'NotApplicable');
  });

  it('reads context key names case-insensitively but keeps values case-sensitive', () => {
    // "Context key names are not case-sensitive." https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    assert.equal(decision({ 'AWS:PRINCIPALTAG/TEAM': 'payments', 'SecretsManager:resourcetag/env': 'prod', 'aws:sourceip': '10.0.0.1' }), 'Allow');
    assert.equal(decision({ 'aws:PrincipalTag/Team': 'Payments', 'secretsmanager:ResourceTag/Env': 'prod', 'aws:SourceIp': '10.0.0.1' }), 'NotApplicable');
  });

  it('compares booleans and numbers from the context as strings', () => {
    const boolPolicy = compilePolicyText(JSON.stringify({
      Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': true }, NumericLessThan: { 'secretsmanager:RecoveryWindowInDays': 10 } } },
    })).policy!;
    assert.equal(evaluate([boolPolicy], request({ 'aws:SecureTransport': true, 'secretsmanager:RecoveryWindowInDays': 7 }))[0]!.decision, 'Allow');
    assert.equal(evaluate([boolPolicy], request({ 'aws:SecureTransport': false, 'secretsmanager:RecoveryWindowInDays': 7 }))[0]!.decision, 'NotApplicable');
  });
});
