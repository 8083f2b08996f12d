import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  type AliasListEntry,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { PREDEFINED_ALIASES } from '../../../src/kms/predefined-aliases.js';
import { createKey, rejectsWith, uniqueAliasName } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ACCOUNT_ID = '000000000000';

let server: TestServer;
let kms: KMSClient;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
});
after(async () => server.cleanup());

async function findAlias(client: KMSClient, aliasName: string): Promise<AliasListEntry | undefined> {
  const { Aliases } = await client.send(new ListAliasesCommand({ Limit: 100 }));
  return Aliases?.find((alias) => alias.AliasName === aliasName);
}

describe('CreateAlias', () => {
  it('creates an alias that ListAliases shows and DescribeKey resolves', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('create');
    const before = Date.now();
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));

    const alias = await findAlias(kms, aliasName);
    assert.ok(alias, 'the alias is listed');
    assert.equal(alias.AliasArn, `arn:aws:kms:us-east-1:${ACCOUNT_ID}:${aliasName}`);
    assert.equal(alias.TargetKeyId, key.KeyId);
    assert.ok(alias.CreationDate instanceof Date && alias.CreationDate.getTime() >= before - 1000);
    assert.ok(alias.LastUpdatedDate instanceof Date);

    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: aliasName }));
    assert.equal(KeyMetadata?.Arn, key.Arn);
  });

  it('accepts the key ARN as TargetKeyId, and several aliases for one key', async () => {
    const key = await createKey(kms);
    const names = [uniqueAliasName('many'), uniqueAliasName('many'), uniqueAliasName('many')];
    for (const aliasName of names) await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.Arn }));
    const { Aliases } = await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }));
    assert.deepEqual(Aliases?.map((alias) => alias.AliasName).sort(), [...names].sort());
  });

  it('accepts a disabled target key', async () => {
    const key = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const aliasName = uniqueAliasName('disabled-target');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    assert.equal((await findAlias(kms, aliasName))?.TargetKeyId, key.KeyId);
  });

  it('refuses a name already taken with AlreadyExistsException, even for another key', async () => {
    const first = await createKey(kms);
    const second = await createKey(kms);
    const aliasName = uniqueAliasName('taken');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: first.KeyId }));
    const error = await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: second.KeyId })), 'AlreadyExistsException');
    assert.match(error.message, new RegExp(`arn:aws:kms:us-east-1:${ACCOUNT_ID}:${aliasName}`));
    assert.equal((await findAlias(kms, aliasName))?.TargetKeyId, first.KeyId, 'the alias still points at the first key');
  });

  it('allows the same name in another region', async () => {
    const aliasName = uniqueAliasName('regional');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: (await createKey(kms)).KeyId }));
    const elsewhere = server.kms({ region: 'eu-west-1' });
    const otherKey = await createKey(elsewhere);
    await elsewhere.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: otherKey.KeyId }));
    assert.equal((await findAlias(elsewhere, aliasName))?.TargetKeyId, otherKey.KeyId);
  });

  it('refuses a name without the alias/ prefix with ValidationException', async () => {
    const key = await createKey(kms);
    const error = await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'no-prefix', TargetKeyId: key.KeyId })), 'ValidationException');
    assert.match(error.message, /alias\//);
  });

  it('refuses names outside the allowed characters and lengths with ValidationException', async () => {
    const key = await createKey(kms);
    for (const aliasName of ['alias/has space', 'alias/semi;colon', 'alias/colon:inside', `alias/${'x'.repeat(251)}`, '']) {
      await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId })), 'ValidationException');
    }
  });

  it('refuses the bare prefix alias/ with InvalidAliasNameException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/', TargetKeyId: key.KeyId })), 'InvalidAliasNameException');
  });

  it('refuses the prefix alias/aws/ reserved for AWS managed keys with NotAuthorizedException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: key.KeyId })), 'NotAuthorizedException');
    assert.equal(await findAlias(kms, 'alias/aws/mine'), undefined);
  });

  it('refuses an alias as TargetKeyId with NotFoundException: aliases point at keys, not aliases', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('first');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    const chained = uniqueAliasName('chained');
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: chained, TargetKeyId: aliasName })), 'NotFoundException');
    const aliasArn = `arn:aws:kms:us-east-1:${ACCOUNT_ID}:${aliasName}`;
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: chained, TargetKeyId: aliasArn })), 'NotFoundException');
    assert.equal(await findAlias(kms, chained), undefined);
  });

  it('refuses a target key that does not exist with NotFoundException', async () => {
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: uniqueAliasName('orphan'), TargetKeyId: randomUUID() })), 'NotFoundException');
  });

  it('refuses a target key pending deletion with KMSInvalidStateException', async () => {
    const key = await createKey(kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: uniqueAliasName('doomed'), TargetKeyId: key.KeyId })), 'KMSInvalidStateException');
  });
});

