import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type GetRandomPasswordCommandInput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../helpers/clock.js';
import { createKey, DAY_MS, rejectsWith, roundSecondNow } from '../../helpers/kms.js';
import { REGION, secretArnPattern, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion.";

let server: TestServer;
let clock: ManualClock;
let sm: SecretsManagerClient;
let kms: KMSClient;

before(async () => {
  clock = new ManualClock(roundSecondNow());
  server = await startTestServer({ clock });
  sm = secretsClient(server);
  kms = server.kms();
});
after(async () => server.cleanup());

async function create(label: string, extra: { Description?: string; KmsKeyId?: string; Tags?: { Key: string; Value: string }[] } = {}) {
  const name = uniqueSecretName(label);
  const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ...extra }));
  return { name, arn: created.ARN!, firstVersion: created.VersionId! };
}

async function valueOf(secretId: string, selector: { VersionId?: string; VersionStage?: string } = {}) {
  return (await sm.send(new GetSecretValueCommand({ SecretId: secretId, ...selector }))).SecretString;
}

async function describeSecret(secretId: string) {
  return sm.send(new DescribeSecretCommand({ SecretId: secretId }));
}

function utcDay(date: Date): number {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

describe('UpdateSecret', () => {
  it('with a new value creates a new AWSCURRENT version and keeps the old one as AWSPREVIOUS', async () => {
    const { name, firstVersion } = await create('update-value');
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'v2' }));
    assert.equal(updated.Name, name);
    assert.ok(updated.VersionId && updated.VersionId !== firstVersion);
    assert.equal(await valueOf(name), 'v2');
    const described = await describeSecret(name);
    assert.deepEqual(described.VersionIdsToStages, { [firstVersion]: ['AWSPREVIOUS'], [updated.VersionId]: ['AWSCURRENT'] });
  });

  it('with only a Description changes the description and creates no version', async () => {
    const { name, firstVersion } = await create('update-description', { Description: 'old' });
    clock.advanceMs(5_000);
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: name, Description: 'new words' }));
    assert.equal(updated.VersionId, undefined);
    const described = await describeSecret(name);
    assert.equal(described.Description, 'new words');
    assert.deepEqual(described.VersionIdsToStages, { [firstVersion]: ['AWSCURRENT'] });
    assert.equal(described.LastChangedDate?.getTime(), clock.now().getTime());
    assert.equal(await valueOf(name), 'v1');
  });

  it('with a new KmsKeyId seals new versions with it and re-encrypts the labelled ones, keeping the old wrapping', async () => {
    const keyA = await createKey(kms, { Description: 'A' });
    const keyB = await createKey(kms, { Description: 'B' });
    const { name, firstVersion } = await create('rekey', { KmsKeyId: keyA.KeyId });
    await sm.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: keyB.Arn }));
    assert.equal((await describeSecret(name)).KmsKeyId, keyB.Arn);
    const second = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    const third = await sm.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'v3', KmsKeyId: keyB.KeyId }));

    const { Versions } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    const keyOf = Object.fromEntries(Versions!.map((version) => [version.VersionId!, version.KmsKeyIds]));
    // The first version was AWSCURRENT when the key changed: re-encrypted under B, still wrapped by A.
    assert.deepEqual(keyOf[firstVersion], [keyB.Arn, keyA.Arn]);
    assert.deepEqual(keyOf[second.VersionId!], [keyB.Arn]);
    assert.deepEqual(keyOf[third.VersionId!], [keyB.Arn]);
    assert.equal(await valueOf(name, { VersionId: firstVersion }), 'v1');
    assert.equal(await valueOf(name, { VersionId: second.VersionId }), 'v2');
    assert.equal(await valueOf(name), 'v3');

    // Nothing depends on key A alone any more; and with B disabled too, the first version still opens with A.
    await kms.send(new DisableKeyCommand({ KeyId: keyA.KeyId }));
    assert.equal(await valueOf(name), 'v3');
    assert.equal(await valueOf(name, { VersionId: firstVersion }), 'v1');
    await kms.send(new EnableKeyCommand({ KeyId: keyA.KeyId }));
    await kms.send(new DisableKeyCommand({ KeyId: keyB.KeyId }));
    assert.equal(await valueOf(name, { VersionId: firstVersion }), 'v1');
    await rejectsWith(valueOf(name), 'DecryptionFailure');
  });

  it('with an empty KmsKeyId goes back to alias/aws/secretsmanager', async () => {
    const key = await createKey(kms);
    const { name } = await create('back-to-default', { KmsKeyId: key.KeyId });
    await sm.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: '' }));
    assert.equal((await describeSecret(name)).KmsKeyId, undefined);
    const put = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'default key' }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    assert.equal(await valueOf(name), 'default key');
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }));
    const { Versions } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    assert.ok(managed.KeyMetadata?.Arn);
    assert.deepEqual(Versions?.find((version) => version.VersionId === put.VersionId)?.KmsKeyIds, ['DefaultEncryptionKey']);
  });

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    await rejectsWith(sm.send(new UpdateSecretCommand({ SecretId: uniqueSecretName('ghost'), Description: 'x' })), 'ResourceNotFoundException');
  });
});

