import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEnvFile } from '../../../src/cli/env-file.js';
import { environmentName, findDynamicReferences, parseValueFrom, selectValue } from '../../../src/cli/secret-references.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db/mysql-AbCdEf';
const VERSION = 'EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE';

describe('ECS valueFrom references', () => {
  it('reads the secret, the Region of an ARN, and the optional fields, empty ones absent', () => {
    const cases: Array<[string, object]> = [
      [ARN, { secretId: ARN, region: 'eu-west-1' }],
      [`${ARN}:password::`, { secretId: ARN, region: 'eu-west-1', jsonKey: 'password' }],
      [`${ARN}::AWSPREVIOUS:`, { secretId: ARN, region: 'eu-west-1', versionStage: 'AWSPREVIOUS' }],
      [`${ARN}:::${VERSION}`, { secretId: ARN, region: 'eu-west-1', versionId: VERSION }],
      [`${ARN}:password:AWSPREVIOUS:`, { secretId: ARN, region: 'eu-west-1', jsonKey: 'password', versionStage: 'AWSPREVIOUS' }],
      [`${ARN}:password::${VERSION}`, { secretId: ARN, region: 'eu-west-1', jsonKey: 'password', versionId: VERSION }],
      // The seeds' form: a partial ARN (no random suffix) with a key.
      ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db/mysql:password::', { secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db/mysql', region: 'us-east-1', jsonKey: 'password' }],
      ['prod/db/mysql', { secretId: 'prod/db/mysql' }],
      ['prod/db/mysql:password', { secretId: 'prod/db/mysql', jsonKey: 'password' }],
      [`prod/db/mysql:password::${VERSION}`, { secretId: 'prod/db/mysql', jsonKey: 'password', versionId: VERSION }],
      ['prod/db/mysql::AWSPENDING', { secretId: 'prod/db/mysql', versionStage: 'AWSPENDING' }],
    ];
    for (const [text, expected] of cases) assert.deepEqual(parseValueFrom(text), { text, ...expected }, text);
  });

  it('refuses what ECS refuses, naming the reference', () => {
    assert.throws(() => parseValueFrom(`${ARN}:password:AWSCURRENT:${VERSION}`), /: give a version stage or a version id, not both/);
    assert.throws(() => parseValueFrom(`${ARN}:a:b:c:d`), /too many fields/);
    assert.throws(() => parseValueFrom('arn:aws:secretsmanager:us-east-1'), /not a complete ARN/);
    assert.throws(() => parseValueFrom('arn:aws:kms:us-east-1:123456789012:key/abc:x:y'), /not a Secrets Manager secret ARN/);
    assert.throws(() => parseValueFrom('arn:aws:ssm:us-east-1:123456789012:document/x'), /not a Parameter Store parameter ARN/);
    assert.throws(() => parseValueFrom(':password'), /name is empty/);
    assert.throws(() => parseValueFrom(''), /empty secret reference/);
  });
});

describe('Parameter Store references', () => {
  it('reads a parameter ARN or a name starting with a slash as a parameter, decrypted, as ECS does', () => {
    const arn = 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/db';
    assert.deepEqual(parseValueFrom(arn), { text: arn, secretId: arn, region: 'eu-west-1', parameter: { name: arn, withDecryption: true } });
    assert.deepEqual(parseValueFrom('/app/db:3'), { text: '/app/db:3', secretId: '/app/db:3', parameter: { name: '/app/db:3', withDecryption: true } });
    assert.deepEqual(parseValueFrom('app/db'), { text: 'app/db', secretId: 'app/db' });
  });

  it('reads {{resolve:ssm:…}} and {{resolve:ssm-secure:…}} with an optional version', () => {
    const [plain, secure] = findDynamicReferences('{{resolve:ssm:/a/b:2}} {{resolve:ssm-secure:/a/c}}').map((match) => match.reference);
    assert.deepEqual(plain, { text: '{{resolve:ssm:/a/b:2}}', secretId: '/a/b:2', parameter: { name: '/a/b:2', withDecryption: false } });
    assert.deepEqual(secure, { text: '{{resolve:ssm-secure:/a/c}}', secretId: '/a/c', parameter: { name: '/a/c', withDecryption: true } });
    assert.throws(() => findDynamicReferences('{{resolve:ssm:}}'), /parameter name is empty/);
    assert.throws(() => findDynamicReferences('{{resolve:ssm:/a:1:2}}'), /too many fields/);
  });
});

