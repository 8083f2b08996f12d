import type { RequestContext } from '../../core/index.js';
import { requestTagContext, type RequestContextValues } from '../../policy/index.js';
import { keyStoreId } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import { assertNotPendingDeletion } from '../key-state.js';
import { pageByOffset } from '../paging.js';
import type { KmsInput, TagInput } from '../schemas.js';

const MAX_TAGS_PER_KEY = 50;

/** https://docs.aws.amazon.com/kms/latest/developerguide/tagging-keys.html */
export function assertValidTags(tags: TagInput[]): void {
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag.TagKey.startsWith('aws:')) throw kmsError('TagException', `Tag keys beginning with 'aws:' are reserved: ${tag.TagKey}`);
    if (seen.has(tag.TagKey)) throw kmsError('TagException', `Duplicate tag key in the request: ${tag.TagKey}`);
    seen.add(tag.TagKey);
  }
  if (tags.length > MAX_TAGS_PER_KEY) {
    throw kmsError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`);
  }
}

/** aws:RequestTag/<key> and aws:TagKeys of a call that sets tags (TagResource, CreateKey). */
export function kmsRequestTags(tags: ReadonlyArray<{ TagKey: string; TagValue: string }>): RequestContextValues {
  return requestTagContext(tags.map((tag) => [tag.TagKey, tag.TagValue]));
}

export function createTagOperations(deps: KmsDeps, access: KeyAccess) {
  async function tagResource(ctx: RequestContext, input: KmsInput<'TagResource'>) {
    const key = await access.customerKeyFor(ctx, input.KeyId, 'TagResource', { context: kmsRequestTags(input.Tags) });
    assertNotPendingDeletion(key);
    assertValidTags(input.Tags);
    // The store counts in the same transaction as the write, so concurrent calls can't pass the limit together.
    if (!(await deps.store.putKeyTags(keyStoreId(key), input.Tags, MAX_TAGS_PER_KEY))) {
      throw kmsError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`);
    }
    return {};
  }

  async function untagResource(ctx: RequestContext, input: KmsInput<'UntagResource'>) {
    const key = await access.customerKeyFor(ctx, input.KeyId, 'UntagResource', { context: requestTagContext(input.TagKeys.map((key) => [key, undefined])) });
    assertNotPendingDeletion(key);
    await deps.store.removeKeyTags(keyStoreId(key), input.TagKeys);
    return {};
  }

  async function listResourceTags(ctx: RequestContext, input: KmsInput<'ListResourceTags'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'ListResourceTags', { accepts: 'id-or-arn' });
    const { page, NextMarker, Truncated } = pageByOffset(await deps.store.listKeyTags(keyStoreId(key)), input.Limit ?? 50, input.Marker);
    return { Tags: page, NextMarker, Truncated };
  }

  return { tagResource, untagResource, listResourceTags };
}
