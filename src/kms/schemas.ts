import { z } from 'zod';
import { awsBlob, awsBoolean, awsEnum, awsInt, awsList, awsMap, awsString, isStringWithin, sensitiveBlob, stringMapCopy, type LengthRange } from '../core/index.js';
import { apiCiphertextBlob, decodeApiCiphertextBlob } from './api-ciphertext.js';
import { customKeyStoreSchemas } from './custom-key-store-schemas.js';
import { GRANT_OPERATIONS } from './grants.js';

/**
 * One zod schema per KMS operation, mirroring the AWS request shapes: members, lengths, ranges and enums.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html
 * Rules AWS reports with a KMS-specific code (key states, alias prefixes, ...) live in the operations.
 */

export const KEY_SPECS = [
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
  'ECC_NIST_EDWARDS25519',
] as const;
export const KEY_USAGES = ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'] as const;
export const ORIGINS = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const;
export const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;
export const DATA_KEY_SPECS = ['AES_256', 'AES_128'] as const;
/** DataKeyPairSpec (GenerateDataKeyPair's KeyPairSpec), as botocore's model lists it. */
export const DATA_KEY_PAIR_SPECS = [
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'SM2',
  'ECC_NIST_EDWARDS25519',
] as const;
export const MAC_ALGORITHM_NAMES = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;
export const KEY_AGREEMENT_ALGORITHM_NAMES = ['ECDH'] as const;
export const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256', 'ED25519_SHA_512',
  'ED25519_PH_SHA_512',
] as const;
export const MESSAGE_TYPES = ['RAW', 'DIGEST', 'EXTERNAL_MU'] as const;
/** GetParametersForImport's enums as AWS's model lists them; the operation refuses the ones AWS no longer serves (import.ts). */
export const IMPORT_WRAPPING_ALGORITHMS = ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256', 'SM2PKE'] as const;
export const IMPORT_WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const;
export const EXPIRATION_MODELS = ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] as const;
export const IMPORT_TYPES = ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] as const;

const KEY_ID_LENGTH: LengthRange = { min: 1, max: 2048 };
const keyId = awsString(KEY_ID_LENGTH);
const grantTokens = awsList(awsString({ min: 1, max: 8192 }), { min: 0, max: 10 }).optional();
const encryptionContext = awsMap(awsString(), awsString()).optional();
const encryptionAlgorithm = awsEnum(ENCRYPTION_ALGORITHMS).optional();
const policy = awsString({ min: 1, max: 32768 });
const description = awsString({ min: 0, max: 8192 });
const limit = (max: number) => awsInt({ min: 1, max }).optional();
const marker = awsString({ min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/ }).optional();
const aliasName = awsString({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ });
const tag = z.object({ TagKey: awsString({ min: 1, max: 128 }), TagValue: awsString({ min: 0, max: 256 }) });
const tags = awsList(tag).optional();
const principalId = awsString({ min: 1, max: 256, pattern: /^[\w+=,.@:/-]+$/ });
const grantId = awsString({ min: 1, max: 128 });
const grantToken = awsString({ min: 1, max: 8192 });
const grantConstraints = z.object({ EncryptionContextSubset: encryptionContext, EncryptionContextEquals: encryptionContext }).optional();
const recipient = z.object({ KeyEncryptionAlgorithm: awsString().optional(), AttestationDocument: awsBlob().optional() }).optional();

/** A timestamp member: epoch seconds (with fractions) on the JSON 1.1 wire, a Date after parsing. */
const timestamp = z
  .number({ error: (issue) => (issue.input === undefined || issue.input === null ? 'Member must not be null' : 'Member must be a timestamp') })
  .refine((seconds) => Number.isFinite(seconds), { error: 'Member must be a timestamp' })
  .transform((seconds) => new Date(seconds * 1000));
const keyMaterialId = awsString({ min: 64, max: 64, pattern: /^[a-f0-9]+$/ });

export const keyIdOnly = z.object({ KeyId: keyId });
/** A Region id (ReplicateKey, UpdatePrimaryRegion): AWS's RegionType. */
const region = awsString({ min: 1, max: 32, pattern: /^([a-z]+-){2,3}\d+$/ });