describe('CloudFormation dynamic references', () => {
  it('finds every reference in a text with its fields', () => {
    const text = `a={{resolve:secretsmanager:MySecret}} b={{resolve:secretsmanager:${ARN}:SecretString:password:AWSPREVIOUS}} c={{resolve:secretsmanager:MySecret::password::${VERSION}}}`;
    const found = findDynamicReferences(text);
    assert.deepEqual(
      found.map((match) => match.reference),
      [
        { text: '{{resolve:secretsmanager:MySecret}}', secretId: 'MySecret' },
        { text: `{{resolve:secretsmanager:${ARN}:SecretString:password:AWSPREVIOUS}}`, secretId: ARN, region: 'eu-west-1', jsonKey: 'password', versionStage: 'AWSPREVIOUS' },
        { text: `{{resolve:secretsmanager:MySecret::password::${VERSION}}}`, secretId: 'MySecret', jsonKey: 'password', versionId: VERSION },
      ],
    );
    assert.deepEqual(found.map((match) => text.slice(match.start, match.end)), found.map((match) => match.text));
  });

  it('refuses malformed references', () => {
    assert.throws(() => findDynamicReferences('{{resolve:secretsmanager:MySecret:SecretBinary}}'), /must be SecretString/);
    assert.throws(() => findDynamicReferences('{{resolve:secretsmanager:MySecret:SecretString:k:AWSCURRENT:v}}'), /not both/);
    assert.throws(() => findDynamicReferences('{{resolve:secretsmanager:}}'), /secret-id is empty/);
    assert.throws(() => findDynamicReferences('{{resolve:secretsmanager:a:SecretString:k:s::x}}'), /too many fields/);
    assert.deepEqual(findDynamicReferences('{{ resolve:secretsmanager:x }} {{other}}'), []);
  });
});

describe('values, variable names and env files', () => {
  it('selects a JSON key: strings as they are, other JSON values as JSON text', () => {
    const secret = JSON.stringify({ password: 'p', port: 5432, tls: true, nested: { a: 1 } });
    assert.equal(selectValue({ text: 'r', secretId: 's' }, secret), secret);
    assert.equal(selectValue({ text: 'r', secretId: 's', jsonKey: 'password' }, secret), 'p');
    assert.equal(selectValue({ text: 'r', secretId: 's', jsonKey: 'port' }, secret), '5432');
    assert.equal(selectValue({ text: 'r', secretId: 's', jsonKey: 'tls' }, secret), 'true');
    assert.equal(selectValue({ text: 'r', secretId: 's', jsonKey: 'nested' }, secret), '{"a":1}');
    assert.throws(() => selectValue({ text: 'r', secretId: 's', jsonKey: 'toString' }, secret), /^ReferenceSyntaxError: r: the secret has no JSON key "toString"$/);
    assert.throws(() => selectValue({ text: 'r', secretId: 's', jsonKey: 'k' }, 'not-json'), /not JSON/);
    assert.throws(() => selectValue({ text: 'r', secretId: 's', jsonKey: 'k' }, '[1]'), /not a JSON object/);
  });

  it('maps --all-from names predictably', () => {
    assert.equal(environmentName('prod/db/mysql', 'password'), 'PROD_DB_MYSQL_PASSWORD');
    assert.equal(environmentName('app.v2+x@y', 'db-host'), 'APP_V2_X_Y_DB_HOST');
    assert.equal(environmentName('a-b', 'c'), environmentName('a_b', 'c'));
  });

  it('parses dotenv lines, never echoing a bad line', () => {
    const text = '# comment\n\nA=1\nexport B = two words \nC="x\\ny \\"q\\""\r\nD=\'{{literal}} #\'\nE=\n';
    assert.deepEqual(
      parseEnvFile(text, 'f.env').map(({ name, value }) => [name, value]),
      [['A', '1'], ['B', 'two words'], ['C', 'x\ny "q"'], ['D', '{{literal}} #'], ['E', '']],
    );
    assert.throws(() => parseEnvFile('A=1\nsecret-without-equals\n', 'f.env'), /^EnvFileError: f\.env:2: expected NAME=VALUE$/);
    assert.throws(() => parseEnvFile('A="open\n', 'f.env'), /f\.env:1: unterminated double quote/);
    assert.throws(() => parseEnvFile('1A=x\n', 'f.env'), /not a variable name/);
  });
});
