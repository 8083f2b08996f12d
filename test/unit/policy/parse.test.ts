/**
 * parsePolicy: JSON text → document or findings, never a throw.
 * Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 * Issue codes: https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy, type PolicyFinding } from '../../../src/policy/index.js';

function codes(text: string): string[] {
  const result = parsePolicy(text);
  assert.ok(result.findings, 'expected findings');
  assert.equal(result.document, undefined);
  for (const finding of result.findings) assert.equal(finding.FindingType, 'ERROR');
  return result.findings.map((finding) => finding.IssueCode);
}

const doc = (statement: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ Version: '2012-10-17', ...extra, Statement: statement });

describe('parsePolicy accepts', () => {
  it('a statement object and normalizes strings to lists', () => {
    const result = parsePolicy(doc({ Sid: 'A', Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'kms:Decrypt', Resource: '*' }, { Id: 'p1' }));
    assert.deepEqual(result.document, {
      Version: '2012-10-17',
      Id: 'p1',
      Statement: [{ Sid: 'A', Effect: 'Allow', Principal: { AWS: ['111122223333'] }, Action: ['kms:Decrypt'], Resource: ['*'] }],
    });
  });

  it('a statement array, both versions, no version, and condition values as numbers and booleans', () => {
    const statement = { Effect: 'Deny', NotAction: ['kms:*'], NotResource: 'arn:aws:kms:*:*:key/*', NotPrincipal: '*', Condition: { NumericLessThan: { 'kms:Days': 7 }, Bool: { 'aws:SecureTransport': false } } };
    for (const version of ['2012-10-17', '2008-10-17', undefined]) {
      const result = parsePolicy(JSON.stringify({ Version: version, Statement: [statement] }));
      assert.ok(result.document, JSON.stringify(result.findings));
      assert.deepEqual(result.document.Statement[0]!.Condition, { NumericLessThan: { 'kms:Days': ['7'] }, Bool: { 'aws:SecureTransport': ['false'] } });
    }
  });
});

describe('parsePolicy refuses with findings', () => {
  const cases: [name: string, text: string, expected: string[]][] = [
    ['a JSON syntax error', '{"Version": "2012-10-17", "Statement": [', ['JSON_SYNTAX_ERROR']],
    ['an empty text', '', ['JSON_SYNTAX_ERROR']],
    ['a document that is not an object', '[]', ['DATA_TYPE_MISMATCH']],
    ['a missing Statement', '{"Version":"2012-10-17"}', ['MISSING_STATEMENT']],
    ['an empty Statement list', doc([]), ['MISSING_STATEMENT']],
    ['an unknown version', JSON.stringify({ Version: '2020-01-01', Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }), ['INVALID_VERSION']],
    ['an unknown top-level member', doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Extra: 1 }), ['INVALID_POLICY_ELEMENT']],
    ['an unknown statement member', doc({ Effect: 'Allow', Action: '*', Resource: '*', Actions: 'x' }), ['INVALID_POLICY_ELEMENT']],
    ['a missing Effect', doc({ Action: '*', Resource: '*' }), ['MISSING_EFFECT']],
    ['an invalid Effect', doc({ Effect: 'allow', Action: '*', Resource: '*' }), ['INVALID_EFFECT']],
    ['a missing Action', doc({ Effect: 'Allow', Resource: '*' }), ['MISSING_ACTION']],
    ['both Action and NotAction', doc({ Effect: 'Allow', Action: '*', NotAction: 'kms:*', Resource: '*' }), ['UNSUPPORTED_ELEMENTS_COMBINATION']],
    ['both Resource and NotResource', doc({ Effect: 'Allow', Action: '*', Resource: '*', NotResource: '*' }), ['UNSUPPORTED_ELEMENTS_COMBINATION']],
    ['both Principal and NotPrincipal', doc({ Effect: 'Allow', Action: '*', Resource: '*', Principal: '*', NotPrincipal: '*' }), ['UNSUPPORTED_ELEMENTS_COMBINATION']],
    ['an Action that is a number', doc({ Effect: 'Allow', Action: 5, Resource: '*' }), ['DATA_TYPE_MISMATCH']],
    ['a Resource list with a non-string', doc({ Effect: 'Allow', Action: '*', Resource: ['*', null] }), ['DATA_TYPE_MISMATCH']],
    ['a Principal that is a bare ARN string', doc({ Effect: 'Allow', Action: '*', Resource: '*', Principal: 'arn:aws:iam::111122223333:root' }), ['INVALID_PRINCIPAL_FORMAT']],
    ['an unknown principal type', doc({ Effect: 'Allow', Action: '*', Resource: '*', Principal: { IAM: '*' } }), ['INVALID_PRINCIPAL_KEY']],
    ['an unknown condition operator', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEqualsMaybe: { 'aws:PrincipalAccount': '1' } } }), ['INVALID_CONDITION_OPERATOR']],
    ['Null with IfExists', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NullIfExists: { 'aws:SourceIp': 'true' } } }), ['NULL_WITH_IF_EXISTS']],
    ['a condition key without a service prefix', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { PrincipalAccount: '1' } } }), ['INVALID_CONDITION_KEY_FORMAT']],
    ['a numeric condition with a word', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericEquals: { 'kms:Days': 'seven' } } }), ['INVALID_CONDITION_DATA_TYPE']],
    ['a bad CIDR', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/40' } } }), ['INVALID_CONDITION_DATA_TYPE']],
    ['a condition value that is an object', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:x': { a: 1 } } } }), ['DATA_TYPE_MISMATCH']],
    ['duplicate Sids', doc([{ Sid: 'A', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'A', Effect: 'Deny', Action: '*', Resource: '*' }]), ['UNIQUE_SIDS_REQUIRED']],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.deepEqual(codes(text), expected));
  }

  it('collects every problem, each with its location', () => {
    const result = parsePolicy(doc([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Maybe', Resource: '*', Condition: { Bogus: { 'aws:x': 'y' } } },
    ]));
    const findings = result.findings as readonly PolicyFinding[];
    assert.deepEqual(findings.map((finding) => [finding.IssueCode, finding.Location?.Path]), [
      ['INVALID_EFFECT', [{ Value: 'Statement' }, { Index: 1 }, { Value: 'Effect' }]],
      ['MISSING_ACTION', [{ Value: 'Statement' }, { Index: 1 }]],
      ['INVALID_CONDITION_OPERATOR', [{ Value: 'Statement' }, { Index: 1 }, { Value: 'Condition' }, { Value: 'Bogus' }]],
    ]);
  });

  it('never throws on odd input', () => {
    for (const text of ['null', '1', '"x"', 'true', '{"Statement": 1}', '{"Statement": [1, "x", null]}', '{"Statement":{"Effect":"Allow","Action":[],"Resource":[],"Condition":[]}}', '{"__proto__": {"x": 1}, "Statement": {}}']) {
      const result = parsePolicy(text);
      assert.ok(result.findings && result.findings.length > 0, text);
    }
  });
});
