import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../helpers/clock.js';
import { rejectsWith, roundSecondNow } from '../../helpers/kms.js';
import { allPages, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let clock: ManualClock;
let sm: SecretsManagerClient;

before(async () => {
  clock = new ManualClock(roundSecondNow());
  server = await startTestServer({ clock });
  sm = secretsClient(server);
});
after(async () => server.cleanup());

async function create(label: string, value = 'v1') {
  const name = uniqueSecretName(label);
  const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return { name, firstVersion: created.VersionId! };
}

async function put(secretId: string, value: string, extra: { VersionStages?: string[]; ClientRequestToken?: string } = {}) {
  return sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value, ...extra }));
}

async function versions(secretId: string, includeDeprecated: boolean): Promise<SecretVersionsListEntry[]> {
  return allPages(async (token) => {
    const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: includeDeprecated, NextToken: token }));
    return { items: page.Versions ?? [], next: page.NextToken };
  });
}

/** versionId → sorted stages, for every version ListSecretVersionIds shows. */
async function stageMap(secretId: string, includeDeprecated = false): Promise<Record<string, string[]>> {
  const map: Record<string, string[]> = {};
  for (const version of await versions(secretId, includeDeprecated)) map[version.VersionId!] = [...(version.VersionStages ?? [])].sort();
  return map;
}

async function valueOf(secretId: string, selector: { VersionId?: string; VersionStage?: string } = {}) {
  return (await sm.send(new GetSecretValueCommand({ SecretId: secretId, ...selector }))).SecretString;
}

describe('PutSecretValue', () => {
  it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old current; the one before loses its labels', async () => {
    const { name, firstVersion } = await create('put');
    const second = await put(name, 'v2');
    assert.deepEqual(second.VersionStages, ['AWSCURRENT']);
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSPREVIOUS'], [second.VersionId!]: ['AWSCURRENT'] });

    const third = await put(name, 'v3');
    assert.deepEqual(await stageMap(name), { [second.VersionId!]: ['AWSPREVIOUS'], [third.VersionId!]: ['AWSCURRENT'] });
    assert.deepEqual(await stageMap(name, true), {
      [firstVersion]: [],
      [second.VersionId!]: ['AWSPREVIOUS'],
      [third.VersionId!]: ['AWSCURRENT'],
    });
    assert.equal(await valueOf(name), 'v3');
    assert.equal(await valueOf(name, { VersionStage: 'AWSPREVIOUS' }), 'v2');
    // A deprecated version can still be read by its id until it is pruned.
    assert.equal(await valueOf(name, { VersionId: firstVersion }), 'v1');
  });

  it('with VersionStages [AWSPENDING] leaves AWSCURRENT where it is', async () => {
    const { name, firstVersion } = await create('pending');
    const pending = await put(name, 'next', { VersionStages: ['AWSPENDING'] });
    assert.deepEqual(pending.VersionStages, ['AWSPENDING']);
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSCURRENT'], [pending.VersionId!]: ['AWSPENDING'] });
    assert.equal(await valueOf(name), 'v1');
    assert.equal(await valueOf(name, { VersionStage: 'AWSPENDING' }), 'next');
  });

  it('moves a custom label that another version holds', async () => {
    const { name, firstVersion } = await create('custom-move');
    const a = await put(name, 'a', { VersionStages: ['BLUE'] });
    const b = await put(name, 'b', { VersionStages: ['BLUE', 'GREEN'] });
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSCURRENT'], [b.VersionId!]: ['BLUE', 'GREEN'] });
    assert.deepEqual((await stageMap(name, true))[a.VersionId!], []);
  });

  it('is idempotent for the same ClientRequestToken and value, and refuses another value with ResourceExistsException', async () => {
    const { name } = await create('idem');
    const token = randomUUID();
    const first = await put(name, 'same', { ClientRequestToken: token });
    const again = await put(name, 'same', { ClientRequestToken: token });
    assert.equal(first.VersionId, token);
    assert.equal(again.VersionId, token);
    assert.deepEqual(again.VersionStages, ['AWSCURRENT']);
    const error = await rejectsWith(put(name, 'changed', { ClientRequestToken: token }), 'ResourceExistsException');
    assert.match(error.message, new RegExp(`^You can't use ClientRequestToken ${token} because that value is already in use for a version of secret arn:aws:secretsmanager:`));
    assert.equal((await versions(name, true)).length, 2);
    assert.equal(await valueOf(name), 'same');
  });

  it('refuses a call without SecretString or SecretBinary', async () => {
    const { name } = await create('novalue');
    const error = await rejectsWith(sm.send(new PutSecretValueCommand({ SecretId: name })), 'InvalidRequestException');
    assert.match(error.message, /SecretString or SecretBinary/);
  });

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    await rejectsWith(put(uniqueSecretName('nobody'), 'x'), 'ResourceNotFoundException');
  });

  it('gives the first value of a secret created without one AWSCURRENT, and no AWSPREVIOUS', async () => {
    const name = uniqueSecretName('late-value');
    await sm.send(new CreateSecretCommand({ Name: name }));
    const first = await put(name, 'finally');
    assert.deepEqual(first.VersionStages, ['AWSCURRENT']);
    assert.equal(await valueOf(name), 'finally');
    assert.deepEqual((await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages, { [first.VersionId!]: ['AWSCURRENT'] });
  });

  it('refuses SecretString and SecretBinary together with InvalidParameterException', async () => {
    const { name } = await create('put-both');
    await rejectsWith(
      sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'a', SecretBinary: Buffer.from('b') })),
      'InvalidParameterException',
    );
    assert.equal((await versions(name, true)).length, 1);
  });
});

