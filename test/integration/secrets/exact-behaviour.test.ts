import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  UpdateSecretCommand,
  type Filter,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { shell } from '../../helpers/aws-cli.js';
import { auditEvents } from '../../helpers/audit.js';
import { rejectsWith } from '../../helpers/kms.js';
import { allPages, secretsClient } from '../../helpers/secrets.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Where Coffer's Secrets Manager must answer exactly as AWS documents: the first version's AWSCURRENT, the
 * "Find secrets" filter rules, ClientRequestToken reuse, and validation messages that show values only when
 * they are not sensitive.
 */

let server: TestServer;
let sm: SecretsManagerClient;
let workDir: string;

before(async () => {
  server = await startTestServer();
  sm = secretsClient(server);
  workDir = mkdtempSync(join(tmpdir(), 'coffer-exact-secrets-'));
});
after(async () => {
  await server.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

describe('PutSecretValue on a secret created without a value', () => {
  it('attaches AWSCURRENT to the first version whatever VersionStages says, and not to later ones', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'first-version/empty' }));
    const first = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'one', VersionStages: ['CUSTOM'] }));
    assert.deepEqual([...(first.VersionStages ?? [])].sort(), ['AWSCURRENT', 'CUSTOM']);
    const current = await sm.send(new GetSecretValueCommand({ SecretId: ARN }));
    assert.equal(current.SecretString, 'one');
    assert.equal(current.VersionId, first.VersionId);

    const second = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'two', VersionStages: ['OTHER'] }));
    assert.deepEqual(second.VersionStages, ['OTHER']);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: ARN }));
    assert.deepEqual([...(described.VersionIdsToStages?.[first.VersionId!] ?? [])].sort(), ['AWSCURRENT', 'CUSTOM']);
    assert.deepEqual(described.VersionIdsToStages?.[second.VersionId!], ['OTHER']);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: ARN }))).SecretString, 'one');
  });
});

describe('ClientRequestToken reused with another value', () => {
  it('PutSecretValue, UpdateSecret and CreateSecret answer ResourceExistsException naming the token and the secret', async () => {
    const token = randomUUID();
    const { ARN, Name } = await sm.send(new CreateSecretCommand({ Name: 'token-reuse/a', SecretString: 'v1', ClientRequestToken: token }));
    const expected = `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${ARN}.`;

    const put = await rejectsWith(sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'v2', ClientRequestToken: token })), 'ResourceExistsException');
    assert.equal(put.message, expected);
    const updated = await rejectsWith(sm.send(new UpdateSecretCommand({ SecretId: ARN, SecretString: 'v2', ClientRequestToken: token })), 'ResourceExistsException');
    assert.equal(updated.message, expected);
    const created = await rejectsWith(sm.send(new CreateSecretCommand({ Name, SecretString: 'v2', ClientRequestToken: token })), 'ResourceExistsException');
    assert.equal(created.message, expected);

    // The same value with the same token is still a retry, and nothing changed.
    const retried = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'v1', ClientRequestToken: token }));
    assert.equal(retried.VersionId, token);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: ARN }))).SecretString, 'v1');
    // Another token on CreateSecret of an existing name is the name collision, as before.
    const collision = await rejectsWith(sm.send(new CreateSecretCommand({ Name, SecretString: 'v1' })), 'ResourceExistsException');
    assert.equal(collision.message, `The operation failed because the secret ${Name} already exists.`);
  });
});