describe('UpdateAlias', () => {
  it('moves the alias to another key: Encrypt through the alias reports the new key', async () => {
    const oldKey = await createKey(kms);
    const newKey = await createKey(kms);
    const aliasName = uniqueAliasName('moving');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: oldKey.KeyId }));
    const before = await kms.send(new EncryptCommand({ KeyId: aliasName, Plaintext: Buffer.from('x') }));
    assert.equal(before.KeyId, oldKey.Arn);

    await kms.send(new UpdateAliasCommand({ AliasName: aliasName, TargetKeyId: newKey.Arn }));
    const after = await kms.send(new EncryptCommand({ KeyId: aliasName, Plaintext: Buffer.from('x') }));
    assert.equal(after.KeyId, newKey.Arn);
    const alias = await findAlias(kms, aliasName);
    assert.equal(alias?.TargetKeyId, newKey.KeyId);
    assert.ok(alias!.LastUpdatedDate!.getTime() >= alias!.CreationDate!.getTime());
  });

  it('answers NotFoundException for an alias that does not exist, and creates none', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('missing');
    await rejectsWith(kms.send(new UpdateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId })), 'NotFoundException');
    assert.equal(await findAlias(kms, aliasName), undefined);
  });

  it('refuses a destination key pending deletion with KMSInvalidStateException', async () => {
    const key = await createKey(kms);
    const doomed = await createKey(kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyId }));
    const aliasName = uniqueAliasName('stay');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await rejectsWith(kms.send(new UpdateAliasCommand({ AliasName: aliasName, TargetKeyId: doomed.KeyId })), 'KMSInvalidStateException');
    assert.equal((await findAlias(kms, aliasName))?.TargetKeyId, key.KeyId);
  });

  it('moves an alias away from a key pending deletion', async () => {
    const doomed = await createKey(kms);
    const rescue = await createKey(kms);
    const aliasName = uniqueAliasName('rescued');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: doomed.KeyId }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyId }));
    await kms.send(new UpdateAliasCommand({ AliasName: aliasName, TargetKeyId: rescue.KeyId }));
    assert.equal((await findAlias(kms, aliasName))?.TargetKeyId, rescue.KeyId);
  });

  it('refuses an alias as the new target with NotFoundException', async () => {
    const key = await createKey(kms);
    const first = uniqueAliasName('a');
    const second = uniqueAliasName('b');
    await kms.send(new CreateAliasCommand({ AliasName: first, TargetKeyId: key.KeyId }));
    await kms.send(new CreateAliasCommand({ AliasName: second, TargetKeyId: key.KeyId }));
    await rejectsWith(kms.send(new UpdateAliasCommand({ AliasName: first, TargetKeyId: second })), 'NotFoundException');
  });

  it('refuses a name without the alias/ prefix with ValidationException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new UpdateAliasCommand({ AliasName: 'no-prefix', TargetKeyId: key.KeyId })), 'ValidationException');
  });
});

describe('DeleteAlias', () => {
  it('deletes the alias; a second delete answers NotFoundException', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('deleted');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await kms.send(new DeleteAliasCommand({ AliasName: aliasName }));

    assert.equal(await findAlias(kms, aliasName), undefined);
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: aliasName })), 'NotFoundException');
    await rejectsWith(kms.send(new DeleteAliasCommand({ AliasName: aliasName })), 'NotFoundException');
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.KeyState, 'Enabled', 'the key is untouched');
  });

  it('deletes the alias of a key pending deletion', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('pending');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    await kms.send(new DeleteAliasCommand({ AliasName: aliasName }));
    assert.equal(await findAlias(kms, aliasName), undefined);
  });

  it('frees the name for a new alias', async () => {
    const aliasName = uniqueAliasName('reused');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: (await createKey(kms)).KeyId }));
    await kms.send(new DeleteAliasCommand({ AliasName: aliasName }));
    const next = await createKey(kms);
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: next.KeyId }));
    assert.equal((await findAlias(kms, aliasName))?.TargetKeyId, next.KeyId);
  });

  it('refuses a name without the alias/ prefix with ValidationException', async () => {
    await rejectsWith(kms.send(new DeleteAliasCommand({ AliasName: 'no-prefix' })), 'ValidationException');
  });
});

