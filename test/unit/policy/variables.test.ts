/**
 * Policy variables, as AWS substitutes them.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, compilePolicyText, type CompiledPolicy, type RequestContextValues } from '../../../src/policy/index.js';

const ALICE = 'arn:aws:iam::111111111111:user/alice';

function policy(statement: object, version: string | null = '2012-10-17'): CompiledPolicy {
  const result = compilePolicyText(JSON.stringify({ ...(version ? { Version: version } : {}), Statement: [statement] }));
  assert.ok(result.policy, JSON.stringify(result.findings));
  return result.policy;
}

function decision(compiled: CompiledPolicy, resource: string, context: RequestContextValues): string {
  return evaluate([compiled], { principal: { arn: ALICE, accountId: '111111111111' }, action: 'secretsmanager:GetSecretValue', resource, context })[0]!.decision;
}

const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:111111111111:secret:${name}`;

describe('policy variables in Resource', () => {
  const own = policy({ Effect: 'Allow', Action: 'secretsmanager:*', Resource: 'arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*' });

  it('are replaced by the caller\'s value', () => {
    assert.equal(decision(own, secret('home/alice/db-AbCdEf'), { 'aws:username': 'alice' }), 'Allow');
    assert.equal(decision(own, secret('home/bob/db-AbCdEf'), { 'aws:username': 'alice' }), 'NotApplicable');
  });

  it('never match as literal text, and match no resource when the key is absent', () => {
    assert.equal(decision(own, secret('home/${aws:username}/db-AbCdEf'), { 'aws:username': 'alice' }), 'NotApplicable');
    assert.equal(decision(own, secret('home/${aws:username}/db-AbCdEf'), {}), 'NotApplicable');
  });

  it('take the default value when the key is absent', () => {
    const team = policy({ Effect: 'Allow', Action: '*', Resource: "arn:aws:secretsmanager:*:*:secret:team-${aws:PrincipalTag/team, 'company-wide'}" });
    assert.equal(decision(team, secret('team-company-wide'), {}), 'Allow');
    assert.equal(decision(team, secret('team-yellow'), { 'aws:PrincipalTag/team': 'yellow' }), 'Allow');
    assert.equal(decision(team, secret('team-company-wide'), { 'aws:PrincipalTag/team': 'yellow' }), 'NotApplicable');
  });

  it('a substituted value is literal: its * is not a wildcard', () => {
    const tagged = policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/prefix}' });
    assert.equal(decision(tagged, secret('anything'), { 'aws:PrincipalTag/prefix': '*' }), 'NotApplicable');
    assert.equal(decision(tagged, secret('*'), { 'aws:PrincipalTag/prefix': '*' }), 'Allow');
  });

  it('${*}, ${?} and ${$} stand for the characters themselves', () => {
    const special = policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:secretsmanager:*:*:secret:a${*}b${?}c${$}d' });
    assert.equal(decision(special, secret('a*b?c$d'), {}), 'Allow');
    assert.equal(decision(special, secret('aXXbYc$d'), {}), 'NotApplicable');
  });

  it('a multivalued key is no variable', () => {
    const keys = policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:secretsmanager:*:*:secret:${aws:TagKeys}' });
    assert.equal(decision(keys, secret('a'), { 'aws:TagKeys': ['a'] }), 'NotApplicable');
  });

  it('a NotResource entry with an absent variable excludes nothing', () => {
    const deny = policy({ Effect: 'Deny', Action: '*', NotResource: 'arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*' });
    assert.equal(decision(deny, secret('home/alice/x'), { 'aws:username': 'alice' }), 'NotApplicable');
    assert.equal(decision(deny, secret('home/alice/x'), {}), 'Deny');
  });

  it('are literal text in a policy without Version 2012-10-17', () => {
    const old = policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:secretsmanager:*:*:secret:${aws:username}' }, null);
    assert.equal(decision(old, secret('alice'), { 'aws:username': 'alice' }), 'NotApplicable');
    assert.equal(decision(old, secret('${aws:username}'), { 'aws:username': 'alice' }), 'Allow');
  });
});

describe('policy variables in conditions', () => {
  const denyOthers = policy({
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { StringNotEquals: { 'secretsmanager:ResourceTag/owner': '${aws:username}' } },
  });

  it('StringNotEquals with a variable compares with the caller\'s value', () => {
    assert.equal(decision(denyOthers, secret('x'), { 'aws:username': 'alice', 'secretsmanager:ResourceTag/owner': 'alice' }), 'NotApplicable');
    assert.equal(decision(denyOthers, secret('x'), { 'aws:username': 'alice', 'secretsmanager:ResourceTag/owner': 'bob' }), 'Deny');
  });

  it('a negated operator matches a variable with no value ("do match against a null value")', () => {
    assert.equal(decision(denyOthers, secret('x'), { 'secretsmanager:ResourceTag/owner': '${aws:username}' }), 'Deny');
  });

  it('a positive operator does not match a variable with no value', () => {
    const allowOwn = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': '${aws:ResourceTag/team}' } } });
    assert.equal(decision(allowOwn, secret('x'), { 'aws:PrincipalTag/team': 'a', 'aws:ResourceTag/team': 'a' }), 'Allow');
    assert.equal(decision(allowOwn, secret('x'), { 'aws:PrincipalTag/team': '${aws:ResourceTag/team}' }), 'NotApplicable');
  });

  it('StringLike keeps the policy\'s wildcards and treats the value literally; ArnLike substitutes too', () => {
    const like = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringLike: { 'secretsmanager:Name': 'app/${aws:username}/*' } } });
    assert.equal(decision(like, secret('x'), { 'aws:username': 'alice', 'secretsmanager:Name': 'app/alice/db' }), 'Allow');
    assert.equal(decision(like, secret('x'), { 'aws:username': 'a?ice', 'secretsmanager:Name': 'app/alice/db' }), 'NotApplicable');
    const arn = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { ArnEquals: { 'aws:SourceArn': '${aws:PrincipalArn}' } } });
    assert.equal(decision(arn, secret('x'), { 'aws:PrincipalArn': ALICE, 'aws:SourceArn': ALICE }), 'Allow');
  });

  it('key names in variables are case-insensitive, and the one substitution round does not recurse', () => {
    const upper = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'secretsmanager:Name': '${AWS:UserName}' } } });
    assert.equal(decision(upper, secret('x'), { 'aws:username': 'alice', 'secretsmanager:Name': 'alice' }), 'Allow');
    assert.equal(decision(upper, secret('x'), { 'aws:username': '${aws:userid}', 'aws:userid': 'AIDA', 'secretsmanager:Name': 'AIDA' }), 'NotApplicable');
  });

  it('a quote in a default value is written twice', () => {
    const quoted = policy({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'secretsmanager:Name': "${aws:username, 'it''s'}" } } });
    assert.equal(decision(quoted, secret('x'), { 'secretsmanager:Name': "it's" }), 'Allow');
  });
});
