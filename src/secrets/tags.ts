import { secretsError } from './errors.js';
import type { TagInput } from './schemas.js';

const MAX_TAGS_PER_SECRET = 50;

/** https://docs.aws.amazon.com/secretsmanager/latest/userguide/managing-secrets_tagging.html */
export function assertValidTags(tags: TagInput[], existingKeys: Iterable<string> = []): void {
  const keys = new Set(existingKeys);
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag.Key.toLowerCase().startsWith('aws:')) throw secretsError('InvalidParameterException', `Tag keys beginning with 'aws:' are reserved: ${tag.Key}`);
    if (seen.has(tag.Key)) throw secretsError('InvalidParameterException', `Duplicate tag key in the request: ${tag.Key}`);
    seen.add(tag.Key);
    keys.add(tag.Key);
  }
  if (keys.size > MAX_TAGS_PER_SECRET) {
    throw secretsError('InvalidParameterException', `A secret can have at most ${MAX_TAGS_PER_SECRET} tags.`);
  }
}

export function toStoreTags(tags: TagInput[]) {
  return tags.map((tag) => ({ TagKey: tag.Key, TagValue: tag.Value }));
}
