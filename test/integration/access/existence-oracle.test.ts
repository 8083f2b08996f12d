/**
 * Issue 13, part 2: no existence oracle. A caller without permission — a user of the owner's account with no
 * policy, another account's root — gets byte for byte the same answer (status and body) from every operation
 * that names a secret, a KMS key or an alias, whether the resource is there, waiting out its deletion window, or
 * gone. The same requests (same names, same ARNs) are sent in each of the three states, so nothing but the
 * resource's existence differs. Raw signed requests show the bytes as sent on the wire.
 * Also part 3's second bullet: a refused call's audit event names its resource as an ARN formed from the request
 * (a secret's partial ARN, an alias ARN), never the secret's random suffix or the key behind an alias.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateAliasCommand, DeleteAliasCommand, EncryptCommand, PutKeyPolicyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, DeleteSecretCommand, PutResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { schemas as kmsSchemas } from '../../../src/kms/schemas.js';
import { schemas as secretsSchemas } from '../../../src/secrets/schemas.js';
import { auditEvents } from '../../helpers/audit.js';
import { ManualClock } from '../../helpers/clock.js';
import { createKey, uniqueAliasName } from '../../helpers/kms.js';
import { createAccount, createUser, type Keys } from '../../helpers/principals.js';
import { ACCOUNT_ID, REGION, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;
const GRANT_ID = 'a'.repeat(64);

type Service = 'secretsmanager' | 'kms';
type Refs = Record<string, string>;
/** One operation's request for each way of naming the resource it takes (`refs`: name, ARN, alias ...). */
type Case = { service: Service; operation: string; label?: string; refs: readonly string[]; body: (ref: string, refs: Refs) => object };

const SECRET_REFS = ['name', 'arn', 'partialArn'] as const;
const KEY_REFS = ['keyId', 'keyArn', 'aliasName', 'aliasArn'] as const;
const CROSS_ACCOUNT_REFS: readonly string[] = ['arn', 'partialArn', 'keyArn', 'aliasArn'];

const secretCase = (operation: string, extra: object = {}): Case => ({
  service: 'secretsmanager',
  operation,
  refs: SECRET_REFS,
  body: (ref) => ({ SecretId: ref, ...extra }),
});
const keyCase = (operation: string, extra: (refs: Refs) => object = () => ({})): Case => ({
  service: 'kms',
  operation,
  refs: KEY_REFS,
  body: (ref, refs) => ({ KeyId: ref, ...extra(refs) }),
});

/** A peer's EC public key (DER SubjectPublicKeyInfo, base64) for DeriveSharedSecret. */
const PEER_PUBLIC_KEY = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

