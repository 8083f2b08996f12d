import type { RequestContext } from '../../core/index.js';
import type { KeyRecord } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import type { KeyMaterial } from '../key-material.js';
import { generateKeyMaterial } from '../key-pairs.js';
import { assertNotPendingDeletion, invalidState } from '../key-state.js';
import { pageByOffset } from '../paging.js';
import type { KmsInput } from '../schemas.js';

const DAY_MS = 86_400_000;
const DEFAULT_ROTATION_PERIOD_DAYS = 365;
const MAX_ON_DEMAND_ROTATIONS = 25;

/**
 * Key rotation adds a backing key and makes it current; every older backing key stays, so old ciphertexts
 * still decrypt. https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
 */
export function createRotationOperations(deps: KmsDeps, access: KeyAccess, material: KeyMaterial) {
  async function enableKeyRotation(ctx: RequestContext, input: KmsInput<'EnableKeyRotation'>) {
    const key = await rotatableKey(ctx, input.KeyId, 'EnableKeyRotation');
    const rotationPeriodDays = input.RotationPeriodInDays ?? DEFAULT_ROTATION_PERIOD_DAYS;
    const nextRotationDate = new Date(ctx.clock.now().getTime() + rotationPeriodDays * DAY_MS);
    const updated = await deps.store.updateKey(key.accountId, key.region, key.keyId, { rotationEnabled: true, rotationPeriodDays, nextRotationDate }, ['Enabled']);
    if (!updated) throw invalidState(key);
    return {};
  }

  async function disableKeyRotation(ctx: RequestContext, input: KmsInput<'DisableKeyRotation'>) {
    const key = await rotatableKey(ctx, input.KeyId, 'DisableKeyRotation');
    const updated = await deps.store.updateKey(
      key.accountId,
      key.region,
      key.keyId,
      { rotationEnabled: false, rotationPeriodDays: undefined, nextRotationDate: undefined },
      ['Enabled'],
    );
    if (!updated) throw invalidState(key);
    return {};
  }

  /**
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html: "While a KMS key is pending
   * deletion, its key rotation status is false ... If you cancel the deletion, the original key rotation status
   * returns", so the stored setting is kept and only reported as off.
   */
  async function getKeyRotationStatus(ctx: RequestContext, input: KmsInput<'GetKeyRotationStatus'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'GetKeyRotationStatus', { accepts: 'id-or-arn' });
    const enabled = key.rotationEnabled && key.keyState !== 'PendingDeletion';
    return {
      KeyRotationEnabled: enabled,
      KeyId: key.arn,
      RotationPeriodInDays: enabled ? key.rotationPeriodDays : undefined,
      NextRotationDate: enabled ? key.nextRotationDate : undefined,
    };
  }

  async function rotateKeyOnDemand(ctx: RequestContext, input: KmsInput<'RotateKeyOnDemand'>) {
    const key = await rotatableKey(ctx, input.KeyId, 'RotateKeyOnDemand');
    const backing = material.newBackingKey(key.arn, key.keyId, ctx.clock.now(), (await generateKeyMaterial(key.keySpec)).material, 'ON_DEMAND');
    // The limit is checked in the same transaction as the insert, so concurrent calls can't pass it together.
    if (!(await deps.store.rotateKeyOnDemand(backing, MAX_ON_DEMAND_ROTATIONS))) {
      throw kmsError('LimitExceededException', `${key.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations.`);
    }
    return { KeyId: key.arn };
  }

  async function listKeyRotations(ctx: RequestContext, input: KmsInput<'ListKeyRotations'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'ListKeyRotations', { accepts: 'id-or-arn' });
    assertNotPendingDeletion(key);
    const rotations = (await deps.store.listBackingKeys(key.keyId))
      .filter((backing) => backing.rotationType !== undefined)
      .map((backing) => ({ KeyId: key.keyId, RotationDate: backing.createdAt, RotationType: backing.rotationType }));
    const { page, NextMarker, Truncated } = pageByOffset(rotations, input.Limit ?? 100, input.Marker);
    return { Rotations: page, NextMarker, Truncated };
  }

  /** Automatic rotation of one due key; the maintenance loop calls it. False when another node rotated it first. */
  async function rotateOnSchedule(key: KeyRecord, now: Date): Promise<boolean> {
    if (!key.nextRotationDate) return false;
    const periodDays = key.rotationPeriodDays ?? DEFAULT_ROTATION_PERIOD_DAYS;
    const backing = material.newBackingKey(key.arn, key.keyId, now, (await generateKeyMaterial(key.keySpec)).material, 'AUTOMATIC');
    return deps.store.rotateKeyOnSchedule(backing, key.nextRotationDate, new Date(now.getTime() + periodDays * DAY_MS));
  }

  /** Only enabled symmetric keys with KMS-made material rotate. https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html */
  async function rotatableKey(ctx: RequestContext, reference: string, action: string): Promise<KeyRecord> {
    const key = await access.customerKeyFor(ctx, reference, action);
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.origin !== 'AWS_KMS') {
      throw kmsError('UnsupportedOperationException', `${key.arn} does not support automatic key rotation.`);
    }
    if (key.keyState === 'Disabled') throw kmsError('DisabledException', `${key.arn} is disabled.`);
    if (key.keyState !== 'Enabled') throw invalidState(key);
    return key;
  }

  return { enableKeyRotation, disableKeyRotation, getKeyRotationStatus, rotateKeyOnDemand, listKeyRotations, rotateOnSchedule };
}