export const schemas = {
  CreateKey: z.object({
    Policy: policy.optional(),
    Description: description.optional(),
    KeyUsage: awsEnum(KEY_USAGES).optional(),
    CustomerMasterKeySpec: awsEnum(KEY_SPECS).optional(),
    KeySpec: awsEnum(KEY_SPECS).optional(),
    Origin: awsEnum(ORIGINS).optional(),
    CustomKeyStoreId: awsString({ min: 1, max: 64 }).optional(),
    BypassPolicyLockoutSafetyCheck: awsBoolean().optional(),
    Tags: tags,
    MultiRegion: awsBoolean().optional(),
    XksKeyId: awsString({ min: 1, max: 128 }).optional(),
  }),
  DescribeKey: z.object({ KeyId: keyId, GrantTokens: grantTokens }),
  ListKeys: z.object({ Limit: limit(1000), Marker: marker }),
  EnableKey: keyIdOnly,
  DisableKey: keyIdOnly,
  ScheduleKeyDeletion: z.object({ KeyId: keyId, PendingWindowInDays: awsInt({ min: 7, max: 30 }).optional() }),
  CancelKeyDeletion: keyIdOnly,
  UpdateKeyDescription: z.object({ KeyId: keyId, Description: description }),
  Encrypt: z.object({
    KeyId: keyId,
    Plaintext: sensitiveBlob({ min: 1, max: 4096 }),
    EncryptionContext: encryptionContext,
    GrantTokens: grantTokens,
    EncryptionAlgorithm: encryptionAlgorithm,
    DryRun: awsBoolean().optional(),
  }),
  Decrypt: z.object({
    CiphertextBlob: apiCiphertextBlob(),
    EncryptionContext: encryptionContext,
    GrantTokens: grantTokens,
    KeyId: keyId.optional(),
    EncryptionAlgorithm: encryptionAlgorithm,
    Recipient: recipient,
    DryRun: awsBoolean().optional(),
  }),
  ReEncrypt: z.object({
    CiphertextBlob: apiCiphertextBlob(),
    SourceEncryptionContext: encryptionContext,
    SourceKeyId: keyId.optional(),
    DestinationKeyId: keyId,
    DestinationEncryptionContext: encryptionContext,
    SourceEncryptionAlgorithm: encryptionAlgorithm,
    DestinationEncryptionAlgorithm: encryptionAlgorithm,
    GrantTokens: grantTokens,
    DryRun: awsBoolean().optional(),
  }),
  GenerateDataKey: z.object({
    KeyId: keyId,
    EncryptionContext: encryptionContext,
    NumberOfBytes: awsInt({ min: 1, max: 1024 }).optional(),
    KeySpec: awsEnum(DATA_KEY_SPECS).optional(),
    GrantTokens: grantTokens,
    Recipient: recipient,
    DryRun: awsBoolean().optional(),
  }),
  GenerateDataKeyWithoutPlaintext: z.object({
    KeyId: keyId,
    EncryptionContext: encryptionContext,
    KeySpec: awsEnum(DATA_KEY_SPECS).optional(),
    NumberOfBytes: awsInt({ min: 1, max: 1024 }).optional(),
    GrantTokens: grantTokens,
    DryRun: awsBoolean().optional(),
  }),
  GenerateRandom: z.object({
    NumberOfBytes: awsInt({ min: 1, max: 1024 }).optional(),
    CustomKeyStoreId: awsString({ min: 1, max: 64 }).optional(),
    Recipient: recipient,
  }),
  GetPublicKey: z.object({ KeyId: keyId, GrantTokens: grantTokens }),
  Sign: z.object({
    KeyId: keyId,
    Message: sensitiveBlob({ min: 1, max: 4096 }),
    MessageType: awsEnum(MESSAGE_TYPES).optional(),
    GrantTokens: grantTokens,
    SigningAlgorithm: awsEnum(SIGNING_ALGORITHMS),
    DryRun: awsBoolean().optional(),
  }),
  Verify: z.object({
    KeyId: keyId,
    Message: sensitiveBlob({ min: 1, max: 4096 }),
    MessageType: awsEnum(MESSAGE_TYPES).optional(),
    Signature: awsBlob({ min: 1, max: 6144 }),
    SigningAlgorithm: awsEnum(SIGNING_ALGORITHMS),
    GrantTokens: grantTokens,
    DryRun: awsBoolean().optional(),
  }),
  CreateAlias: z.object({ AliasName: aliasName, TargetKeyId: keyId }),
  UpdateAlias: z.object({ AliasName: aliasName, TargetKeyId: keyId }),
  DeleteAlias: z.object({ AliasName: aliasName }),
  ListAliases: z.object({ KeyId: keyId.optional(), Limit: limit(100), Marker: marker }),
  EnableKeyRotation: z.object({ KeyId: keyId, RotationPeriodInDays: awsInt({ min: 90, max: 2560 }).optional() }),
  DisableKeyRotation: keyIdOnly,
  GetKeyRotationStatus: keyIdOnly,
  RotateKeyOnDemand: keyIdOnly,
  ListKeyRotations: z.object({ KeyId: keyId, Limit: limit(1000), Marker: marker, IncludeKeyMaterial: awsString().optional() }),
  TagResource: z.object({ KeyId: keyId, Tags: awsList(tag) }),
  UntagResource: z.object({ KeyId: keyId, TagKeys: awsList(awsString({ min: 1, max: 128 })) }),
  ListResourceTags: z.object({ KeyId: keyId, Limit: limit(50), Marker: marker }),
  GetKeyPolicy: z.object({ KeyId: keyId, PolicyName: awsString({ min: 1, max: 128, pattern: /^[\w]+$/ }).optional() }),
  PutKeyPolicy: z.object({
    KeyId: keyId,
    PolicyName: awsString({ min: 1, max: 128, pattern: /^[\w]+$/ }).optional(),
    Policy: policy,
    BypassPolicyLockoutSafetyCheck: awsBoolean().optional(),
  }),
  ListKeyPolicies: z.object({ KeyId: keyId, Limit: limit(1000), Marker: marker }),
  CreateGrant: z.object({
    KeyId: keyId,
    GranteePrincipal: principalId,
    RetiringPrincipal: principalId.optional(),
    Operations: awsList(awsEnum(GRANT_OPERATIONS)),
    Constraints: grantConstraints,
    GrantTokens: grantTokens,
    Name: awsString({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ }).optional(),
    DryRun: awsBoolean().optional(),
  }),
  ListGrants: z.object({
    Limit: limit(1000),
    Marker: marker,
    KeyId: keyId,
    GrantId: grantId.optional(),
    GranteePrincipal: principalId.optional(),
  }),
  ListRetirableGrants: z.object({ Limit: limit(1000), Marker: marker, RetiringPrincipal: principalId }),
  RetireGrant: z.object({ GrantToken: grantToken.optional(), KeyId: keyId.optional(), GrantId: grantId.optional(), DryRun: awsBoolean().optional() }),
  RevokeGrant: z.object({ KeyId: keyId, GrantId: grantId, DryRun: awsBoolean().optional() }),
  ReplicateKey: z.object({
    KeyId: keyId,
    ReplicaRegion: region,
    Policy: policy.optional(),
    BypassPolicyLockoutSafetyCheck: awsBoolean().optional(),
    Description: description.optional(),
    Tags: tags,
  }),
  UpdatePrimaryRegion: z.object({ KeyId: keyId, PrimaryRegion: region }),
  GetKeyLastUsage: keyIdOnly,
  ...customKeyStoreSchemas,
  GetParametersForImport: z.object({
    KeyId: keyId,
    WrappingAlgorithm: awsEnum(IMPORT_WRAPPING_ALGORITHMS),
    WrappingKeySpec: awsEnum(IMPORT_WRAPPING_KEY_SPECS),
  }),
  ImportKeyMaterial: z.object({
    KeyId: keyId,
    ImportToken: awsBlob({ min: 1, max: 6144 }),
    EncryptedKeyMaterial: awsBlob({ min: 1, max: 6144 }),
    ValidTo: timestamp.optional(),
    ExpirationModel: awsEnum(EXPIRATION_MODELS).optional(),
    ImportType: awsEnum(IMPORT_TYPES).optional(),
    KeyMaterialDescription: awsString({ min: 0, max: 256, pattern: /^[a-zA-Z0-9:/_\s.-]+$/ }).optional(),
    KeyMaterialId: keyMaterialId.optional(),
  }),
  DeleteImportedKeyMaterial: z.object({ KeyId: keyId, KeyMaterialId: keyMaterialId.optional() }),
  GenerateMac: z.object({
    Message: sensitiveBlob({ min: 1, max: 4096 }),
    KeyId: keyId,
    MacAlgorithm: awsEnum(MAC_ALGORITHM_NAMES),
    GrantTokens: grantTokens,
    DryRun: awsBoolean().optional(),
  }),
  VerifyMac: z.object({
    Message: sensitiveBlob({ min: 1, max: 4096 }),
    KeyId: keyId,
    MacAlgorithm: awsEnum(MAC_ALGORITHM_NAMES),
    Mac: awsBlob({ min: 1, max: 6144 }),
    GrantTokens: grantTokens,
    DryRun: awsBoolean().optional(),
  }),
  DeriveSharedSecret: z.object({
    KeyId: keyId,
    KeyAgreementAlgorithm: awsEnum(KEY_AGREEMENT_ALGORITHM_NAMES),
    PublicKey: awsBlob({ min: 1, max: 8192 }),
    GrantTokens: grantTokens,
    DryRun: awsBoolean().optional(),
    Recipient: recipient,
  }),
  GenerateDataKeyPair: z.object({
    EncryptionContext: encryptionContext,
    KeyId: keyId,
    KeyPairSpec: awsEnum(DATA_KEY_PAIR_SPECS),
    GrantTokens: grantTokens,
    Recipient: recipient,
    DryRun: awsBoolean().optional(),
  }),
  GenerateDataKeyPairWithoutPlaintext: z.object({
    EncryptionContext: encryptionContext,
    KeyId: keyId,
    KeyPairSpec: awsEnum(DATA_KEY_PAIR_SPECS),
    GrantTokens: grantTokens,
    DryRun: awsBoolean().optional(),
  }),
} as const;

