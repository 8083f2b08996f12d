import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  GetKeyPolicyCommand,
  ListKeyPoliciesCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type KeyMetadata,
  type KMSClient,
  type Tag,
} from '@aws-sdk/client-kms';
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

function tagsNumbered(count: number, prefix = 'k'): Tag[] {
  return Array.from({ length: count }, (_, i) => ({ TagKey: `${prefix}${String(i).padStart(2, '0')}`, TagValue: `v${i}` }));
}

async function tagMap(key: KeyMetadata): Promise<Record<string, string>> {
  const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
  return Object.fromEntries((Tags ?? []).map((tag) => [tag.TagKey!, tag.TagValue!]));
}

function samplePolicy(sid: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: `policy-${sid}`,
    Statement: [{ Sid: sid, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' }],
  });
}

describe('TagResource, UntagResource and ListResourceTags', () => {
  it('adds tags, overwrites the value of an existing key, and removes tags', async () => {
    const key = await createKey(kms, { Tags: [{ TagKey: 'team', TagValue: 'payments' }] });
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'env', TagValue: 'dev' }, { TagKey: 'cost', TagValue: '' }] }));
    assert.deepEqual(await tagMap(key), { team: 'payments', env: 'dev', cost: '' });

    await kms.send(new TagResourceCommand({ KeyId: key.Arn, Tags: [{ TagKey: 'env', TagValue: 'prod' }] }));
    assert.deepEqual(await tagMap(key), { team: 'payments', env: 'prod', cost: '' });

    await kms.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ['team', 'cost', 'never-there'] }));
    assert.deepEqual(await tagMap(key), { env: 'prod' });
  });

  it('a key without tags lists none', async () => {
    const key = await createKey(kms);
    const page = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
    assert.deepEqual(page.Tags, []);
    assert.equal(page.Truncated, false);
  });

  it('ListResourceTags pages with Limit and Marker, showing every tag once', async () => {
    const tags = tagsNumbered(5);
    const key = await createKey(kms, { Tags: tags });
    const seen: Tag[] = [];
    const truncated: boolean[] = [];
    let marker: string | undefined;
    do {
      const page = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 2, Marker: marker }));
      assert.ok((page.Tags?.length ?? 0) <= 2);
      seen.push(...(page.Tags ?? []));
      truncated.push(page.Truncated === true);
      marker = page.NextMarker;
    } while (marker !== undefined);
    assert.deepEqual(truncated, [true, true, false]);
    assert.deepEqual(
      seen.map((tag) => tag.TagKey).sort(),
      tags.map((tag) => tag.TagKey).sort(),
    );
  });

  it('ListResourceTags refuses a bad marker with InvalidMarkerException and Limit 51 with ValidationException', async () => {
    const key = await createKey(kms, { Tags: tagsNumbered(3) });
    await rejectsWith(kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Marker: 'not-a-marker' })), 'InvalidMarkerException');
    await rejectsWith(kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 51 })), 'ValidationException');
  });

  it('allows 50 tags and refuses the 51st with LimitExceededException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: tagsNumbered(51) })), 'LimitExceededException');
    assert.deepEqual(await tagMap(key), {}, 'a refused request adds nothing');

    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: tagsNumbered(50) }));
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'one-more', TagValue: 'x' }] })), 'LimitExceededException');
    // Changing the value of an existing tag does not add one.
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'k00', TagValue: 'changed' }] }));
    const tags = await tagMap(key);
    assert.equal(Object.keys(tags).length, 50);
    assert.equal(tags.k00, 'changed');
  });

  it('CreateKey refuses 51 tags with LimitExceededException', async () => {
    await rejectsWith(kms.send(new CreateKeyCommand({ Tags: tagsNumbered(51) })), 'LimitExceededException');
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: randomUUID(), Tags: tagsNumbered(1) })), 'NotFoundException');
    await rejectsWith(kms.send(new UntagResourceCommand({ KeyId: randomUUID(), TagKeys: ['k00'] })), 'NotFoundException');
    await rejectsWith(kms.send(new ListResourceTagsCommand({ KeyId: randomUUID() })), 'NotFoundException');
  });

  it('refuses tag keys in the reserved aws: namespace with TagException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'aws:owner', TagValue: 'me' }] })), 'TagException');
    assert.deepEqual(await tagMap(key), {});
  });

  it('refuses a tag key longer than 128 characters with ValidationException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'k'.repeat(129), TagValue: 'v' }] })), 'ValidationException');
  });

  it('tags a disabled key', async () => {
    const key = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'state', TagValue: 'disabled' }] }));
    assert.deepEqual(await tagMap(key), { state: 'disabled' });
  });

  it('a key pending deletion refuses TagResource and UntagResource with KMSInvalidStateException but lists its tags', async () => {
    const key = await createKey(kms, { Tags: [{ TagKey: 'keep', TagValue: 'me' }] });
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'new', TagValue: 'x' }] })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ['keep'] })), 'KMSInvalidStateException');
    assert.deepEqual(await tagMap(key), { keep: 'me' });
  });

  it('takes a key id or key ARN but not an alias: NotFoundException', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('tags');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: aliasName, Tags: [{ TagKey: 'a', TagValue: 'b' }] })), 'NotFoundException');
  });
});

