import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import { allPages, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let sm: SecretsManagerClient;

before(async () => {
  server = await startTestServer();
  sm = secretsClient(server);
});
after(async () => server.cleanup());

async function allVersions(secretId: string): Promise<SecretVersionsListEntry[]> {
  return allPages(async (token) => {
    const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, NextToken: token }));
    return { items: page.Versions ?? [], next: page.NextToken };
  });
}

function holders(versions: SecretVersionsListEntry[], stage: string): string[] {
  return versions.filter((version) => version.VersionStages?.includes(stage)).map((version) => version.VersionId!);
}

describe('PutSecretValue under concurrency', () => {
  it('50 concurrent writers: one AWSCURRENT, one AWSPREVIOUS, every acknowledged version listed once, current value readable', async () => {
    const name = uniqueSecretName('contended');
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'initial' }));
    const writes = Array.from({ length: 50 }, (_, index) => `value-${index}`);
    const responses = await Promise.all(writes.map((value) => sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }))));

    const acknowledged = responses.map((response) => response.VersionId!);
    assert.equal(new Set(acknowledged).size, 50, 'each write got its own version');
    for (const response of responses) assert.deepEqual(response.VersionStages, ['AWSCURRENT']);

    const versions = await allVersions(name);
    const listed = versions.map((version) => version.VersionId!);
    assert.equal(new Set(listed).size, listed.length, 'no version is listed twice');
    assert.deepEqual([...listed].sort(), [created.VersionId!, ...acknowledged].sort(), 'no version lost, none invented');

    const current = holders(versions, 'AWSCURRENT');
    const previous = holders(versions, 'AWSPREVIOUS');
    assert.equal(current.length, 1);
    assert.equal(previous.length, 1);
    assert.notEqual(current[0], previous[0]);

    const got = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    assert.equal(got.VersionId, current[0]);
    assert.equal(got.SecretString, writes[acknowledged.indexOf(current[0]!)]);
    const previousValue = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
    assert.equal(previousValue.VersionId, previous[0]);

    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.deepEqual(described.VersionIdsToStages, { [current[0]!]: ['AWSCURRENT'], [previous[0]!]: ['AWSPREVIOUS'] });
  });

  it('50 concurrent retries of one ClientRequestToken create a single version', async () => {
    const name = uniqueSecretName('retried');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'initial' }));
    const token = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'once', ClientRequestToken: token }))),
    );
    for (const response of responses) assert.equal(response.VersionId, token);
    const versions = await allVersions(name);
    assert.equal(versions.length, 2);
    assert.deepEqual(holders(versions, 'AWSCURRENT'), [token]);
  });

  it('concurrent retries of one CreateSecret (same token, same value) all answer with the one secret created', async () => {
    const name = uniqueSecretName('create-retried');
    const token = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => sm.send(new CreateSecretCommand({ Name: name, SecretString: 'created once', ClientRequestToken: token }))),
    );
    assert.equal(new Set(responses.map((response) => response.ARN)).size, 1);
    for (const response of responses) assert.equal(response.VersionId, token);
    const versions = await allVersions(name);
    assert.deepEqual(versions.map((version) => version.VersionId), [token]);
  });

  it('concurrent CreateSecret calls for one name: exactly one succeeds, the others get ResourceExistsException', async () => {
    const name = uniqueSecretName('race');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) => sm.send(new CreateSecretCommand({ Name: name, SecretString: `v${index}` }))),
    );
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    assert.equal(fulfilled.length, 1);
    for (const failure of rejected) assert.equal((failure.reason as Error).name, 'ResourceExistsException');
  });
});