describe('ListSecrets filters (User Guide, "Find secrets")', () => {
  before(async () => {
    const secrets = [
      { Name: 'filters/DatabaseSecret', Description: 'one and two', Tags: [{ Key: 'Production', Value: 'Blue' }] },
      { Name: 'filters/databaseSecret', Description: 'one only', Tags: [{ Key: 'prod', Value: 'blue' }] },
      { Name: 'filters/MyData', Description: 'two', Tags: [{ Key: 'Prod1', Value: 'x' }] },
      { Name: 'filters/prod/AppBeta/x', Description: 'credsDatabase holder', Tags: [] },
      { Name: 'filters/HTTPServer', Description: 'the alphabet', Tags: [] },
    ];
    for (const secret of secrets) await sm.send(new CreateSecretCommand({ ...secret, SecretString: 'v' }));
  });

  async function names(filters: Filter[], maxResults?: number): Promise<string[]> {
    const listed = await allPages(async (token) => {
      const page = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['filters/'] }, ...filters], MaxResults: maxResults, NextToken: token }));
      return { items: page.SecretList ?? [], next: page.NextToken };
    });
    return listed.map((secret) => secret.Name!).sort();
  }

  it('all splits names into words at case changes and punctuation, and matches word prefixes without case', async () => {
    assert.deepEqual(await names([{ Key: 'all', Values: ['Beta'] }]), ['filters/prod/AppBeta/x']);
    assert.deepEqual(await names([{ Key: 'all', Values: ['server'] }]), ['filters/HTTPServer']);
    assert.deepEqual(await names([{ Key: 'all', Values: ['http'] }]), ['filters/HTTPServer']);
    // "Data" begins DatabaseSecret and databaseSecret, is MyData's second word, and "Database" is in a description.
    assert.deepEqual(await names([{ Key: 'all', Values: ['data'] }]), ['filters/DatabaseSecret', 'filters/MyData', 'filters/databaseSecret', 'filters/prod/AppBeta/x']);
    // The value is split too: creds + Database, both words of one secret's description.
    assert.deepEqual(await names([{ Key: 'all', Values: ['credsDatabase'] }]), ['filters/prod/AppBeta/x']);
    // A word inside a word is not a word prefix.
    assert.deepEqual(await names([{ Key: 'all', Values: ['ppBeta'] }]), []);
  });

  it('description matches each word as a case-insensitive word prefix; name, tag-key and tag-value stay case-sensitive prefixes of the whole value; "!" excludes', async () => {
    assert.deepEqual(await names([{ Key: 'name', Values: ['filters/Data'] }]), ['filters/DatabaseSecret']);
    assert.deepEqual(await names([{ Key: 'name', Values: ['Data'] }]), []);
    assert.deepEqual(await names([{ Key: 'description', Values: ['one two'] }]), ['filters/DatabaseSecret']);
    assert.deepEqual(await names([{ Key: 'description', Values: ['TW'] }]), ['filters/DatabaseSecret', 'filters/MyData']);
    assert.deepEqual(await names([{ Key: 'description', Values: ['alpha'] }]), ['filters/HTTPServer']);
    assert.deepEqual(await names([{ Key: 'description', Values: ['bet'] }]), []);
    assert.deepEqual(await names([{ Key: 'tag-key', Values: ['Prod'] }]), ['filters/DatabaseSecret', 'filters/MyData']);
    assert.deepEqual(await names([{ Key: 'tag-value', Values: ['Bl'] }]), ['filters/DatabaseSecret']);
    assert.deepEqual(await names([{ Key: 'tag-key', Values: ['!Prod'] }]), ['filters/HTTPServer', 'filters/databaseSecret', 'filters/prod/AppBeta/x']);
    assert.deepEqual(await names([{ Key: 'name', Values: ['!filters/Data'] }, { Key: 'description', Values: ['one'] }]), ['filters/databaseSecret']);
    assert.deepEqual(await names([{ Key: 'primary-region', Values: ['us-east'] }]), (await names([])));
    assert.deepEqual(await names([{ Key: 'primary-region', Values: ['US-EAST'] }]), []);
  });

  it('pages through a filtered result without repeating or losing a secret', async () => {
    assert.deepEqual(await names([{ Key: 'all', Values: ['data'] }], 1), ['filters/DatabaseSecret', 'filters/MyData', 'filters/databaseSecret', 'filters/prod/AppBeta/x']);
  });

  it('the AWS CLI filters alike', async () => {
    const result = await shell(
      `aws secretsmanager list-secrets --endpoint-url "$COFFER_URL" --filters Key=name,Values=filters/ Key=all,Values=Beta --query 'SecretList[].Name' --output text`,
      { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'filters/prod/AppBeta/x');
  });
});

describe('ValidationException text', () => {
  it('names a non-sensitive value as AWS does, and counts several errors', async () => {
    const response = await rawCall(server.url, {
      target: 'secretsmanager.ListSecrets',
      service: 'secretsmanager',
      credentials: server.admin,
      body: JSON.stringify({ MaxResults: 0, SortOrder: 'sideways' }),
    });
    assert.equal(response.status, 400);
    assert.equal(response.json?.__type, 'ValidationException');
    assert.equal(
      response.json?.message,
      "2 validation errors detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value 'sideways' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]",
    );

    // A SecretString, sensitive in AWS's model, is never shown: not in the error, not in the audit event.
    const secretValue = `do-not-echo-${'x'.repeat(65536)}`;
    const error = await rejectsWith(sm.send(new CreateSecretCommand({ Name: 'validation/too-long', SecretString: secretValue })), 'ValidationException');
    assert.equal(error.message, "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536");
    const wrongType = await rawCall(server.url, {
      target: 'secretsmanager.PutSecretValue',
      service: 'secretsmanager',
      credentials: server.admin,
      body: JSON.stringify({ SecretId: 'validation/x', SecretString: 12345678 }),
    });
    assert.equal(wrongType.json?.message, "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must be a string");
    const audit = JSON.stringify(auditEvents(server.dataDir));
    assert.ok(!audit.includes('do-not-echo'), 'the audit log keeps no secret value');
    assert.ok(!audit.includes('12345678'), 'the audit log keeps no secret value');
  });

  it('the AWS CLI prints the message with the value', async () => {
    const result = await shell(`aws secretsmanager describe-secret --endpoint-url "$COFFER_URL" --secret-id "$(printf 'x%.0s' {1..2049})"`, {
      cwd: workDir,
      credentials: server.admin,
      region: 'us-east-1',
      env: { COFFER_URL: server.url },
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /ValidationException/);
    assert.ok(result.stderr.includes(`Value '${'x'.repeat(2049)}' at 'secretId' failed to satisfy constraint: Member must have length less than or equal to 2048`), result.stderr);
  });
});
