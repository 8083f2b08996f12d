import { randomBytes, randomUUID } from 'node:crypto';
import { kmsKeyArn, type RequestContext } from '../../core/index.js';
import { warnAboutNeverSetKeys } from '../../policy/index.js';
import { keyStoreId, type KeyRecord } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import type { KeyMaterial } from '../key-material.js';
import { keyMetadata } from '../key-metadata.js';
import { generateKeyMaterial } from '../key-pairs.js';
import { assertKeySpecAndUsage } from '../key-specs.js';
import { isImportableKeySpec } from '../imported-material.js';
import { describedKeyMetadata, multiRegionConfiguration } from './multi-region.js';
import { assertPrincipalsExist, assertValidKeyPolicy, defaultKeyPolicy } from '../key-policy.js';
import { assertPolicyKeepsCallerIn } from './policies.js';
import { invalidState, isPastDeletionWindow } from '../key-state.js';
import type { KmsInput } from '../schemas.js';
import { assertValidTags, kmsRequestTags } from './tags.js';

const DAY_MS = 86_400_000;
const DEFAULT_PENDING_WINDOW_DAYS = 30;

/** Key lifecycle: create, describe, list, enable/disable, deletion window, description. */
export function createKeyOperations(deps: KmsDeps, access: KeyAccess, material: KeyMaterial) {
  async function createKey(ctx: RequestContext, input: KmsInput<'CreateKey'>) {
    const keySpec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    const origin = input.Origin ?? 'AWS_KMS';
    if (input.KeySpec && input.CustomerMasterKeySpec) {
      throw kmsError('ValidationException', 'You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.');
    }
    const keyUsage = assertKeySpecAndUsage(keySpec, input.KeyUsage);
    assertSupportedOrigin(origin, keySpec, input.CustomKeyStoreId);
    if (input.Policy !== undefined) assertValidKeyPolicy(input.Policy);
    assertValidTags(input.Tags ?? []);

    const { accountId } = ctx.principal;
    // A multi-Region key's id is `mrk-` and 32 hex digits, AWS's form; its primary is in the caller's Region.
    const keyId = input.MultiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
    const arn = kmsKeyArn(ctx.region, accountId, keyId);
    const now = ctx.clock.now();
    // A key for imported material starts without any: PendingImport until ImportKeyMaterial (import.ts).
    // https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-create-cmk.html
    const external = origin === 'EXTERNAL';
    const backing = external ? undefined : material.newBackingKey(arn, keyStoreId({ keyId, region: ctx.region }), now, (await generateKeyMaterial(keySpec)).material);
    const key: KeyRecord = {
      keyId,
      accountId,
      region: ctx.region,
      arn,
      description: input.Description ?? '',
      keyUsage,
      keySpec,
      origin,
      keyManager: 'CUSTOMER',
      keyState: external ? 'PendingImport' : 'Enabled',
      creationDate: now,
      policy: input.Policy ?? defaultKeyPolicy(accountId),
      rotationEnabled: false,
      currentBackingKeyId: backing?.backingKeyId ?? '',
      ...(input.MultiRegion ? { primaryRegion: ctx.region } : {}),
    };
    // The pipeline checked kms:CreateKey without the request's condition keys; checked again with them, so a Deny
    // on kms:MultiRegion (or the key's spec, usage, origin) applies. An Allow that needs them was refused already.
    await deps.authorizer.authorize(ctx, {
      action: 'kms:CreateKey',
      resource: '*',
      resourceAccount: accountId,
      context: { 'kms:MultiRegion': input.MultiRegion === true, 'kms:KeySpec': keySpec, 'kms:KeyUsage': keyUsage, 'kms:KeyOrigin': origin },
    });
    // CreateKey itself is authorized by the pipeline (kms:CreateKey, IAM policy); Tags need kms:TagResource too.
    // https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html ("Required permissions")
    if (input.Tags?.length) {
      await deps.authorizer.authorize(ctx, { action: 'kms:TagResource', resource: arn, resourceAccount: accountId, context: kmsRequestTags(input.Tags) });
    }
    if (input.Policy !== undefined) await assertPrincipalsExist(deps.principals, input.Policy);
    if (input.Policy !== undefined && !input.BypassPolicyLockoutSafetyCheck) await assertPolicyKeepsCallerIn(ctx, access, key, input.Policy);
    await deps.store.createKey(key, backing, input.Tags ?? []);
    if (input.Policy !== undefined) warnAboutNeverSetKeys(deps.logger, { requestId: ctx.requestId, operation: 'CreateKey', resource: key.arn }, input.Policy, 'RESOURCE_POLICY');
    return { KeyMetadata: keyMetadata(key, key.primaryRegion ? multiRegionConfiguration(key, [key]) : undefined) };
  }

  async function describeKey(ctx: RequestContext, input: KmsInput<'DescribeKey'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'DescribeKey', { grantTokens: input.GrantTokens });
    return { KeyMetadata: await describedKeyMetadata(deps, key) };
  }

  async function listKeys(ctx: RequestContext, input: KmsInput<'ListKeys'>) {
    // The marker is the last key's store id: a UUID, or `<mrk id>/<region>` for a multi-Region key.
    if (input.Marker !== undefined && !/^(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32}\/[a-z0-9-]{1,32})$/.test(input.Marker)) {
      throw kmsError('InvalidMarkerException', 'The marker is not valid.');
    }
    const now = ctx.clock.now();
    const page = await deps.store.listKeys(ctx.principal.accountId, ctx.region, { limit: input.Limit ?? 100, marker: input.Marker });
    const keys = page.items.filter((key) => !isPastDeletionWindow(key, now));
    return {
      Keys: keys.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })),
      NextMarker: page.nextMarker,
      Truncated: page.nextMarker !== undefined,
    };
  }

  async function enableKey(ctx: RequestContext, input: KmsInput<'EnableKey'>) {
    await setEnabled(ctx, input.KeyId, 'Enabled', 'EnableKey');
    return {};
  }

  async function disableKey(ctx: RequestContext, input: KmsInput<'DisableKey'>) {
    await setEnabled(ctx, input.KeyId, 'Disabled', 'DisableKey');
    return {};
  }

  async function setEnabled(ctx: RequestContext, reference: string, keyState: 'Enabled' | 'Disabled', action: string) {
    const key = await access.customerKeyFor(ctx, reference, action);
    const updated = await deps.store.updateKey(key.accountId, key.region, key.keyId, { keyState }, ['Enabled', 'Disabled']);
    if (!updated) throw invalidState(key);
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html */
  async function scheduleKeyDeletion(ctx: RequestContext, input: KmsInput<'ScheduleKeyDeletion'>) {
    const key = await access.customerKeyFor(ctx, input.KeyId, 'ScheduleKeyDeletion');
    const pendingWindowDays = input.PendingWindowInDays ?? DEFAULT_PENDING_WINDOW_DAYS;
    if (key.primaryRegion !== undefined) {
      // A multi-Region primary with replicas waits in PendingReplicaDeletion, without a date, until its last replica
      // is deleted; then its window starts (operations/multi-region.ts, the store's destroyKey).
      const scheduled = await deps.store.scheduleMultiRegionKeyDeletion(key.accountId, key.region, key.keyId, pendingWindowDays, ctx.clock.now());
      if (!scheduled) throw invalidState(key);
      return { KeyId: key.arn, DeletionDate: scheduled.deletionDate, KeyState: scheduled.keyState, PendingWindowInDays: pendingWindowDays };
    }
    const deletionDate = new Date(ctx.clock.now().getTime() + pendingWindowDays * DAY_MS);
    const updated = await deps.store.updateKey(
      key.accountId,
      key.region,
      key.keyId,
      { keyState: 'PendingDeletion', deletionDate, pendingWindowDays },
      ['Enabled', 'Disabled', 'PendingImport'],
    );
    if (!updated) throw invalidState(key);
    return { KeyId: key.arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: pendingWindowDays };
  }

  /**
   * A cancelled deletion leaves the key Disabled, as in AWS; a key of imported material that has none (deleted or
   * expired meanwhile, or never imported) goes back to PendingImport instead.
   */
  async function cancelKeyDeletion(ctx: RequestContext, input: KmsInput<'CancelKeyDeletion'>) {
    const key = await access.customerKeyFor(ctx, input.KeyId, 'CancelKeyDeletion');
    const keyState = key.origin === 'EXTERNAL' && key.currentBackingKeyId === '' ? 'PendingImport' : 'Disabled';
    const updated = await deps.store.updateKey(
      key.accountId,
      key.region,
      key.keyId,
      { keyState, deletionDate: undefined, pendingWindowDays: undefined },
      ['PendingDeletion', 'PendingReplicaDeletion'],
    );
    if (!updated) throw invalidState(key);
    return { KeyId: key.arn };
  }

  async function updateKeyDescription(ctx: RequestContext, input: KmsInput<'UpdateKeyDescription'>) {
    const key = await access.customerKeyFor(ctx, input.KeyId, 'UpdateKeyDescription');
    const updated = await deps.store.updateKey(key.accountId, key.region, key.keyId, { description: input.Description }, ['Enabled', 'Disabled', 'PendingImport']);
    if (!updated) throw invalidState(key);
    return {};
  }

  return { createKey, describeKey, listKeys, enableKey, disableKey, scheduleKeyDeletion, cancelKeyDeletion, updateKeyDescription };
}

/**
 * Coffer serves keys with KMS-made material in its own store (key-specs.ts says which specs and usages), and
 * imported material (Origin EXTERNAL, single- and multi-Region) for the specs `isImportableKeySpec` names
 * (import.ts). Other origins and custom key stores are valid AWS requests, refused with
 * UnsupportedOperationException.
 */
function assertSupportedOrigin(origin: string, keySpec: string, customKeyStoreId?: string) {
  if (origin === 'EXTERNAL' && !isImportableKeySpec(keySpec)) {
    throw kmsError('UnsupportedOperationException', `KeySpec ${keySpec} does not support imported key material (Origin EXTERNAL).`);
  }
  if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') {
    throw kmsError('UnsupportedOperationException', `Origin ${origin} is not supported by this Coffer server yet.`);
  }
  if (customKeyStoreId !== undefined) {
    throw kmsError('UnsupportedOperationException', 'Custom key stores are not supported by this Coffer server.');
  }
}
