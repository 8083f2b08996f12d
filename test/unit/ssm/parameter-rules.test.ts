import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../../src/core/index.js';
import { compileFilters } from '../../../src/ssm/filters.js';
import { assertDataType, assertNotNested, assertValueFits, parsePolicies, policyViews, resolveTier } from '../../../src/ssm/parameter-rules.js';
import type { StoredParameter } from '../../../src/store/index.js';

const NOW = new Date('2026-06-01T00:00:00Z');

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AwsError ? error.code : 'not an AwsError';
  }
  return undefined;
}

describe('tiers and value sizes', () => {
  it('resolves Intelligent-Tiering by size and policies, and never downgrades Advanced', () => {
    assert.equal(resolveTier(undefined, 10, false, undefined), 'Standard');
    assert.equal(resolveTier('Intelligent-Tiering', 4096, false, undefined), 'Standard');
    assert.equal(resolveTier('Intelligent-Tiering', 4097, false, undefined), 'Advanced');
    assert.equal(resolveTier('Intelligent-Tiering', 10, true, undefined), 'Advanced');
    assert.equal(resolveTier(undefined, 10, false, 'Advanced'), 'Advanced');
    assert.equal(codeOf(() => resolveTier('Standard', 10, false, 'Advanced')), 'ValidationException');
  });

  it('holds Standard values to 4 KB and Advanced ones to 8 KB', () => {
    assert.equal(codeOf(() => assertValueFits('Standard', 4096)), undefined);
    assert.equal(codeOf(() => assertValueFits('Standard', 4097)), 'ValidationException');
    assert.equal(codeOf(() => assertValueFits('Advanced', 8192)), undefined);
    assert.equal(codeOf(() => assertValueFits('Advanced', 8193)), 'ValidationException');
  });
});

describe('values, data types and patterns', () => {
  it('refuses nested parameters, unknown data types and bad AMI ids', () => {
    assert.equal(codeOf(() => assertNotNested('{{ssm:/other}}')), 'ValidationException');
    assert.equal(codeOf(() => assertNotNested('plain {value}')), undefined);
    assert.equal(codeOf(() => assertDataType('Text', 'String', 'x')), 'ValidationException');
    assert.equal(codeOf(() => assertDataType('aws:ec2:image', 'String', 'ami-12345678abcdef')), undefined);
    assert.equal(codeOf(() => assertDataType('aws:ec2:image', 'String', 'not-an-ami')), 'ValidationException');
    assert.equal(codeOf(() => assertDataType('aws:ec2:image', 'SecureString', 'ami-12345678')), 'ValidationException');
  });
});

describe('parameter policies', () => {
  const expiration = { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: '2026-07-01T00:00:00.000Z' } };
  const notification = { Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '15', Unit: 'Days' } };
  const noChange = { Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '20', Unit: 'Hours' } };

  it('parses the three policy types and finds the expiration', () => {
    const parsed = parsePolicies(JSON.stringify([expiration, notification, noChange]), NOW);
    assert.equal(parsed.expiresAt?.toISOString(), '2026-07-01T00:00:00.000Z');
    assert.deepEqual(
      policyViews(parsed.text)!.map((view) => view.PolicyType),
      ['Expiration', 'ExpirationNotification', 'NoChangeNotification'],
    );
  });

  it('refuses unknown types, bad attributes, duplicates, past expirations and more than 10', () => {
    assert.equal(codeOf(() => parsePolicies(JSON.stringify([{ Type: 'Rotate', Attributes: {} }]), NOW)), 'InvalidPolicyTypeException');
    assert.equal(codeOf(() => parsePolicies(JSON.stringify([{ ...noChange, Attributes: { After: '-1', Unit: 'Days' } }]), NOW)), 'InvalidPolicyAttributeException');
    assert.equal(codeOf(() => parsePolicies(JSON.stringify([{ ...noChange, Attributes: { After: '1', Unit: 'Weeks' } }]), NOW)), 'InvalidPolicyAttributeException');
    assert.equal(codeOf(() => parsePolicies(JSON.stringify([expiration, expiration]), NOW)), 'IncompatiblePolicyException');
    assert.equal(codeOf(() => parsePolicies(JSON.stringify([{ ...expiration, Attributes: { Timestamp: '2020-01-01T00:00:00Z' } }]), NOW)), 'InvalidPolicyAttributeException');
    assert.equal(codeOf(() => parsePolicies(JSON.stringify(Array.from({ length: 11 }, () => noChange)), NOW)), 'PoliciesLimitExceededException');
    assert.equal(codeOf(() => parsePolicies('not json', NOW)), 'InvalidPolicyAttributeException');
  });
});

describe('parameter filters', () => {
  const parameter = { name: '/app/db', type: 'SecureString', keyId: 'alias/aws/ssm', tier: 'Standard', dataType: 'text', labels: ['prod'] } as StoredParameter;

  it('takes only the keys and options each operation allows', () => {
    assert.equal(codeOf(() => compileFilters([{ Key: 'Name', Values: ['/a'] }], 'by-path')), 'InvalidFilterKey');
    assert.equal(codeOf(() => compileFilters([{ Key: 'Label', Values: ['a'] }], 'describe')), 'InvalidFilterKey');
    assert.equal(codeOf(() => compileFilters([{ Key: 'Label', Option: 'BeginsWith', Values: ['a'] }], 'by-path')), 'InvalidFilterOption');
    assert.equal(codeOf(() => compileFilters([{ Key: 'Type', Option: 'Contains', Values: ['a'] }], 'describe')), 'InvalidFilterOption');
    assert.equal(codeOf(() => compileFilters([{ Key: 'Path', Option: 'Recursive', Values: ['nope'] }], 'describe')), 'InvalidFilterValue');
  });

  it('matches Equals, BeginsWith, Contains, labels and tags', () => {
    const test = (filters: Parameters<typeof compileFilters>[0], context: 'describe' | 'by-path' = 'describe') =>
      compileFilters(filters, context).predicates.every((predicate) => predicate.test(parameter, [{ TagKey: 'team', TagValue: 'core' }]));
    assert.equal(test([{ Key: 'Type', Values: ['SecureString'] }]), true);
    assert.equal(test([{ Key: 'Type', Values: ['String'] }]), false);
    assert.equal(test([{ Key: 'Name', Option: 'BeginsWith', Values: ['/app'] }]), true);
    assert.equal(test([{ Key: 'Name', Option: 'Contains', Values: ['db'] }]), true);
    assert.equal(test([{ Key: 'Name', Values: ['app/db'] }]), true);
    assert.equal(test([{ Key: 'Label', Values: ['prod'] }], 'by-path'), true);
    assert.equal(test([{ Key: 'tag:team', Values: ['core'] }]), true);
    assert.equal(test([{ Key: 'tag:team' }]), true);
    assert.equal(test([{ Key: 'tag:owner' }]), false);
  });
});