export type KmsSchemas = typeof schemas;
export type KmsInput<Name extends keyof KmsSchemas> = z.output<KmsSchemas[Name]>;
export type TagInput = z.output<typeof tag>;

/**
 * Decrypt's common input parsed by hand (OperationSpec.parseCommon): a CiphertextBlob with, or without, an
 * EncryptionContext and a KeyId, all well-formed; the same object `schemas.Decrypt` gives (its own buffer for the
 * blob, a copy of the context, members in the schema's order). Any other member or value goes to the schema.
 */
export function parseCommonDecrypt(input: Record<string, unknown>): KmsInput<'Decrypt'> | undefined {
  let blobText: string | undefined;
  let context: Record<string, string> | undefined;
  let reference: string | undefined;
  for (const member in input) {
    if (!Object.hasOwn(input, member)) return undefined;
    const value = input[member];
    if (member === 'CiphertextBlob' && typeof value === 'string') blobText = value;
    else if (member === 'EncryptionContext' && (context = stringMapCopy(value)) !== undefined) continue;
    else if (member === 'KeyId' && isStringWithin(value, KEY_ID_LENGTH)) reference = value;
    else return undefined;
  }
  // Decoded last: a blob is decoded into a buffer of its own only for an input taken here.
  const blob = blobText === undefined ? undefined : decodeApiCiphertextBlob(blobText);
  if (blob === undefined) return undefined;
  if (context === undefined) return reference === undefined ? { CiphertextBlob: blob } : { CiphertextBlob: blob, KeyId: reference };
  return reference === undefined ? { CiphertextBlob: blob, EncryptionContext: context } : { CiphertextBlob: blob, EncryptionContext: context, KeyId: reference };
}