describe('DescribeSecret', () => {
  it('returns Name, ARN, Description, Tags, dates and PrimaryRegion', async () => {
    const createdAt = clock.now();
    const { name, arn, firstVersion } = await create('describe', {
      Description: 'described secret',
      Tags: [
        { Key: 'team', Value: 'payments' },
        { Key: 'env', Value: 'prod' },
      ],
    });
    const described = await describeSecret(name);
    assert.equal(described.Name, name);
    assert.equal(described.ARN, arn);
    assert.match(arn, secretArnPattern(name));
    assert.equal(described.Description, 'described secret');
    assert.deepEqual([...described.Tags!].sort((a, b) => a.Key!.localeCompare(b.Key!)), [
      { Key: 'env', Value: 'prod' },
      { Key: 'team', Value: 'payments' },
    ]);
    assert.equal(described.CreatedDate?.getTime(), createdAt.getTime());
    assert.equal(described.LastChangedDate?.getTime(), createdAt.getTime());
    assert.equal(described.LastAccessedDate, undefined, 'never read yet');
    assert.equal(described.DeletedDate, undefined);
    assert.equal(described.PrimaryRegion, REGION);
    assert.deepEqual(described.VersionIdsToStages, { [firstVersion]: ['AWSCURRENT'] });
    // Omitted (null) for a secret never configured for rotation, and no key for the default key.
    assert.equal(described.RotationEnabled, undefined);
    assert.equal(described.KmsKeyId, undefined);
  });

  it('shows LastAccessedDate to the day after a read, and LastChangedDate moves with a new value', async () => {
    const { name } = await create('accessed');
    clock.advanceMs(3 * 60 * 60 * 1000 + 1234);
    await valueOf(name);
    const afterRead = await describeSecret(name);
    assert.equal(afterRead.LastAccessedDate?.getTime(), utcDay(clock.now()));
    const { Versions } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    assert.equal(Versions?.[0]?.LastAccessedDate?.getTime(), utcDay(clock.now()));
    // A read on a later day moves it to that day.
    clock.advanceMs(DAY_MS);
    await valueOf(name);
    assert.equal((await describeSecret(name)).LastAccessedDate?.getTime(), utcDay(clock.now()));

    clock.advanceMs(60_000);
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    assert.equal((await describeSecret(name)).LastChangedDate?.getTime(), clock.now().getTime());
  });

  it('records LastAccessedDate for every secret of a burst of concurrent reads (written together, after the turn)', async () => {
    const names = await Promise.all(Array.from({ length: 24 }, (_, index) => create(`burst-${index}`).then((created) => created.name)));
    clock.advanceMs(2 * DAY_MS);
    await Promise.all(names.map((name) => valueOf(name)));
    const described = await Promise.all(names.map((name) => describeSecret(name)));
    for (const secret of described) assert.equal(secret.LastAccessedDate?.getTime(), utcDay(clock.now()), secret.Name);
  });
});

