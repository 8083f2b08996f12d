import type { RequestContext } from '../../core/index.js';
import type { SecretsDeps } from '../deps.js';
import { requestTagConditions, type SecretAccess } from '../secret-access.js';
import type { SecretsInput } from '../schemas.js';
import { assertValidTags, toStoreTags } from '../tags.js';

export function createTaggingOperations(deps: SecretsDeps, access: SecretAccess) {
  async function tagResource(ctx: RequestContext, input: SecretsInput<'TagResource'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:TagResource', requestTagConditions(input.Tags));
    const existing = (await deps.store.listSecretTags(secret.arn)).map((tag) => tag.TagKey);
    assertValidTags(input.Tags, existing);
    await deps.store.putSecretTags(secret.arn, toStoreTags(input.Tags));
    return {};
  }

  async function untagResource(ctx: RequestContext, input: SecretsInput<'UntagResource'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:UntagResource', { 'aws:TagKeys': input.TagKeys });
    await deps.store.removeSecretTags(secret.arn, input.TagKeys);
    return {};
  }

  return { tagResource, untagResource };
}