describe('A rotation function written for AWS (the four steps of the seed document)', () => {
  it('createSecret puts AWSPENDING under the token, testSecret reads it, finishSecret moves AWSCURRENT', async () => {
    const { name: secretName } = await create('rotated', '{"apiKey":"old"}');
    const arn = (await sm.send(new DescribeSecretCommand({ SecretId: secretName }))).ARN!;
    const token = randomUUID();

    // createSecret: the pending version does not exist yet, so it is created from the current one.
    await rejectsWith(sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: 'AWSPENDING' })), 'ResourceNotFoundException');
    const current = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }))).SecretString!);
    await sm.send(
      new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify({ ...current, apiKey: 'new' }), VersionStages: ['AWSPENDING'] }),
    );
    // A retried createSecret step is ignored.
    await sm.send(
      new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify({ ...current, apiKey: 'new' }), VersionStages: ['AWSPENDING'] }),
    );

    // testSecret
    const pending = await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: 'AWSPENDING' }));
    assert.equal(JSON.parse(pending.SecretString!).apiKey, 'new');

    // finishSecret
    const metadata = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    const currentVersion = Object.entries(metadata.VersionIdsToStages!).find(([, stages]) => stages.includes('AWSCURRENT'))![0];
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: currentVersion }));

    assert.equal(JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString!).apiKey, 'new');
    assert.deepEqual(await stageMap(secretName), { [currentVersion]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT', 'AWSPENDING'] });
  });
});

describe('UpdateSecretVersionStage', () => {
  it('moves AWSCURRENT with RemoveFromVersionId, and the old current gets AWSPREVIOUS', async () => {
    const { name, firstVersion } = await create('move');
    const pending = await put(name, 'v2', { VersionStages: ['AWSPENDING'] });
    const response = await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: firstVersion }),
    );
    assert.equal(response.Name, name);
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSPREVIOUS'], [pending.VersionId!]: ['AWSCURRENT', 'AWSPENDING'] });
    assert.equal(await valueOf(name), 'v2');
    assert.equal(await valueOf(name, { VersionStage: 'AWSPREVIOUS' }), 'v1');
  });

  it('rolls AWSCURRENT back to the AWSPREVIOUS version, which then leaves AWSPREVIOUS to the version it replaced', async () => {
    const { name, firstVersion } = await create('rollback');
    const second = await put(name, 'v2');
    await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: firstVersion, RemoveFromVersionId: second.VersionId }),
    );
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSCURRENT'], [second.VersionId!]: ['AWSPREVIOUS'] });
    assert.equal(await valueOf(name), 'v1');
  });

  it('refuses to move a label attached elsewhere without RemoveFromVersionId, or with the wrong one', async () => {
    const { name, firstVersion } = await create('norem');
    const pending = await put(name, 'v2', { VersionStages: ['AWSPENDING'] });
    const error = await rejectsWith(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId })),
      'InvalidParameterException',
    );
    assert.match(error.message, new RegExp(`currently attached to version ${firstVersion}`));
    await rejectsWith(
      sm.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: pending.VersionId }),
      ),
      'InvalidParameterException',
    );
    await rejectsWith(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: randomUUID(), RemoveFromVersionId: firstVersion })),
      'InvalidParameterException',
    );
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSCURRENT'], [pending.VersionId!]: ['AWSPENDING'] });
  });

  it('attaches a custom label and removes it again', async () => {
    const { name, firstVersion } = await create('custom');
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'MYLABEL', MoveToVersionId: firstVersion }));
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSCURRENT', 'MYLABEL'] });
    assert.equal(await valueOf(name, { VersionStage: 'MYLABEL' }), 'v1');
    // Attaching it again where it already is changes nothing.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'MYLABEL', MoveToVersionId: firstVersion }));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'MYLABEL', RemoveFromVersionId: firstVersion }));
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSCURRENT'] });
    await rejectsWith(sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'MYLABEL' })), 'ResourceNotFoundException');
  });

  it('removing the last label of a version deprecates it', async () => {
    const { name, firstVersion } = await create('deprecate');
    const pending = await put(name, 'v2', { VersionStages: ['AWSPENDING'] });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: pending.VersionId }));
    assert.deepEqual(await stageMap(name), { [firstVersion]: ['AWSCURRENT'] });
    assert.deepEqual(await stageMap(name, true), { [firstVersion]: ['AWSCURRENT'], [pending.VersionId!]: [] });
  });

  it('refuses to remove AWSCURRENT without moving it, with InvalidParameterException', async () => {
    const { name, firstVersion } = await create('keepcurrent');
    await rejectsWith(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', RemoveFromVersionId: firstVersion })),
      'InvalidParameterException',
    );
    assert.equal(await valueOf(name), 'v1');
  });

  it('refuses a 21st staging label with LimitExceededException', async () => {
    const { name } = await create('labels');
    const labels = Array.from({ length: 20 }, (_, index) => `L${index}`);
    const many = await put(name, 'labelled', { VersionStages: ['AWSCURRENT', ...labels.slice(0, 19)] });
    assert.equal(many.VersionStages?.length, 20);
    const error = await rejectsWith(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'ONE-TOO-MANY', MoveToVersionId: many.VersionId })),
      'LimitExceededException',
    );
    assert.match(error.message, /20/);
    assert.equal((await stageMap(name))[many.VersionId!]?.length, 20);
  });

  it('refuses more than 20 labels in one PutSecretValue with ValidationException', async () => {
    const { name } = await create('toomany');
    const labels = Array.from({ length: 21 }, (_, index) => `L${index}`);
    await rejectsWith(put(name, 'x', { VersionStages: labels }), 'ValidationException');
  });
});

