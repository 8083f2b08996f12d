import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type Filter,
  type ListSecretsCommandInput,
  type SecretListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { rejectsWith } from '../../helpers/kms.js';
import { allPages, REGION, secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let sm: SecretsManagerClient;
/** A prefix no other secret in this server shares, so filters can be scoped to this file's fixtures. */
const run = `ls${randomBytes(4).toString('hex')}`;

type Fixture = { name: string; description?: string; tags?: Array<{ Key: string; Value: string }>; value: string };

const fixtures: Fixture[] = [
  { name: `${run}/prod/db/mysql`, description: 'Production MySQL credentials', tags: [{ Key: 'Environment', Value: 'Production' }], value: 'mysql-secret' },
  { name: `${run}/prod/api-key`, description: 'Third-party API key', tags: [{ Key: 'Environment', Value: 'Production' }, { Key: 'team', Value: 'payments' }], value: 'api-secret' },
  { name: `${run}/dev/db/postgres`, description: 'development postgres', tags: [{ Key: 'Environment', Value: 'Development' }], value: 'pg-secret' },
  { name: `${run}/Prod/upper`, description: 'Upper-case path', tags: [{ Key: 'environment', Value: 'production' }], value: 'upper-secret' },
  { name: `${run}/misc/untagged`, value: 'misc-secret' },
];

before(async () => {
  server = await startTestServer();
  sm = secretsClient(server);
  // One by one, so creation order (the default sort) is fixture order.
  for (const fixture of fixtures) {
    await sm.send(new CreateSecretCommand({ Name: fixture.name, Description: fixture.description, Tags: fixture.tags, SecretString: fixture.value }));
  }
});
after(async () => server.cleanup());

async function list(input: ListSecretsCommandInput = {}): Promise<SecretListEntry[]> {
  return allPages(async (token) => {
    const page = await sm.send(new ListSecretsCommand({ ...input, NextToken: token }));
    return { items: page.SecretList ?? [], next: page.NextToken };
  });
}

/** Names of this file's secrets that match `filters`, in the order ListSecrets gives them. */
async function names(filters: Filter[], extra: ListSecretsCommandInput = {}): Promise<string[]> {
  const scoped = [{ Key: 'name' as const, Values: [`${run}/`] }, ...filters];
  return (await list({ ...extra, Filters: scoped })).map((secret) => secret.Name!.slice(run.length + 1));
}

describe('ListSecrets', () => {
  it('lists every secret with its metadata and version stages', async () => {
    const all = await list();
    const mine = all.filter((secret) => secret.Name!.startsWith(`${run}/`));
    assert.deepEqual(mine.map((secret) => secret.Name), fixtures.map((fixture) => fixture.name));
    const api = mine.find((secret) => secret.Name === `${run}/prod/api-key`)!;
    assert.match(api.ARN!, /^arn:aws:secretsmanager:us-east-1:000000000000:secret:.+-[A-Za-z0-9]{6}$/);
    assert.equal(api.Description, 'Third-party API key');
    assert.deepEqual([...api.Tags!].sort((a, b) => a.Key!.localeCompare(b.Key!)), [
      { Key: 'Environment', Value: 'Production' },
      { Key: 'team', Value: 'payments' },
    ]);
    assert.ok(api.CreatedDate instanceof Date);
    assert.ok(api.LastChangedDate instanceof Date);
    assert.equal(api.PrimaryRegion, REGION);
    const stages = Object.values(api.SecretVersionsToStages ?? {});
    assert.deepEqual(stages, [['AWSCURRENT']]);
  });

  it('filters name by case-sensitive prefix', async () => {
    assert.deepEqual(await names([{ Key: 'name', Values: [`${run}/prod/`] }]), ['prod/db/mysql', 'prod/api-key']);
    assert.deepEqual(await names([{ Key: 'name', Values: [`${run}/Prod/`] }]), ['Prod/upper']);
    assert.deepEqual(await names([{ Key: 'name', Values: [`${run}/prod/db`] }]), ['prod/db/mysql']);
    // A prefix, not a substring.
    assert.deepEqual(await names([{ Key: 'name', Values: ['db/mysql'] }]), []);
  });

  it('filters description by case-insensitive word prefix (User Guide, "Find secrets")', async () => {
    assert.deepEqual(await names([{ Key: 'description', Values: ['production'] }]), ['prod/db/mysql']);
    assert.deepEqual(await names([{ Key: 'description', Values: ['DEVELOPMENT'] }]), ['dev/db/postgres']);
    // Any word of the description, not only its start: "MySQL" is the second word of "Production MySQL credentials".
    assert.deepEqual(await names([{ Key: 'description', Values: ['MySQL'] }]), ['prod/db/mysql']);
    assert.deepEqual(await names([{ Key: 'description', Values: ['ySQL'] }]), []);
  });

  it('filters tag-key and tag-value by case-sensitive prefix', async () => {
    assert.deepEqual(await names([{ Key: 'tag-key', Values: ['Environment'] }]), ['prod/db/mysql', 'prod/api-key', 'dev/db/postgres']);
    assert.deepEqual(await names([{ Key: 'tag-key', Values: ['env'] }]), ['Prod/upper']);
    assert.deepEqual(await names([{ Key: 'tag-key', Values: ['te'] }]), ['prod/api-key']);
    assert.deepEqual(await names([{ Key: 'tag-value', Values: ['Prod'] }]), ['prod/db/mysql', 'prod/api-key']);
    assert.deepEqual(await names([{ Key: 'tag-value', Values: ['production'] }]), ['Prod/upper']);
  });

  it('ORs the values of one filter', async () => {
    assert.deepEqual(await names([{ Key: 'tag-value', Values: ['Development', 'payments'] }]), ['prod/api-key', 'dev/db/postgres']);
  });

  it('filters all attributes, word by word and ignoring case, with the all key', async () => {
    assert.deepEqual(await names([{ Key: 'all', Values: ['postgres'] }]), ['dev/db/postgres']);
    assert.deepEqual(await names([{ Key: 'all', Values: ['PAYMENTS'] }]), ['prod/api-key']);
    assert.deepEqual(await names([{ Key: 'all', Values: ['mysql'] }]), ['prod/db/mysql']);
    assert.deepEqual(await names([{ Key: 'all', Values: ['development'] }]), ['dev/db/postgres']);
  });

  it('negates a value that starts with !', async () => {
    assert.deepEqual(await names([{ Key: 'name', Values: [`!${run}/prod`] }]), ['dev/db/postgres', 'Prod/upper', 'misc/untagged']);
    assert.deepEqual(await names([{ Key: 'tag-key', Values: ['!Environment'] }]), ['Prod/upper', 'misc/untagged']);
    assert.deepEqual(await names([{ Key: 'description', Values: ['!production'] }]), ['prod/api-key', 'dev/db/postgres', 'Prod/upper', 'misc/untagged']);
  });

  it('ANDs several filters', async () => {
    assert.deepEqual(
      await names([
        { Key: 'tag-value', Values: ['Production'] },
        { Key: 'description', Values: ['third'] },
      ]),
      ['prod/api-key'],
    );
    assert.deepEqual(
      await names([
        { Key: 'name', Values: [`${run}/prod`] },
        { Key: 'tag-key', Values: ['team'] },
        { Key: 'description', Values: ['production'] },
      ]),
      [],
    );
  });

  it('sorts by creation date ascending or descending, and by name', async () => {
    const ascending = await names([], { SortOrder: 'asc' });
    const descending = await names([], { SortOrder: 'desc' });
    assert.deepEqual(ascending, ['prod/db/mysql', 'prod/api-key', 'dev/db/postgres', 'Prod/upper', 'misc/untagged']);
    assert.deepEqual(descending, [...ascending].reverse());
    assert.deepEqual(await names([], { SortBy: 'name', SortOrder: 'asc' }), ['Prod/upper', 'dev/db/postgres', 'misc/untagged', 'prod/api-key', 'prod/db/mysql']);
  });

  it('pages with MaxResults and NextToken, seeing every secret exactly once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretsCommand({ MaxResults: 2, NextToken: token, Filters: [{ Key: 'name', Values: [`${run}/`] }] }));
      assert.ok((page.SecretList?.length ?? 0) <= 2);
      seen.push(...page.SecretList!.map((secret) => secret.Name!));
      token = page.NextToken;
      pages += 1;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen, fixtures.map((fixture) => fixture.name));
  });

  it('refuses a NextToken it did not issue with InvalidNextTokenException', async () => {
    await rejectsWith(sm.send(new ListSecretsCommand({ NextToken: 'garbage-token' })), 'InvalidNextTokenException');
    await rejectsWith(sm.send(new ListSecretsCommand({ NextToken: Buffer.from('{"offset":-1}').toString('base64url') })), 'InvalidNextTokenException');
  });

  it('refuses an unknown filter key and a value with forbidden characters with ValidationException', async () => {
    await rejectsWith(sm.send(new ListSecretsCommand({ Filters: [{ Key: 'colour' as Filter['Key'], Values: ['x'] }] })), 'ValidationException');
    await rejectsWith(sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['semi;colon'] }] })), 'ValidationException');
  });

  it('filters primary-region by prefix', async () => {
    assert.equal((await names([{ Key: 'primary-region', Values: ['us-east'] }])).length, fixtures.length);
    assert.deepEqual(await names([{ Key: 'primary-region', Values: ['eu-'] }]), []);
  });

  it('keeps regions apart: a secret of us-east-1 is not seen from eu-west-1, which may reuse its name', async () => {
    const eu = secretsClient(server, { region: 'eu-west-1' });
    const name = fixtures[0]!.name;
    await rejectsWith(eu.send(new GetSecretValueCommand({ SecretId: name })), 'ResourceNotFoundException');
    const { SecretList } = await eu.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`${run}/`] }] }));
    assert.deepEqual(SecretList, []);
    const created = await eu.send(new CreateSecretCommand({ Name: name, SecretString: 'european' }));
    assert.match(created.ARN!, /^arn:aws:secretsmanager:eu-west-1:000000000000:secret:/);
    assert.equal((await eu.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'european');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'mysql-secret');
    // A us-east-1 ARN sent to eu-west-1 finds nothing.
    const usArn = (await sm.send(new GetSecretValueCommand({ SecretId: name }))).ARN!;
    await rejectsWith(eu.send(new GetSecretValueCommand({ SecretId: usArn })), 'ResourceNotFoundException');
  });

  it('hides secrets scheduled for deletion unless IncludePlannedDeletion is set', async () => {
    const name = `${run}/zz/deleted`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'bye' }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    assert.deepEqual(await names([{ Key: 'name', Values: [`${run}/zz/`] }]), []);
    const planned = await list({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: [`${run}/zz/`] }] });
    assert.deepEqual(planned.map((secret) => secret.Name), [name]);
    assert.ok(planned[0]!.DeletedDate instanceof Date);
  });
});