const CASES: Case[] = [
  { service: 'secretsmanager', operation: 'CreateSecret', refs: ['name'], body: (ref) => ({ Name: ref, SecretString: 'v' }) },
  secretCase('GetSecretValue'),
  { service: 'secretsmanager', operation: 'BatchGetSecretValue', refs: SECRET_REFS, body: (ref) => ({ SecretIdList: [ref] }) },
  secretCase('PutSecretValue', { SecretString: 'v2', ClientRequestToken: 'b'.repeat(32) }),
  secretCase('UpdateSecret', { Description: 'changed' }),
  secretCase('DescribeSecret'),
  secretCase('ListSecretVersionIds'),
  secretCase('UpdateSecretVersionStage', { VersionStage: 'STAGE', MoveToVersionId: 'c'.repeat(32) }),
  secretCase('DeleteSecret', { ForceDeleteWithoutRecovery: true }),
  secretCase('RestoreSecret'),
  secretCase('TagResource', { Tags: [{ Key: 'k', Value: 'v' }] }),
  secretCase('UntagResource', { TagKeys: ['k'] }),
  secretCase('RotateSecret', { RotationRules: { AutomaticallyAfterDays: 30 } }),
  secretCase('CancelRotateSecret'),
  secretCase('GetResourcePolicy'),
  secretCase('PutResourcePolicy', { ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }),
  secretCase('DeleteResourcePolicy'),
  secretCase('ValidateResourcePolicy', { ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }),
  secretCase('ReplicateSecretToRegions', { AddReplicaRegions: [{ Region: 'eu-west-1' }] }),
  secretCase('RemoveRegionsFromReplication', { RemoveReplicaRegions: ['eu-west-1'] }),
  secretCase('StopReplicationToReplica'),

  keyCase('DescribeKey'),
  keyCase('EnableKey'),
  keyCase('DisableKey'),
  keyCase('ScheduleKeyDeletion', () => ({ PendingWindowInDays: 7 })),
  keyCase('CancelKeyDeletion'),
  keyCase('UpdateKeyDescription', () => ({ Description: 'changed' })),
  keyCase('Encrypt', () => ({ Plaintext: Buffer.from('p').toString('base64') })),
  keyCase('Decrypt', (refs) => ({ CiphertextBlob: refs.ciphertext })),
  // A KeyId that is not the ciphertext's key: IncorrectKeyException only for a caller allowed on the KeyId.
  { ...keyCase('Decrypt', (refs) => ({ CiphertextBlob: refs.otherCiphertext })), label: 'Decrypt (another key\'s ciphertext)' },
  {
    service: 'kms',
    operation: 'ReEncrypt',
    refs: KEY_REFS,
    body: (ref, refs) => ({ CiphertextBlob: refs.ciphertext, SourceKeyId: ref, DestinationKeyId: ref }),
  },
  keyCase('GenerateDataKey', () => ({ KeySpec: 'AES_256' })),
  keyCase('GenerateDataKeyWithoutPlaintext', () => ({ KeySpec: 'AES_256' })),
  keyCase('GenerateDataKeyPair', () => ({ KeyPairSpec: 'ECC_NIST_P256' })),
  keyCase('GenerateDataKeyPairWithoutPlaintext', () => ({ KeyPairSpec: 'ECC_NIST_P256' })),
  keyCase('GenerateMac', () => ({ Message: Buffer.from('m').toString('base64'), MacAlgorithm: 'HMAC_SHA_256' })),
  keyCase('VerifyMac', () => ({ Message: Buffer.from('m').toString('base64'), MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32).toString('base64') })),
  keyCase('DeriveSharedSecret', () => ({ KeyAgreementAlgorithm: 'ECDH', PublicKey: PEER_PUBLIC_KEY })),
  keyCase('GetPublicKey'),
  keyCase('Sign', () => ({ Message: Buffer.from('m').toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' })),
  keyCase('Verify', () => ({ Message: Buffer.from('m').toString('base64'), Signature: Buffer.from('s').toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' })),
  { service: 'kms', operation: 'CreateAlias', refs: KEY_REFS, body: (ref) => ({ AliasName: 'alias/oracle-new', TargetKeyId: ref }) },
  { service: 'kms', operation: 'UpdateAlias', refs: KEY_REFS, body: (ref, refs) => ({ AliasName: refs.aliasName, TargetKeyId: ref }) },
  { service: 'kms', operation: 'DeleteAlias', refs: ['aliasName'], body: (ref) => ({ AliasName: ref }) },
  keyCase('ListAliases'),
  keyCase('EnableKeyRotation'),
  keyCase('DisableKeyRotation'),
  keyCase('GetKeyRotationStatus'),
  keyCase('GetKeyLastUsage'),
  keyCase('RotateKeyOnDemand'),
  keyCase('ListKeyRotations'),
  keyCase('TagResource', () => ({ Tags: [{ TagKey: 'k', TagValue: 'v' }] })),
  keyCase('UntagResource', () => ({ TagKeys: ['k'] })),
  keyCase('ListResourceTags'),
  keyCase('GetKeyPolicy', () => ({ PolicyName: 'default' })),
  keyCase('PutKeyPolicy', () => ({ PolicyName: 'default', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) })),
  keyCase('ListKeyPolicies'),
  keyCase('CreateGrant', () => ({ GranteePrincipal: ROOT_ARN, Operations: ['Decrypt'] })),
  keyCase('ListGrants'),
  keyCase('RetireGrant', () => ({ GrantId: GRANT_ID })),
  keyCase('RevokeGrant', () => ({ GrantId: GRANT_ID })),
  keyCase('ReplicateKey', () => ({ ReplicaRegion: 'eu-west-1' })),
  keyCase('UpdatePrimaryRegion', () => ({ PrimaryRegion: 'eu-west-1' })),
  keyCase('GetParametersForImport', () => ({ WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
  keyCase('ImportKeyMaterial', () => ({
    ImportToken: Buffer.from('token').toString('base64'),
    EncryptedKeyMaterial: Buffer.from('material').toString('base64'),
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
  })),
  keyCase('DeleteImportedKeyMaterial'),
];

/** Operations that name no secret, key or alias, so they have nothing to reveal about one. */
const WITHOUT_RESOURCE = {
  secretsmanager: ['ListSecrets', 'GetRandomPassword'],
  // ListRetirableGrants names a retiring principal; CreateKey, ListKeys and GenerateRandom name nothing; the
  // custom key store operations name a custom key store, and Coffer has none (refused or an empty list).
  kms: [
    'CreateKey', 'ListKeys', 'GenerateRandom', 'ListRetirableGrants',
    'CreateCustomKeyStore', 'ConnectCustomKeyStore', 'DeleteCustomKeyStore', 'DescribeCustomKeyStores', 'DisconnectCustomKeyStore', 'UpdateCustomKeyStore',
  ],
};

describe('no existence oracle for callers without permission', () => {
  const clock = new ManualClock();
  let server: TestServer;
  let nobody: Keys;
  let otherRoot: Keys;
  const secretRefs: Refs = {};
  const keyRefs: Refs = {};

  before(async () => {
    server = await startTestServer({ clock });
    nobody = (await createUser(server, server.admin, 'oracle-nobody')).keys;
    otherRoot = (await createAccount(server)).root;

    // A secret whose resource policy explicitly denies everyone but the owner's root: an explicit deny is a
    // different reason than "no identity-based policy", and must not show through either.
    const sm = secretsClient(server);
    const name = uniqueSecretName('oracle/db');
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'the-value' }));
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: JSON.stringify(denyAllButRoot('secretsmanager:*')) }));
    Object.assign(secretRefs, { name, arn: created.ARN!, partialArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name}` });

    const kms = server.kms();
    const key = await createKey(kms);
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId!, PolicyName: 'default', Policy: JSON.stringify(keyPolicyDenyingAllButRoot()) }));
    const aliasName = uniqueAliasName('oracle');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId! }));
    const encrypted = await kms.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('p') }));
    const otherKey = await createKey(kms);
    const otherEncrypted = await kms.send(new EncryptCommand({ KeyId: otherKey.KeyId!, Plaintext: Buffer.from('p') }));
    Object.assign(keyRefs, {
      keyId: key.KeyId!,
      keyArn: key.Arn!,
      aliasName,
      aliasArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:${aliasName}`,
      ciphertext: Buffer.from(encrypted.CiphertextBlob!).toString('base64'),
      otherCiphertext: Buffer.from(otherEncrypted.CiphertextBlob!).toString('base64'),
    });
  });

  after(async () => {
    await server?.cleanup();
  });

  it('covers every operation that names a secret, a key or an alias', () => {
    for (const [service, schemas] of [['secretsmanager', secretsSchemas], ['kms', kmsSchemas]] as const) {
      const covered = [...new Set(CASES.filter((item) => item.service === service).map((item) => item.operation))];
      assert.deepEqual([...covered, ...WITHOUT_RESOURCE[service]].sort(), Object.keys(schemas).sort(), service);
    }
  });

  it('answers the same bytes while the resources exist, while they wait out deletion, and once they are gone', async () => {
    const live = await answers();

    const sm = secretsClient(server);
    await sm.send(new DeleteSecretCommand({ SecretId: secretRefs.name, RecoveryWindowInDays: 7 }));
    const kms = server.kms();
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyRefs.keyId, PendingWindowInDays: 7 }));
    const pendingDeletion = await answers();

    await kms.send(new DeleteAliasCommand({ AliasName: keyRefs.aliasName }));
    clock.advanceDays(8); // both windows end: the secret and the key are destroyed when next looked up
    const gone = await answers();

    assert.deepEqual(differences(pendingDeletion, live), []);
    assert.deepEqual(differences(gone, live), []);
    // The refusals name the resource as the request did: no suffix, no key behind the alias.
    const byName = Object.entries(live).filter(([key]) => !key.endsWith(' arn'));
    assert.ok(byName.every(([, answer]) => !answer.includes(secretRefs.arn!.slice(-7))), 'a refusal shows the secret ARN suffix');
    assert.ok(!live['nobody DescribeKey aliasName']!.includes(keyRefs.keyId!), live['nobody DescribeKey aliasName']);
    assert.match(live['nobody GetSecretValue name']!, /^400 .*"__type":"AccessDeniedException".*on resource: oracle\/db-\w+ because no identity-based policy allows/);
    assert.match(live['otherRoot DescribeKey keyArn']!, /^400 .*"__type":"AccessDeniedException"/);
  });

  it('tells a caller whose permissions cover the name that nothing is there, as AWS does', async () => {
    const { keys } = await createUser(server, server.admin, 'oracle-describer', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:*` },
          { Effect: 'Allow', Action: 'kms:DescribeKey', Resource: [`arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/*`, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/*`] },
        ],
      },
    });
    // A missing secret is checked on its partial ARN, which the policy's `secret:*` covers.
    const secret = await call(keys, 'secretsmanager', 'DescribeSecret', { SecretId: 'oracle/never-created' });
    assert.equal(secret.status, 400);
    assert.equal(JSON.parse(secret.text).__type, 'ResourceNotFoundException', secret.text);
    for (const KeyId of ['11111111-2222-3333-4444-555555555555', 'alias/oracle-never-created']) {
      const key = await call(keys, 'kms', 'DescribeKey', { KeyId });
      assert.equal(JSON.parse(key.text).__type, 'NotFoundException', key.text);
    }
    // Another account's key ARN: no key policy there can allow, so nothing is told.
    const foreign = await call(keys, 'kms', 'DescribeKey', { KeyId: `arn:aws:kms:${REGION}:111122223333:key/11111111-2222-3333-4444-555555555555` });
    assert.equal(JSON.parse(foreign.text).__type, 'AccessDeniedException', foreign.text);
  });

  it("names a refused call's resource in the audit log by the ARN formed from the request", async () => {
    const name = uniqueSecretName('oracle/audited');
    const created = await secretsClient(server).send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
    const kms = server.kms();
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('oracle-audited');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId! }));

    const secretRefused = await call(nobody, 'secretsmanager', 'GetSecretValue', { SecretId: name });
    const aliasRefused = await call(nobody, 'kms', 'DescribeKey', { KeyId: aliasName });
    const events = auditEvents(server.dataDir);
    const eventOf = (requestId: string) => events.find((event) => event.requestID === requestId)!;

    const secretEvent = eventOf(secretRefused.requestId);
    assert.equal(secretEvent.errorCode, 'AccessDeniedException');
    assert.deepEqual(secretEvent.resources, [{ ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name}`, accountId: ACCOUNT_ID }]);
    assert.ok(!JSON.stringify(secretEvent).includes(created.ARN!), 'the event holds the secret suffix');

    const aliasEvent = eventOf(aliasRefused.requestId);
    assert.deepEqual(aliasEvent.resources, [{ ARN: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:${aliasName}`, accountId: ACCOUNT_ID }]);
    assert.ok(!JSON.stringify(aliasEvent).includes(key.KeyId!), 'the event names the key behind the alias');
  });

  /** Every case's answer for both callers and every way of naming the resource: `<status> <body>`. */
  async function answers(): Promise<Record<string, string>> {
    const callers = { nobody, otherRoot };
    const result: Record<string, string> = {};
    for (const [callerName, keys] of Object.entries(callers)) {
      for (const item of CASES) {
        const refs = item.service === 'kms' ? keyRefs : secretRefs;
        for (const refName of item.refs) {
          // Names and key ids mean the caller's own account: another account reaches the owner's only by ARN.
          if (callerName === 'otherRoot' && !CROSS_ACCOUNT_REFS.includes(refName)) continue;
          const response = await call(keys, item.service, item.operation, item.body(refs[refName]!, refs));
          result[`${callerName} ${item.label ?? item.operation} ${refName}`] = `${response.status} ${response.text.replaceAll(response.requestId, '<request id>')}`;
        }
      }
    }
    return result;
  }

  async function call(keys: Keys, service: Service, operation: string, body: object) {
    const target = service === 'kms' ? `TrentService.${operation}` : `secretsmanager.${operation}`;
    const response = await rawCall(server.url, { target, body: JSON.stringify(body), credentials: keys, service, region: REGION });
    return { status: response.status, text: response.text, requestId: response.headers.get('x-amzn-requestid') ?? '' };
  }
});

/** The answers that differ: `<case>: <one> ≠ <other>`. */
function differences(one: Record<string, string>, other: Record<string, string>): string[] {
  assert.deepEqual(Object.keys(one), Object.keys(other));
  return Object.keys(one).filter((key) => one[key] !== other[key]).map((key) => `${key}:\n  ${other[key]}\n≠ ${one[key]}`);
}

function denyAllButRoot(action: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Principal: '*', Action: action, Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalArn': ROOT_ARN } } }],
  };
}

function keyPolicyDenyingAllButRoot() {
  const policy = denyAllButRoot('kms:*');
  return { ...policy, Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' }, ...policy.Statement] };
}