describe('ListSecretVersionIds and DescribeSecret VersionIdsToStages', () => {
  it('agree on the labelled versions, and DescribeSecret omits deprecated ones', async () => {
    const { name, firstVersion } = await create('agree');
    const second = await put(name, 'v2');
    const third = await put(name, 'v3');
    const pending = await put(name, 'v4', { VersionStages: ['AWSPENDING'] });
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    const expected = {
      [second.VersionId!]: ['AWSPREVIOUS'],
      [third.VersionId!]: ['AWSCURRENT'],
      [pending.VersionId!]: ['AWSPENDING'],
    };
    assert.deepEqual(described.VersionIdsToStages, expected);
    assert.deepEqual(await stageMap(name), expected);
    assert.ok(!(firstVersion in described.VersionIdsToStages!));
  });

  it('pages with MaxResults and NextToken, and refuses a bad token with InvalidNextTokenException', async () => {
    const { name, firstVersion } = await create('paging');
    const ids = [firstVersion];
    for (let index = 0; index < 6; index++) ids.push((await put(name, `p${index}`)).VersionId!);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, MaxResults: 3, NextToken: token }));
      assert.ok((page.Versions?.length ?? 0) <= 3);
      seen.push(...page.Versions!.map((version) => version.VersionId!));
      token = page.NextToken;
      pages += 1;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    await rejectsWith(sm.send(new ListSecretVersionIdsCommand({ SecretId: name, NextToken: 'not-a-token' })), 'InvalidNextTokenException');
  });
});

describe('Deprecated version pruning', () => {
  it('keeps every version younger than 24 hours, then prunes deprecated versions beyond 100', async () => {
    const { name } = await create('prune');
    const created: string[] = [];
    for (let index = 0; index < 105; index++) created.push((await put(name, `value-${index}`)).VersionId!);
    const before = await versions(name, true);
    assert.equal(before.length, 106, 'nothing is pruned within 24 hours');
    assert.equal(before.filter((version) => (version.VersionStages ?? []).length === 0).length, 104);

    clock.advanceMs(25 * 60 * 60 * 1000);
    const latest = await put(name, 'after a day');
    const after = await versions(name, true);
    const deprecated = after.filter((version) => (version.VersionStages ?? []).length === 0);
    assert.ok(deprecated.length <= 100, `${deprecated.length} deprecated versions remain`);
    assert.equal(deprecated.length, 100);
    // The oldest go first; the labelled ones stay.
    const remaining = new Set(after.map((version) => version.VersionId));
    assert.ok(remaining.has(latest.VersionId));
    assert.ok(remaining.has(created[104]));
    assert.ok(!remaining.has(created[0]));
    assert.equal(await valueOf(name), 'after a day');
    assert.equal(await valueOf(name, { VersionStage: 'AWSPREVIOUS' }), 'value-104');
  });
});