describe('GetKeyPolicy', () => {
  it('the default policy is valid JSON that lets the account root do everything', async () => {
    const key = await createKey(kms);
    const { Policy, PolicyName } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default' }));
    assert.equal(PolicyName, 'default');
    const document = JSON.parse(Policy!);
    assert.equal(document.Version, '2012-10-17');
    assert.equal(document.Statement.length, 1);
    const [statement] = document.Statement;
    assert.equal(statement.Effect, 'Allow');
    assert.deepEqual(statement.Principal, { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` });
    assert.equal(statement.Action, 'kms:*');
    assert.equal(statement.Resource, '*');
  });

  it('PolicyName may be left out', async () => {
    const key = await createKey(kms, { Policy: samplePolicy('implicit') });
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.Arn }));
    assert.equal(Policy, samplePolicy('implicit'));
  });

  it('answers NotFoundException for a PolicyName other than default', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'other' })), 'NotFoundException');
  });

  it('reads the policy of a key pending deletion', async () => {
    const key = await createKey(kms, { Policy: samplePolicy('pending') });
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }));
    assert.equal(Policy, samplePolicy('pending'));
  });
});

describe('PutKeyPolicy', () => {
  it('replaces the policy, which GetKeyPolicy then returns', async () => {
    const key = await createKey(kms);
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default', Policy: samplePolicy('replaced') }));
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default' }));
    assert.equal(Policy, samplePolicy('replaced'));
  });

  it('refuses a malformed policy with MalformedPolicyDocumentException and keeps the old one', async () => {
    const key = await createKey(kms, { Policy: samplePolicy('kept') });
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: '{"Statement": ' })), 'MalformedPolicyDocumentException');
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }));
    assert.equal(Policy, samplePolicy('kept'));
  });

  it('answers NotFoundException for a PolicyName other than default', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'other', Policy: samplePolicy('x') })), 'NotFoundException');
  });

  it('sets the policy of a disabled key and of a key pending deletion', async () => {
    const disabled = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    await kms.send(new PutKeyPolicyCommand({ KeyId: disabled.KeyId, Policy: samplePolicy('disabled') }));
    assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: disabled.KeyId }))).Policy, samplePolicy('disabled'));

    const pending = await createKey(kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: pending.KeyId }));
    await kms.send(new PutKeyPolicyCommand({ KeyId: pending.KeyId, Policy: samplePolicy('pending') }));
    assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: pending.KeyId }))).Policy, samplePolicy('pending'));
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: randomUUID(), Policy: samplePolicy('x') })), 'NotFoundException');
  });
});

describe('ListKeyPolicies', () => {
  it('lists the one policy name, default', async () => {
    const key = await createKey(kms);
    const { PolicyNames, Truncated } = await kms.send(new ListKeyPoliciesCommand({ KeyId: key.KeyId }));
    assert.deepEqual(PolicyNames, ['default']);
    assert.equal(Truncated, false);
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    await rejectsWith(kms.send(new ListKeyPoliciesCommand({ KeyId: randomUUID() })), 'NotFoundException');
  });
});
