import { randomBytes, randomUUID } from 'node:crypto';
import type { BackingKeyRecord, KeyRecord, SecretRecord, SecretVersionRecord } from '../../src/store/index.js';

/** Sample records for the conformance suites: fresh ids each call, fixed dates. */

export function newBacking(key: KeyRecord, rotationType: 'ON_DEMAND' | 'AUTOMATIC', afterMs: number): BackingKeyRecord {
  return { keyId: key.keyId, backingKeyId: randomUUID(), sealedMaterial: randomBytes(60), createdAt: new Date(key.creationDate.getTime() + afterMs), rotationType };
}

export function newKey(accountId: string, region: string): { key: KeyRecord; backing: BackingKeyRecord } {
  const keyId = randomUUID();
  const backingKeyId = randomUUID();
  const creationDate = new Date(1_700_000_000_000);
  return {
    key: {
      keyId,
      accountId,
      region,
      arn: `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
      description: 'test key',
      keyUsage: 'ENCRYPT_DECRYPT',
      keySpec: 'SYMMETRIC_DEFAULT',
      origin: 'AWS_KMS',
      keyManager: 'CUSTOMER',
      keyState: 'Enabled',
      creationDate,
      deletionDate: undefined,
      pendingWindowDays: undefined,
      policy: '{}',
      rotationEnabled: false,
      rotationPeriodDays: undefined,
      nextRotationDate: undefined,
      currentBackingKeyId: backingKeyId,
      validTo: undefined,
      expirationModel: undefined,
      keyMaterialId: undefined,
    },
    backing: { keyId, backingKeyId, sealedMaterial: randomBytes(60), createdAt: creationDate, rotationType: undefined },
  };
}

export function newSecret(accountId: string, name: string, region = 'us-east-1'): SecretRecord {
  const now = new Date(1_700_000_000_000);
  return {
    arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${randomBytes(3).toString('hex')}`,
    accountId,
    region,
    name,
    description: undefined,
    kmsKeyId: undefined,
    createdDate: now,
    lastChangedDate: now,
    lastAccessedDate: undefined,
    deletedDate: undefined,
    scheduledDeletionDate: undefined,
    owningService: undefined,
    primaryRegion: region,
  };
}

export function newVersion(secretArn: string): Omit<SecretVersionRecord, 'stages'> {
  return {
    secretArn,
    versionId: randomUUID(),
    dataKeys: [{ kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', encryptedDataKey: randomBytes(93), defaultKey: true }],
    sealedValue: randomBytes(48),
    valueType: 'string',
    createdDate: new Date(1_700_000_000_000),
    lastAccessedDate: undefined,
  };
}
