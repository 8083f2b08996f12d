import type { RequestContext } from '../../core/index.js';
import { keyStoreId, type KeyRecord } from '../../store/index.js';
import { isReplica, primaryOf, rotationBackings } from './multi-region.js';
import type { KmsDeps } from '../deps.js';
import { keyMaterialIdOf } from '../key-material-id.js';
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
    // A multi-Region key's rotation is a shared property, kept on its primary: a replica reports the primary's.
    const settings = isReplica(key) ? ((await primaryOf(deps, key)) ?? key) : key;
    const enabled = settings.rotationEnabled && key.keyState !== 'PendingDeletion' && key.keyState !== 'PendingReplicaDeletion';
    return {
      KeyRotationEnabled: enabled,
      KeyId: key.arn,
      RotationPeriodInDays: enabled ? settings.rotationPeriodDays : undefined,
      NextRotationDate: enabled ? settings.nextRotationDate : undefined,
    };
  }

  async function rotateKeyOnDemand(ctx: RequestContext, input: KmsInput<'RotateKeyOnDemand'>) {
    const key = await rotatableKey(ctx, input.KeyId, 'RotateKeyOnDemand');
    const now = ctx.clock.now();
    // The limit is checked in the same transaction as the insert, so concurrent calls can't pass it together. A
    // multi-Region primary gets the new backing key in every replica in that transaction too.
    const rotated = await rotationBackings(deps, material, key, now, 'ON_DEMAND', (backing, replicas) =>
      deps.store.rotateKeyOnDemand(backing, MAX_ON_DEMAND_ROTATIONS, replicas),
    );
    if (!rotated) {
      throw kmsError('LimitExceededException', `${key.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations.`);
    }
    // AWS answers the key id here (its CloudTrail example's responseElements), not the ARN.
    // https://docs.aws.amazon.com/kms/latest/developerguide/ct-rotatekeyondemand.html
    return { KeyId: key.keyId };
  }

  async function listKeyRotations(ctx: RequestContext, input: KmsInput<'ListKeyRotations'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'ListKeyRotations', { accepts: 'id-or-arn' });
    assertNotPendingDeletion(key);
    const rotations = (await deps.store.listBackingKeys(keyStoreId(key)))
      .filter((backing) => backing.rotationType !== undefined)
      .map((backing) => ({
        KeyId: key.keyId,
        KeyMaterialId: keyMaterialIdOf(key, backing.backingKeyId),
        RotationDate: backing.createdAt,
        RotationType: backing.rotationType,
      }));
    const { page, NextMarker, Truncated } = pageByOffset(rotations, input.Limit ?? 100, input.Marker);
    return { Rotations: page, NextMarker, Truncated };
  }

  /** Automatic rotation of one due key; the maintenance loop calls it. False when another node rotated it first. */
  async function rotateOnSchedule(key: KeyRecord, now: Date): Promise<boolean> {
    if (!key.nextRotationDate) return false;
    const periodDays = key.rotationPeriodDays ?? DEFAULT_ROTATION_PERIOD_DAYS;
    const dueDate = key.nextRotationDate;
    return rotationBackings(deps, material, key, now, 'AUTOMATIC', (backing, replicas) =>
      deps.store.rotateKeyOnSchedule(backing, dueDate, new Date(now.getTime() + periodDays * DAY_MS), replicas),
    );
  }

  /** Only enabled symmetric keys with KMS-made material rotate. https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html */
  async function rotatableKey(ctx: RequestContext, reference: string, action: string): Promise<KeyRecord> {
    const key = await access.customerKeyFor(ctx, reference, action);
    // "To enable or disable automatic rotation of a set of related multi-Region keys, set the property on the
    // primary key" (EnableKeyRotation); on-demand rotation is invoked on the primary too.
    if (isReplica(key)) {
      throw kmsError('UnsupportedOperationException', `${key.arn} is a multi-Region replica key. Rotate its primary key in ${key.primaryRegion}.`);
    }
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.origin !== 'AWS_KMS') {
      throw kmsError('UnsupportedOperationException', `${key.arn} does not support automatic key rotation.`);
    }
    if (key.keyState === 'Disabled') throw kmsError('DisabledException', `${key.arn} is disabled.`);
    if (key.keyState !== 'Enabled') throw invalidState(key);
    return key;
  }

  return { enableKeyRotation, disableKeyRotation, getKeyRotationStatus, rotateKeyOnDemand, listKeyRotations, rotateOnSchedule };
}
