import { AwsError, type RequestContext } from '../../core/index.js';
import { warnAboutNeverSetKeys } from '../../policy/index.js';
import type { KeyRecord } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import { assertPrincipalsExist, assertValidKeyPolicy, DEFAULT_POLICY_NAME, LOCKOUT_MESSAGE } from '../key-policy.js';
import type { KmsInput } from '../schemas.js';

/** Key policies. A key has exactly one, named "default"; key-access.ts enforces it on every key operation. */
export function createPolicyOperations(deps: KmsDeps, access: KeyAccess) {
  async function getKeyPolicy(ctx: RequestContext, input: KmsInput<'GetKeyPolicy'>) {
    assertPolicyName(input.PolicyName);
    const key = await access.keyFor(ctx, input.KeyId, 'GetKeyPolicy', { accepts: 'id-or-arn' });
    return { Policy: key.policy, PolicyName: DEFAULT_POLICY_NAME };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html */
  async function putKeyPolicy(ctx: RequestContext, input: KmsInput<'PutKeyPolicy'>) {
    assertPolicyName(input.PolicyName);
    const key = await access.customerKeyFor(ctx, input.KeyId, 'PutKeyPolicy');
    assertValidKeyPolicy(input.Policy);
    await assertPrincipalsExist(deps.principals, input.Policy);
    if (!input.BypassPolicyLockoutSafetyCheck) await assertPolicyKeepsCallerIn(ctx, access, key, input.Policy);
    // Every key state accepts a new policy, PendingDeletion included: https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
    const updated = await deps.store.updateKey(key.accountId, key.region, key.keyId, { policy: input.Policy });
    if (!updated) throw kmsError('NotFoundException', `Key '${key.arn}' does not exist`);
    warnAboutNeverSetKeys(deps.logger, { requestId: ctx.requestId, operation: 'PutKeyPolicy', resource: key.arn }, input.Policy, 'RESOURCE_POLICY');
    return {};
  }

  async function listKeyPolicies(ctx: RequestContext, input: KmsInput<'ListKeyPolicies'>) {
    await access.keyFor(ctx, input.KeyId, 'ListKeyPolicies', { accepts: 'id-or-arn' });
    return { PolicyNames: [DEFAULT_POLICY_NAME], Truncated: false };
  }

  return { getKeyPolicy, putKeyPolicy, listKeyPolicies };
}

/**
 * The key policy lockout safety check: "The key policy must allow the calling principal to make a subsequent
 * PutKeyPolicy request on the KMS key", evaluated as that request would be (the new policy with the caller's
 * identity policies), unless BypassPolicyLockoutSafetyCheck. AWS answers MalformedPolicyDocumentException.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#prevent-unmanageable-key
 */
export async function assertPolicyKeepsCallerIn(ctx: RequestContext, access: KeyAccess, key: KeyRecord, policy: string): Promise<void> {
  const compiled = access.compile(policy);
  try {
    await access.authorizeKey(ctx, key, 'PutKeyPolicy', { policy: compiled });
  } catch (error) {
    if (error instanceof AwsError && error.code === 'AccessDeniedException') throw kmsError('MalformedPolicyDocumentException', LOCKOUT_MESSAGE);
    throw error;
  }
}

function assertPolicyName(policyName: string | undefined): void {
  if (policyName !== undefined && policyName !== DEFAULT_POLICY_NAME) {
    throw kmsError('NotFoundException', `No such policy exists: ${policyName}. The only valid policy name is "default".`);
  }
}
