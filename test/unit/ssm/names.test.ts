import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../../src/core/index.js';
import {
  assertValidName,
  assertWritableName,
  isValidLabel,
  nameFromArnOrName,
  parameterArn,
  parseSelector,
  pathPrefix,
  secretReference,
  trimName,
} from '../../../src/ssm/names.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AwsError ? error.code : 'not an AwsError';
  }
  return undefined;
}

describe('parameter names', () => {
  it('forms the ARN without the leading slash', () => {
    assert.equal(parameterArn(REGION, ACCOUNT, '/a/b'), 'arn:aws:ssm:us-east-1:123456789012:parameter/a/b');
    assert.equal(parameterArn(REGION, ACCOUNT, 'plain'), 'arn:aws:ssm:us-east-1:123456789012:parameter/plain');
  });

  it('accepts names of the allowed alphabet, in a hierarchy of up to 15 levels', () => {
    for (const name of ['plain', 'a.b-c_d', '/Dev/DBServer/MySQL/db-string13', `/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`]) {
      assert.equal(codeOf(() => assertWritableName(name, REGION, ACCOUNT)), undefined, name);
    }
  });

  it('refuses other characters, a missing leading slash, empty levels and reserved prefixes', () => {
    for (const name of ['a/b', '/a//b', '/a/', '/a b', '/a$', 'awsThing', '/aws/x', '/SSM/x', 'ssm-param', '/a:b']) {
      assert.equal(codeOf(() => assertWritableName(name, REGION, ACCOUNT)), 'ValidationException', name);
    }
  });

  it('refuses a 16th level with HierarchyLevelLimitExceededException', () => {
    const deep = `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`;
    assert.equal(codeOf(() => assertValidName(deep)), 'HierarchyLevelLimitExceededException');
  });

  it('counts the ARN in the 1011-character limit', () => {
    const prefix = parameterArn(REGION, ACCOUNT, '/').length;
    const fits = `/${'a'.repeat(1011 - prefix)}`;
    assert.equal(codeOf(() => assertWritableName(fits, REGION, ACCOUNT)), undefined);
    assert.equal(codeOf(() => assertWritableName(`${fits}a`, REGION, ACCOUNT)), 'ValidationException');
  });

  it('trims spaces at the ends and refuses one inside', () => {
    assert.equal(trimName('  /a/b '), '/a/b');
    assert.equal(codeOf(() => trimName('/a b')), 'ValidationException');
  });

  it('turns an ARN of the caller back into the name, refusing other accounts', () => {
    assert.equal(nameFromArnOrName('arn:aws:ssm:us-east-1:123456789012:parameter/a/b', REGION, ACCOUNT), '/a/b');
    assert.equal(nameFromArnOrName('arn:aws:ssm:us-east-1:123456789012:parameter/plain', REGION, ACCOUNT), 'plain');
    assert.equal(nameFromArnOrName('/a/b', REGION, ACCOUNT), '/a/b');
    assert.equal(codeOf(() => nameFromArnOrName('arn:aws:ssm:us-east-1:999999999999:parameter/a', REGION, ACCOUNT)), 'ValidationException');
  });
});

describe('selectors, paths, references and labels', () => {
  it('reads name:version as a version and name:label as a label', () => {
    assert.deepEqual(parseSelector('/a/b:3'), { name: '/a/b', version: 3, selector: ':3' });
    assert.deepEqual(parseSelector('/a/b:prod'), { name: '/a/b', label: 'prod', selector: ':prod' });
    assert.deepEqual(parseSelector('/a/b'), { name: '/a/b' });
    assert.equal(codeOf(() => parseSelector('/a/b:')), 'ValidationException');
  });

  it('makes a path a prefix ending in a slash, with the same level limit', () => {
    assert.equal(pathPrefix('/'), '/');
    assert.equal(pathPrefix('/a/b'), '/a/b/');
    assert.equal(pathPrefix('/a/b/'), '/a/b/');
    assert.equal(codeOf(() => pathPrefix('a/b')), 'ValidationException');
    assert.equal(codeOf(() => pathPrefix(`/${Array.from({ length: 16 }, () => 'x').join('/')}`)), 'HierarchyLevelLimitExceededException');
  });

  it('finds the secret id and its selector in a Secrets Manager reference', () => {
    assert.deepEqual(secretReference('/aws/reference/secretsmanager/db/creds'), { secretId: 'db/creds' });
    assert.deepEqual(secretReference('/aws/reference/secretsmanager/db/creds:AWSPREVIOUS'), { secretId: 'db/creds', selector: 'AWSPREVIOUS' });
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
    assert.deepEqual(secretReference(`/aws/reference/secretsmanager/${arn}`), { secretId: arn });
    assert.deepEqual(secretReference(`/aws/reference/secretsmanager/${arn}:AWSCURRENT`), { secretId: arn, selector: 'AWSCURRENT' });
    assert.equal(secretReference('/app/db'), undefined);
  });

  it('keeps AWS label rules', () => {
    for (const label of ['prod', 'Release_1.2-b', 'x'.repeat(100)]) assert.equal(isValidLabel(label), true, label);
    for (const label of ['1st', 'awsLabel', 'SSM-x', 'has space', 'a/b', 'x'.repeat(101), '']) assert.equal(isValidLabel(label), false, label);
  });
});