describe('DeleteSecret', () => {
  it('schedules deletion 30 days out by default, with DeletedDate now', async () => {
    const { name, arn } = await create('default-window');
    const now = clock.now();
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name }));
    assert.equal(deleted.ARN, arn);
    assert.equal(deleted.Name, name);
    assert.equal(deleted.DeletionDate?.getTime(), now.getTime() + 30 * DAY_MS);
    assert.equal((await describeSecret(name)).DeletedDate?.getTime(), now.getTime());
  });

  it('takes RecoveryWindowInDays from 7 to 30 and refuses 6 and 31 with InvalidParameterException', async () => {
    const { name } = await create('window');
    await rejectsWith(sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 6 })), 'InvalidParameterException');
    await rejectsWith(sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 31 })), 'InvalidParameterException');
    assert.equal((await describeSecret(name)).DeletedDate, undefined);
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    assert.equal(deleted.DeletionDate?.getTime(), clock.now().getTime() + 7 * DAY_MS);
  });

  it('refuses RecoveryWindowInDays together with ForceDeleteWithoutRecovery with InvalidParameterException', async () => {
    const { name } = await create('both');
    await rejectsWith(
      sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
      'InvalidParameterException',
    );
    assert.equal(await valueOf(name), 'v1');
  });

  it('during the window refuses reads and writes with InvalidRequestException, but DescribeSecret and ListSecretVersionIds work', async () => {
    const { name, firstVersion } = await create('in-window');
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const calls = [
      () => sm.send(new GetSecretValueCommand({ SecretId: name })),
      () => sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'no' })),
      () => sm.send(new UpdateSecretCommand({ SecretId: name, Description: 'no' })),
      () => sm.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'no' })),
      () => sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'X', MoveToVersionId: firstVersion })),
      () => sm.send(new DeleteSecretCommand({ SecretId: name })),
    ];
    for (const call of calls) {
      const error = await rejectsWith(call(), 'InvalidRequestException');
      assert.equal(error.message, MARKED_FOR_DELETION);
    }
    const described = await describeSecret(name);
    assert.ok(described.DeletedDate);
    assert.deepEqual(described.VersionIdsToStages, { [firstVersion]: ['AWSCURRENT'] });
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    assert.deepEqual(versions.Versions?.map((version) => version.VersionId), [firstVersion]);
  });

  it('refuses CreateSecret with the name of a secret in its window with InvalidRequestException', async () => {
    const { name } = await create('name-taken');
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const error = await rejectsWith(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'again' })), 'InvalidRequestException');
    assert.match(error.message, /scheduled for deletion/);
  });

  it('RestoreSecret makes the secret readable again and clears DeletedDate', async () => {
    const { name, arn } = await create('restore');
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const restored = await sm.send(new RestoreSecretCommand({ SecretId: name }));
    assert.equal(restored.ARN, arn);
    assert.equal(restored.Name, name);
    assert.equal(await valueOf(name), 'v1');
    assert.equal((await describeSecret(name)).DeletedDate, undefined);
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    assert.equal(await valueOf(name), 'v2');
  });

  it('after the window the secret is gone (ResourceNotFoundException) and its name is free again', async () => {
    const { name, arn } = await create('expired');
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    clock.advanceMs(7 * DAY_MS + 1000);
    await rejectsWith(valueOf(name), 'ResourceNotFoundException');
    await rejectsWith(describeSecret(name), 'ResourceNotFoundException');
    await rejectsWith(sm.send(new RestoreSecretCommand({ SecretId: name })), 'ResourceNotFoundException');
    const again = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'reborn' }));
    assert.notEqual(again.ARN, arn);
    assert.equal(await valueOf(name), 'reborn');
    await rejectsWith(valueOf(arn), 'ResourceNotFoundException');
  });

  it('CreateSecret takes the name of a secret whose window passed even before anything looked it up', async () => {
    const { name, arn } = await create('expired-unseen');
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    clock.advanceMs(8 * DAY_MS);
    const again = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'second life' }));
    assert.notEqual(again.ARN, arn);
    assert.equal(await valueOf(name), 'second life');
  });

  it('runMaintenance destroys secrets whose window has passed', async () => {
    const { name, arn } = await create('swept');
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const listedBefore = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: [name] }] }));
    assert.deepEqual(listedBefore.SecretList?.map((secret) => secret.ARN), [arn]);
    clock.advanceMs(7 * DAY_MS + 1000);
    await server.server.coffer.runMaintenance();
    const listedAfter = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: [name] }] }));
    assert.deepEqual(listedAfter.SecretList, []);
    await rejectsWith(describeSecret(arn), 'ResourceNotFoundException');
  });

  it('ForceDeleteWithoutRecovery removes the secret at once and frees the name', async () => {
    const { name, arn } = await create('forced');
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    assert.equal(deleted.ARN, arn);
    assert.equal(deleted.DeletionDate?.getTime(), clock.now().getTime());
    await rejectsWith(describeSecret(name), 'ResourceNotFoundException');
    const again = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'fresh' }));
    assert.notEqual(again.ARN, arn);
    assert.equal(await valueOf(name), 'fresh');
  });

  it('ForceDeleteWithoutRecovery works on a secret already in its window, and on one that does not exist', async () => {
    const { name } = await create('force-after-window');
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    await rejectsWith(describeSecret(name), 'ResourceNotFoundException');
    const missing = uniqueSecretName('never-existed');
    const response = await sm.send(new DeleteSecretCommand({ SecretId: missing, ForceDeleteWithoutRecovery: true }));
    assert.equal(response.Name, missing);
    await rejectsWith(sm.send(new DeleteSecretCommand({ SecretId: missing })), 'ResourceNotFoundException');
  });
});

