import type { RequestContext } from '../../core/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyLookup } from '../key-lookup.js';
import { assertWellFormedPolicy, DEFAULT_POLICY_NAME } from '../key-policy.js';
import type { KmsInput } from '../schemas.js';

/** Key policies. A key has exactly one, named "default". Enforcement arrives with the access-control work. */
export function createPolicyOperations(deps: KmsDeps, lookup: KeyLookup) {
  async function getKeyPolicy(ctx: RequestContext, input: KmsInput<'GetKeyPolicy'>) {
    assertPolicyName(input.PolicyName);
    const key = await lookup.findKey(ctx, input.KeyId, 'id-or-arn');
    return { Policy: key.policy, PolicyName: DEFAULT_POLICY_NAME };
  }

  async function putKeyPolicy(ctx: RequestContext, input: KmsInput<'PutKeyPolicy'>) {
    assertPolicyName(input.PolicyName);
    const key = await lookup.findCustomerKey(ctx, input.KeyId, 'PutKeyPolicy');
    assertWellFormedPolicy(input.Policy);
    // Every key state accepts a new policy, PendingDeletion included: https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
    const updated = await deps.store.updateKey(key.accountId, key.region, key.keyId, { policy: input.Policy });
    if (!updated) throw kmsError('NotFoundException', `Key '${key.arn}' does not exist`);
    return {};
  }

  async function listKeyPolicies(ctx: RequestContext, input: KmsInput<'ListKeyPolicies'>) {
    await lookup.findKey(ctx, input.KeyId, 'id-or-arn');
    return { PolicyNames: [DEFAULT_POLICY_NAME], Truncated: false };
  }

  return { getKeyPolicy, putKeyPolicy, listKeyPolicies };
}

function assertPolicyName(policyName: string | undefined): void {
  if (policyName !== undefined && policyName !== DEFAULT_POLICY_NAME) {
    throw kmsError('NotFoundException', `No such policy exists: ${policyName}. The only valid policy name is "default".`);
  }
}
