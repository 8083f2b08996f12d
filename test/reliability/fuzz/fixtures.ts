import { randomBytes } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AccessKey } from '../../helpers/signed-fetch.js';
import type { KnownValues } from './schema-arbitrary.js';

export type Clients = { kms: KMSClient; secrets: SecretsManagerClient; iam: IAMClient };

/** Real SDK clients, no retries: a refused or failed call shows as one. */
export function sdkClients(url: string, credentials: AccessKey, region: string): Clients {
  const common = { endpoint: url, region, credentials, maxAttempts: 1 };
  return { kms: new KMSClient(common), secrets: new SecretsManagerClient(common), iam: new IAMClient(common) };
}

export function destroyClients(clients: Clients): void {
  clients.kms.destroy();
  clients.secrets.destroy();
  clients.iam.destroy();
}

/**
 * The fuzzer's own resources, so generated calls also name things that exist and reach the operations' deeper
 * paths (key states, policies, versions): keys of each usage, an alias, a secret, a user, a role, a ciphertext.
 * The fuzzer may change or delete them; the canary's resources are apart and never among these values.
 */
export async function fuzzResources({ kms, secrets, iam }: Clients): Promise<KnownValues> {
  const key = async (KeySpec: string, KeyUsage: string) => (await kms.send(new CreateKeyCommand({ KeySpec: KeySpec as 'SYMMETRIC_DEFAULT', KeyUsage: KeyUsage as 'ENCRYPT_DECRYPT', Description: 'fuzz' }))).KeyMetadata!;
  const keys = [
    await key('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'),
    await key('HMAC_256', 'GENERATE_VERIFY_MAC'),
    await key('ECC_NIST_P256', 'SIGN_VERIFY'),
    await key('RSA_2048', 'ENCRYPT_DECRYPT'),
  ];
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/fuzz', TargetKeyId: keys[0]!.KeyId }));
  const ciphertext = (await kms.send(new EncryptCommand({ KeyId: keys[0]!.KeyId, Plaintext: Buffer.from('fuzz') }))).CiphertextBlob!;
  const secret = await secrets.send(new CreateSecretCommand({ Name: 'fuzz/secret', SecretString: 'fuzz-value' }));
  await iam.send(new CreateUserCommand({ UserName: 'fuzz-user' }));
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] };
  const role = (await iam.send(new CreateRoleCommand({ RoleName: 'fuzz-role', AssumeRolePolicyDocument: JSON.stringify(trust) }))).Role!;
  const keyIds = [...keys.flatMap((metadata) => [metadata.KeyId!, metadata.Arn!]), 'alias/fuzz', 'alias/aws/secretsmanager'];
  return new Map<string, readonly string[]>([
    ...['KeyId', 'TargetKeyId', 'SourceKeyId', 'DestinationKeyId', 'KmsKeyId'].map((name) => [name, keyIds] as const),
    ['AliasName', ['alias/fuzz', 'alias/fuzz-other']],
    ['CiphertextBlob', [Buffer.from(ciphertext).toString('base64')]],
    ['SecretId', ['fuzz/secret', secret.ARN!]],
    ['SecretIdList', ['fuzz/secret', secret.ARN!]],
    ['UserName', ['fuzz-user']],
    ['RoleName', ['fuzz-role']],
    ['RoleArn', [role.Arn!]],
    ['PolicyArn', ['arn:aws:iam::aws:policy/ReadOnlyAccess']],
  ]);
}

export type CanaryTally = { rounds: number; calls: number; failures: string[] };

/**
 * Well-formed calls interleaved with the hostile ones, through the real SDK clients: CreateSecret then
 * GetSecretValue of the value just written, Encrypt then Decrypt under the canary's own key. Every one must succeed.
 */
export async function canaryRound(clients: Clients, canaryKeyId: string, tally: CanaryTally): Promise<void> {
  const value = randomBytes(12).toString('hex');
  const name = `canary/${randomBytes(6).toString('hex')}`;
  tally.rounds += 1;
  try {
    tally.calls += 1;
    await clients.secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    tally.calls += 1;
    const read = await clients.secrets.send(new GetSecretValueCommand({ SecretId: name }));
    if (read.SecretString !== value) throw new Error('GetSecretValue returned another value');
    tally.calls += 1;
    const sealed = await clients.kms.send(new EncryptCommand({ KeyId: canaryKeyId, Plaintext: Buffer.from(value) }));
    tally.calls += 1;
    const opened = await clients.kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    if (Buffer.from(opened.Plaintext!).toString() !== value) throw new Error('Decrypt returned another plaintext');
  } catch (error) {
    tally.failures.push(`${(error as Error).name}: ${(error as Error).message}`);
  }
}

export async function createCanaryKey(kms: KMSClient): Promise<string> {
  return (await kms.send(new CreateKeyCommand({ Description: 'fuzz canary' }))).KeyMetadata!.KeyId!;
}
