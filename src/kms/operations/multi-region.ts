import { generateKeyMaterial } from '../key-pairs.js';
import { kmsKeyArn, type RequestContext } from '../../core/index.js';
import { warnAboutNeverSetKeys } from '../../policy/index.js';
import { keyStoreId, MultiRegionKeyChangedError, type BackingKeyRecord, type KeyRecord, type RotationType } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import type { KeyMaterial } from '../key-material.js';
import { keyMetadata } from '../key-metadata.js';
import { assertPrincipalsExist, assertValidKeyPolicy, defaultKeyPolicy } from '../key-policy.js';
import { invalidState } from '../key-state.js';
import type { KmsInput } from '../schemas.js';
import { assertPolicyKeepsCallerIn } from './policies.js';
import { assertValidTags, kmsRequestTags } from './tags.js';

/**
 * Multi-Region keys: a primary key and its replicas in other Regions of the same account, with one key id
 * (`mrk-…`) and the same key material, so a ciphertext made in one Region decrypts in the others.
 * https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html
 *
 * Regions are namespaces of one Coffer deployment, so a replica is a key row of its own in its Region (stored
 * under `<mrk id>/<region>`, store/records/kms.ts keyStoreId), with its own policy, description, tags, aliases,
 * grants and key state; its backing keys carry the primary's backing key ids and material, sealed again for the
 * replica's ARN. Shared properties (material, spec, usage, origin, automatic rotation) change only through the
 * primary, and a rotation reaches every member in one store transaction.
 */

/** True for a member of a multi-Region key that is not its primary. */
export function isReplica(key: KeyRecord): boolean {
  return key.primaryRegion !== undefined && key.primaryRegion !== key.region;
}

/** The primary member of a multi-Region key, read from the store (undefined when it is gone). */
export async function primaryOf(deps: Pick<KmsDeps, 'store'>, key: KeyRecord): Promise<KeyRecord | undefined> {
  if (key.primaryRegion === undefined || key.primaryRegion === key.region) return key;
  return (await deps.store.listMultiRegionKeys(key.keyId)).find((member) => member.region === member.primaryRegion);
}

/**
 * DescribeKey's MultiRegionConfiguration for a member, listing the primary and every replica.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_MultiRegionConfiguration.html
 */
export function multiRegionConfiguration(key: KeyRecord, members: readonly KeyRecord[]) {
  const primaryRegion = key.primaryRegion!;
  return {
    MultiRegionKeyType: key.region === primaryRegion ? 'PRIMARY' : 'REPLICA',
    PrimaryKey: { Arn: kmsKeyArn(primaryRegion, key.accountId, key.keyId), Region: primaryRegion },
    ReplicaKeys: members.filter((member) => member.region !== primaryRegion).map((member) => ({ Arn: member.arn, Region: member.region })),
  };
}

/** KeyMetadata of any key, with MultiRegionConfiguration read from the store for a multi-Region key. */
export async function describedKeyMetadata(deps: Pick<KmsDeps, 'store'>, key: KeyRecord) {
  if (key.primaryRegion === undefined) return keyMetadata(key);
  return keyMetadata(key, multiRegionConfiguration(key, await deps.store.listMultiRegionKeys(key.keyId)));
}

const MAX_MEMBER_RACES = 3;

/**
 * Seals a rotation's new backing key for `key` and hands it to `write` (a store rotation): for a multi-Region
 * primary, the same backing key for each of its replicas too, so the store writes them in one transaction. When a
 * replica came or went meanwhile the store refuses (MultiRegionKeyChangedError) and the members are read again.
 */
export async function rotationBackings(
  deps: Pick<KmsDeps, 'store'>,
  material: KeyMaterial,
  key: KeyRecord,
  now: Date,
  rotationType: RotationType,
  write: (backing: BackingKeyRecord, replicaBackings: BackingKeyRecord[]) => Promise<boolean>,
): Promise<boolean> {
  if (key.primaryRegion === undefined) {
    return write(material.newBackingKey(key.arn, keyStoreId(key), now, (await generateKeyMaterial(key.keySpec)).material, rotationType), []);
  }
  for (let attempt = 1; ; attempt += 1) {
    const members = await deps.store.listMultiRegionKeys(key.keyId);
    const replicas = members.filter((member) => member.region !== key.region);
    const [backing, ...replicaBackings] = material.newBackingKeys([key, ...replicas], now, (await generateKeyMaterial(key.keySpec)).material, rotationType);
    try {
      return await write(backing!, replicaBackings);
    } catch (error) {
      if (!(error instanceof MultiRegionKeyChangedError) || attempt >= MAX_MEMBER_RACES) throw error;
    }
  }
}