describe('TagResource and UntagResource', () => {
  it('add, overwrite and remove tags', async () => {
    const { name } = await create('tags', { Tags: [{ Key: 'keep', Value: 'me' }] });
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'Environment', Value: 'Production' }, { Key: 'Application', Value: 'MyApp' }] }));
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'Environment', Value: 'Staging' }] }));
    const sorted = async () => [...((await describeSecret(name)).Tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!));
    assert.deepEqual(await sorted(), [
      { Key: 'Application', Value: 'MyApp' },
      { Key: 'Environment', Value: 'Staging' },
      { Key: 'keep', Value: 'me' },
    ]);
    await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['Environment', 'Application', 'not-there'] }));
    assert.deepEqual(await sorted(), [{ Key: 'keep', Value: 'me' }]);
  });

  it('keeps tag keys case-sensitive', async () => {
    const { name } = await create('tag-case');
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'abc', Value: 'lower' }, { Key: 'ABC', Value: 'upper' }] }));
    const tags = (await describeSecret(name)).Tags ?? [];
    assert.equal(tags.length, 2);
    await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['abc'] }));
    assert.deepEqual((await describeSecret(name)).Tags, [{ Key: 'ABC', Value: 'upper' }]);
  });

  it('refuses reserved aws: keys and more than 50 tags', async () => {
    const { name } = await create('tag-limits');
    await rejectsWith(sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'aws:owner', Value: 'x' }] })), 'InvalidParameterException');
    const fifty = Array.from({ length: 50 }, (_, index) => ({ Key: `k${index}`, Value: `v${index}` }));
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: fifty }));
    await rejectsWith(sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'k50', Value: 'one too many' }] })), 'InvalidParameterException');
    assert.equal((await describeSecret(name)).Tags?.length, 50);
  });

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    await rejectsWith(sm.send(new TagResourceCommand({ SecretId: uniqueSecretName('ghost'), Tags: [{ Key: 'a', Value: 'b' }] })), 'ResourceNotFoundException');
    await rejectsWith(sm.send(new UntagResourceCommand({ SecretId: uniqueSecretName('ghost'), TagKeys: ['a'] })), 'ResourceNotFoundException');
  });
});