describe('BatchGetSecretValue', () => {
  it('by SecretIdList returns the values it finds and puts a missing id in Errors', async () => {
    const missing = `${run}/does/not/exist`;
    const response = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: [fixtures[0]!.name, missing, fixtures[2]!.name] }));
    const values = Object.fromEntries((response.SecretValues ?? []).map((entry) => [entry.Name!, entry.SecretString]));
    assert.deepEqual(values, { [fixtures[0]!.name]: 'mysql-secret', [fixtures[2]!.name]: 'pg-secret' });
    for (const entry of response.SecretValues ?? []) {
      assert.deepEqual(entry.VersionStages, ['AWSCURRENT']);
      assert.ok(entry.VersionId && entry.ARN && entry.CreatedDate);
    }
    assert.equal(response.Errors?.length, 1);
    assert.equal(response.Errors?.[0]?.SecretId, missing);
    assert.equal(response.Errors?.[0]?.ErrorCode, 'ResourceNotFoundException');
    assert.ok(response.Errors?.[0]?.Message);
  });

  it('by Filters pages with MaxResults and NextToken', async () => {
    const seen: Record<string, string | undefined> = {};
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(
        new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: [`${run}/prod/`, `${run}/dev/`] }], MaxResults: 2, NextToken: token }),
      );
      assert.ok((page.SecretValues?.length ?? 0) <= 2);
      for (const entry of page.SecretValues ?? []) {
        assert.ok(!(entry.Name! in seen), `${entry.Name} seen twice`);
        seen[entry.Name!] = entry.SecretString;
      }
      assert.deepEqual(page.Errors ?? [], []);
      token = page.NextToken;
      pages += 1;
    } while (token);
    assert.equal(pages, 2);
    assert.deepEqual(seen, {
      [`${run}/prod/db/mysql`]: 'mysql-secret',
      [`${run}/prod/api-key`]: 'api-secret',
      [`${run}/dev/db/postgres`]: 'pg-secret',
    });
  });

  it('refuses SecretIdList and Filters together, or neither, with InvalidParameterException', async () => {
    await rejectsWith(
      sm.send(new BatchGetSecretValueCommand({ SecretIdList: [fixtures[0]!.name], Filters: [{ Key: 'name', Values: [run] }] })),
      'InvalidParameterException',
    );
    await rejectsWith(sm.send(new BatchGetSecretValueCommand({})), 'InvalidParameterException');
  });

  it('refuses more than 20 ids with ValidationException', async () => {
    const ids = Array.from({ length: 21 }, (_, index) => `${run}/id${index}`);
    await rejectsWith(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ids })), 'ValidationException');
  });
});