describe('ListAliases', () => {
  // A region of its own, so the listing holds exactly the aliases this block creates.
  let regional: KMSClient;
  let keyA: string;
  let keyB: string;
  const namesOfA: string[] = [];
  const namesOfB: string[] = [];

  before(async () => {
    regional = server.kms({ region: 'eu-central-1' });
    keyA = (await createKey(regional)).KeyId!;
    keyB = (await createKey(regional)).KeyId!;
    for (let i = 0; i < 5; i += 1) namesOfA.push(uniqueAliasName(`a${i}`));
    for (let i = 0; i < 2; i += 1) namesOfB.push(uniqueAliasName(`b${i}`));
    for (const aliasName of namesOfA) await regional.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyA }));
    for (const aliasName of namesOfB) await regional.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyB }));
  });

  /** Follows NextMarker to the end; returns the alias names and each page's Truncated flag. */
  async function pageThrough(input: { KeyId?: string; Limit: number }) {
    const names: string[] = [];
    const truncated: boolean[] = [];
    let marker: string | undefined;
    do {
      const page = await regional.send(new ListAliasesCommand({ ...input, Marker: marker }));
      assert.ok((page.Aliases?.length ?? 0) <= input.Limit);
      names.push(...(page.Aliases ?? []).map((alias) => alias.AliasName!));
      truncated.push(page.Truncated === true);
      assert.equal(page.Truncated === true, page.NextMarker !== undefined, 'NextMarker is present exactly when Truncated');
      marker = page.NextMarker;
    } while (marker !== undefined);
    return { names, truncated };
  }

  it('pages through every alias exactly once with Limit and Marker', async () => {
    const { names, truncated } = await pageThrough({ Limit: 2 });
    // The region's own aliases, and the predefined alias/aws/ ones every region lists (predefined-aliases.ts).
    const own = names.filter((name) => !name.startsWith('alias/aws/'));
    assert.equal(own.length, 7);
    assert.deepEqual(new Set(own), new Set([...namesOfA, ...namesOfB]));
    assert.deepEqual(names.filter((name) => name.startsWith('alias/aws/')), [...PREDEFINED_ALIASES]);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(names, [...names].sort());
    const pages = Math.ceil(names.length / 2);
    assert.deepEqual(truncated, [...Array.from({ length: pages - 1 }, () => true), false]);
  });

  it('filters by KeyId, given as key id or key ARN, also while paging', async () => {
    const byId = await pageThrough({ KeyId: keyA, Limit: 2 });
    assert.deepEqual(byId.names.sort(), [...namesOfA].sort());
    assert.deepEqual(byId.truncated, [true, true, false]);

    const arnOfB = `arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${keyB}`;
    const { Aliases } = await regional.send(new ListAliasesCommand({ KeyId: arnOfB }));
    assert.deepEqual(Aliases?.map((alias) => alias.AliasName).sort(), [...namesOfB].sort());
    for (const alias of Aliases ?? []) assert.equal(alias.TargetKeyId, keyB);
  });

  it('answers an empty list for a key without aliases', async () => {
    const lonely = await createKey(regional);
    const page = await regional.send(new ListAliasesCommand({ KeyId: lonely.KeyId }));
    assert.deepEqual(page.Aliases, []);
    assert.equal(page.Truncated, false);
  });

  it('answers NotFoundException for a KeyId that does not exist', async () => {
    await rejectsWith(regional.send(new ListAliasesCommand({ KeyId: randomUUID() })), 'NotFoundException');
  });

  it('refuses a marker it did not hand out with InvalidMarkerException', async () => {
    await rejectsWith(regional.send(new ListAliasesCommand({ Marker: 'garbage' })), 'InvalidMarkerException');
  });

  it('refuses Limit 0 and 101 with ValidationException', async () => {
    await rejectsWith(regional.send(new ListAliasesCommand({ Limit: 0 })), 'ValidationException');
    await rejectsWith(regional.send(new ListAliasesCommand({ Limit: 101 })), 'ValidationException');
  });
});