export function createMultiRegionOperations(deps: KmsDeps, access: KeyAccess, material: KeyMaterial) {
  /**
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html. Required permissions:
   * kms:ReplicateKey on the primary key (its key policy), kms:CreateKey in an IAM policy in the replica Region, and
   * kms:TagResource there for Tags. Coffer's replica is Enabled at once (AWS shows Creating for a few seconds).
   */
  async function replicateKey(ctx: RequestContext, input: KmsInput<'ReplicateKey'>) {
    if (input.Policy !== undefined) assertValidKeyPolicy(input.Policy);
    assertValidTags(input.Tags ?? []);
    const primary = await access.customerKeyFor(ctx, input.KeyId, 'ReplicateKey', { context: { 'kms:ReplicaRegion': input.ReplicaRegion } });
    if (primary.primaryRegion === undefined) {
      throw kmsError('UnsupportedOperationException', `${primary.arn} is not a multi-Region key.`);
    }
    if (isReplica(primary)) {
      throw kmsError('UnsupportedOperationException', `${primary.arn} is not a multi-Region primary key. Replicate its primary key in ${primary.primaryRegion}.`);
    }
    if (primary.keyState !== 'Enabled' && primary.keyState !== 'Disabled') throw invalidState(primary);
    const replicaRegion = input.ReplicaRegion;
    const replicaArn = kmsKeyArn(replicaRegion, primary.accountId, primary.keyId);
    const inReplicaRegion: RequestContext = { ...ctx, region: replicaRegion };
    // The replica Region's side is decided by the caller's IAM policies, as a CreateKey made there would be.
    await deps.authorizer.authorize(inReplicaRegion, {
      action: 'kms:CreateKey',
      resource: '*',
      resourceAccount: primary.accountId,
      context: { 'kms:MultiRegion': true, 'kms:KeySpec': primary.keySpec, 'kms:KeyUsage': primary.keyUsage, 'kms:KeyOrigin': primary.origin },
    });
    if (input.Tags?.length) {
      await deps.authorizer.authorize(inReplicaRegion, {
        action: 'kms:TagResource',
        resource: replicaArn,
        resourceAccount: primary.accountId,
        context: kmsRequestTags(input.Tags),
      });
    }
    if (replicaRegion === primary.region) throw alreadyExists(primary.keyId, replicaRegion);

    const replica: KeyRecord = {
      keyId: primary.keyId,
      accountId: primary.accountId,
      region: replicaRegion,
      arn: replicaArn,
      description: input.Description ?? '',
      keyUsage: primary.keyUsage,
      keySpec: primary.keySpec,
      origin: primary.origin,
      keyManager: 'CUSTOMER',
      // A replica of a primary with imported material gets none: "AWS KMS does not copy or synchronize the key
      // material from a primary key with imported key material to its replica keys. You must import the same key
      // material" (multi-region-keys-import.html). It starts PendingImport, with the primary's KeyMaterialId as the
      // check that lets only that material in (import.ts); expiry and deletion of material are then per member.
      keyState: primary.origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
      ...(primary.origin === 'EXTERNAL' ? { keyMaterialId: primary.keyMaterialId } : {}),
      creationDate: ctx.clock.now(),
      policy: input.Policy ?? defaultKeyPolicy(primary.accountId),
      // Automatic rotation is a shared property kept on the primary (GetKeyRotationStatus of a replica reads it).
      rotationEnabled: false,
      currentBackingKeyId: primary.currentBackingKeyId,
      primaryRegion: primary.region,
    };
    if (input.Policy !== undefined) await assertPrincipalsExist(deps.principals, input.Policy);
    if (input.Policy !== undefined && !input.BypassPolicyLockoutSafetyCheck) await assertPolicyKeepsCallerIn(inReplicaRegion, access, replica, input.Policy);

    for (let attempt = 1; ; attempt += 1) {
      // The primary as it is now: a rotation between two attempts changed its current backing key.
      const source = attempt === 1 ? primary : await deps.store.getKey(primary.accountId, primary.region, primary.keyId);
      if (!source) throw kmsError('NotFoundException', `Key '${primary.arn}' does not exist`);
      if (source.primaryRegion !== primary.region) throw kmsError('UnsupportedOperationException', `${primary.arn} is not a multi-Region primary key.`);
      if (source.keyState !== 'Enabled' && source.keyState !== 'Disabled') throw invalidState(source);
      const external = source.origin === 'EXTERNAL';
      const current = { ...replica, currentBackingKeyId: external ? '' : source.currentBackingKeyId };
      // The primary's imported material is never sealed for the replica (see above): the replica has no backing key.
      const backings = external ? [] : await material.resealAll(source, current);
      const outcome = await deps.store.replicateKey(current, backings, input.Tags ?? []);
      if (outcome === 'exists') throw alreadyExists(primary.keyId, replicaRegion);
      if (outcome === 'created') {
        if (input.Policy !== undefined) warnAboutNeverSetKeys(deps.logger, { requestId: ctx.requestId, operation: 'ReplicateKey', resource: replicaArn }, input.Policy, 'RESOURCE_POLICY');
        const members = await deps.store.listMultiRegionKeys(primary.keyId);
        return {
          ReplicaKeyMetadata: keyMetadata(current, multiRegionConfiguration(current, members)),
          ReplicaPolicy: current.policy,
          ReplicaTags: input.Tags ?? [],
        };
      }
      if (attempt >= MAX_MEMBER_RACES) throw kmsError('KMSInternalException', 'The primary key changed while it was being replicated. Try again.');
    }
  }

  /**
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdatePrimaryRegion.html. KeyId names the current
   * primary; the replica in PrimaryRegion becomes the primary and the old primary a replica. Required permissions:
   * kms:UpdatePrimaryRegion on the current primary key and on the replica (each by its own key policy). Coffer
   * changes both at once (AWS shows both keys Updating for a few seconds).
   */
  async function updatePrimaryRegion(ctx: RequestContext, input: KmsInput<'UpdatePrimaryRegion'>) {
    const regionContext = { context: { 'kms:PrimaryRegion': input.PrimaryRegion } };
    const primary = await access.customerKeyFor(ctx, input.KeyId, 'UpdatePrimaryRegion', regionContext);
    if (primary.primaryRegion === undefined) {
      throw kmsError('UnsupportedOperationException', `${primary.arn} is not a multi-Region key.`);
    }
    if (isReplica(primary)) {
      throw kmsError('UnsupportedOperationException', `${primary.arn} is not a multi-Region primary key. Call UpdatePrimaryRegion on its primary key in ${primary.primaryRegion}.`);
    }
    // AWS documents no answer for the primary's own Region; nothing would change, and "there must be an existing
    // replica key in this Region" does not hold: refused like another operation the key does not support.
    if (input.PrimaryRegion === primary.region) {
      throw kmsError('UnsupportedOperationException', `${primary.arn} is already the primary key in ${primary.region}.`);
    }
    const members = await deps.store.listMultiRegionKeys(primary.keyId);
    const target = members.find((member) => member.region === input.PrimaryRegion);
    if (!target) {
      throw kmsError('NotFoundException', `Key '${kmsKeyArn(input.PrimaryRegion, primary.accountId, primary.keyId)}' does not exist`);
    }
    await access.authorizeKey({ ...ctx, region: target.region }, target, 'UpdatePrimaryRegion', regionContext);
    for (const key of [primary, target]) {
      if (key.keyState !== 'Enabled' && key.keyState !== 'Disabled') throw invalidState(key);
    }
    if (!(await deps.store.updatePrimaryRegion(primary.keyId, primary.region, target.region))) throw invalidState(primary);
    return {};
  }

  return { replicateKey, updatePrimaryRegion };
}

function alreadyExists(keyId: string, region: string): Error {
  return kmsError('AlreadyExistsException', `A multi-Region key with key ID ${keyId} already exists in ${region}.`);
}