describe('GetRandomPassword', () => {
  const LOWER = /[a-z]/;
  const UPPER = /[A-Z]/;
  const DIGIT = /[0-9]/;
  const PUNCT = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;

  async function samples(input: GetRandomPasswordCommandInput, count = 20): Promise<string[]> {
    const passwords: string[] = [];
    for (let index = 0; index < count; index++) passwords.push((await sm.send(new GetRandomPasswordCommand(input))).RandomPassword!);
    return passwords;
  }

  it('is 32 characters by default, from letters, digits and punctuation, with each type present and no space', async () => {
    const passwords = await samples({});
    assert.equal(new Set(passwords).size, passwords.length);
    for (const password of passwords) {
      assert.equal(password.length, 32);
      assert.match(password, /^[\x21-\x7e]+$/);
      for (const type of [LOWER, UPPER, DIGIT, PUNCT]) assert.match(password, type);
    }
  });

  it('honours PasswordLength', async () => {
    for (const password of await samples({ PasswordLength: 50 }, 5)) assert.equal(password.length, 50);
    for (const password of await samples({ PasswordLength: 4096 }, 1)) assert.equal(password.length, 4096);
    await rejectsWith(sm.send(new GetRandomPasswordCommand({ PasswordLength: 4097 })), 'ValidationException');
    await rejectsWith(sm.send(new GetRandomPasswordCommand({ PasswordLength: 0 })), 'ValidationException');
  });

  it('honours each Exclude switch', async () => {
    const cases: Array<[GetRandomPasswordCommandInput, RegExp]> = [
      [{ ExcludeNumbers: true }, DIGIT],
      [{ ExcludePunctuation: true }, PUNCT],
      [{ ExcludeUppercase: true }, UPPER],
      [{ ExcludeLowercase: true }, LOWER],
    ];
    for (const [input, forbidden] of cases) {
      for (const password of await samples({ ...input, PasswordLength: 40 })) {
        assert.doesNotMatch(password, forbidden, JSON.stringify(input));
        assert.equal(password.length, 40);
      }
    }
    for (const password of await samples({ ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true })) {
      assert.match(password, /^[a-z]{32}$/);
    }
  });

  it('includes a space only with IncludeSpace, and then in every password when each type is required', async () => {
    for (const password of await samples({})) assert.doesNotMatch(password, / /);
    for (const password of await samples({ IncludeSpace: true, RequireEachIncludedType: true, PasswordLength: 10 })) assert.match(password, / /);
  });

  it('never uses ExcludeCharacters', async () => {
    const excluded = 'aeiouAEIOU0123456789"\'\\`$';
    for (const password of await samples({ ExcludeCharacters: excluded, PasswordLength: 64 })) {
      for (const character of excluded) assert.ok(!password.includes(character), `${JSON.stringify(character)} in ${password}`);
    }
  });

  it('with RequireEachIncludedType gives every included type even in short passwords', async () => {
    for (const password of await samples({ RequireEachIncludedType: true, PasswordLength: 4 })) {
      for (const type of [LOWER, UPPER, DIGIT, PUNCT]) assert.match(password, type, password);
    }
    for (const password of await samples({ RequireEachIncludedType: true, ExcludePunctuation: true, PasswordLength: 3 })) {
      for (const type of [LOWER, UPPER, DIGIT]) assert.match(password, type, password);
      assert.doesNotMatch(password, PUNCT);
    }
  });

  it('refuses rules that exclude every character, and lengths too short for the required types, with InvalidParameterException', async () => {
    await rejectsWith(
      sm.send(new GetRandomPasswordCommand({ ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: true })),
      'InvalidParameterException',
    );
    await rejectsWith(
      sm.send(new GetRandomPasswordCommand({ ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: true, ExcludeCharacters: '0123456789' })),
      'InvalidParameterException',
    );
    await rejectsWith(sm.send(new GetRandomPasswordCommand({ PasswordLength: 3, RequireEachIncludedType: true })), 'InvalidParameterException');
  });
});
