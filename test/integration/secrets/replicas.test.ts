import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DisableKeyCommand, EnableKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RotateSecretCommand,
  StopReplicationToReplicaCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { shellOk } from '../../helpers/aws-cli.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { buildZip, lambdaClient, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { createExecutionRole } from '../../helpers/principals.js';
import { auditEvents } from '../../helpers/audit.js';
import { runPythonOk } from '../../helpers/python.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** A rotation function's four steps at their smallest: a new AWSPENDING value, then AWSCURRENT moved onto it. */
const ROTATION_FUNCTION = `
import os, boto3

def lambda_handler(event, context):
    sm = boto3.client('secretsmanager', endpoint_url=os.environ.get('AWS_ENDPOINT_URL'))
    arn, token, step = event['SecretId'], event['ClientRequestToken'], event['Step']
    stages = sm.describe_secret(SecretId=arn)['VersionIdsToStages']
    if step == 'createSecret' and 'AWSCURRENT' not in stages.get(token, []):
        try:
            sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage='AWSPENDING')
        except sm.exceptions.ResourceNotFoundException:
            sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString='rotated', VersionStages=['AWSPENDING'])
    elif step == 'finishSecret':
        current = next(v for v, s in stages.items() if 'AWSCURRENT' in s)
        if current != token:
            sm.update_secret_version_stage(SecretId=arn, VersionStage='AWSCURRENT', MoveToVersionId=token, RemoveFromVersionId=current)
`;

const REPLICA_REFUSED = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";
const PRIMARY = 'us-east-1';
const OTHER = 'eu-west-1';

let server: TestServer;
let east: SecretsManagerClient;
let west: SecretsManagerClient;
let westKms: KMSClient;

before(async () => {
  server = await startTestServer();
  east = secretsClient(server, { region: PRIMARY });
  west = secretsClient(server, { region: OTHER });
  westKms = server.kms({ region: OTHER });
});
after(async () => server.cleanup());

async function replicated(label: string, extra: { KmsKeyId?: string } = {}) {
  const name = uniqueSecretName(label);
  const created = await east.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: 'v1',
      Description: 'first',
      Tags: [{ Key: 'team', Value: 'a' }],
      AddReplicaRegions: [{ Region: OTHER, ...extra }],
    }),
  );
  return { name, arn: created.ARN!, firstVersion: created.VersionId!, replicaArn: created.ARN!.replace(`:${PRIMARY}:`, `:${OTHER}:`), created };
}

async function westValue(secretId: string, stage?: string) {
  return west.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
}

async function statusIn(arn: string, region = OTHER) {
  const described = await east.send(new DescribeSecretCommand({ SecretId: arn }));
  return described.ReplicationStatus?.find((status) => status.Region === region);
}

describe('replica secrets', () => {
  it('CreateSecret with AddReplicaRegions makes a replica with the same name, suffix, versions, description and tags', async () => {
    const { name, arn, firstVersion, replicaArn, created } = await replicated('rep-create');
    assert.equal(created.ReplicationStatus?.[0]?.Region, OTHER);
    assert.equal(created.ReplicationStatus?.[0]?.Status, 'InSync');
    assert.equal(created.ReplicationStatus?.[0]?.KmsKeyId, 'alias/aws/secretsmanager');
    const value = await westValue(name);
    assert.equal(value.SecretString, 'v1');
    assert.equal(value.ARN, replicaArn);
    assert.equal(value.VersionId, firstVersion);
    assert.deepEqual(value.VersionStages, ['AWSCURRENT']);
    const replica = await west.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(replica.PrimaryRegion, PRIMARY);
    assert.equal(replica.Description, 'first');
    assert.deepEqual(replica.Tags, [{ Key: 'team', Value: 'a' }]);
    assert.equal(replica.ReplicationStatus, undefined);
    const primary = await east.send(new DescribeSecretCommand({ SecretId: arn }));
    assert.equal(primary.PrimaryRegion, PRIMARY);
    assert.equal(primary.ReplicationStatus?.length, 1);
    // ListSecrets' entries have PrimaryRegion and no ReplicationStatus (SecretListEntry).
    const listed = (await east.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [name] }] }))).SecretList!;
    assert.equal(listed[0]?.PrimaryRegion, PRIMARY);
    const listedWest = (await west.send(new ListSecretsCommand({ Filters: [{ Key: 'primary-region', Values: [PRIMARY] }, { Key: 'name', Values: [name] }] }))).SecretList!;
    assert.equal(listedWest[0]?.ARN, replicaArn);
  });

  it('follows every change of the primary: value, labels, description, tags, resource policy', async () => {
    const { name, arn, firstVersion } = await replicated('rep-follow');
    const put = await east.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'v2' }));
    assert.equal((await westValue(name)).SecretString, 'v2');
    assert.equal((await westValue(name, 'AWSPREVIOUS')).VersionId, firstVersion);
    // A rotation's steps: a pending version, then AWSCURRENT moved onto it.
    const pending = await east.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'v3', VersionStages: ['AWSPENDING'] }));
    assert.equal((await westValue(name, 'AWSPENDING')).SecretString, 'v3');
    await east.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: put.VersionId }));
    const current = await westValue(name);
    assert.equal(current.SecretString, 'v3');
    assert.deepEqual(current.VersionStages?.sort(), ['AWSCURRENT', 'AWSPENDING']);
    assert.equal((await westValue(name, 'AWSPREVIOUS')).VersionId, put.VersionId);
    await east.send(new UpdateSecretCommand({ SecretId: arn, Description: 'second', SecretString: 'v4' }));
    await east.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'env', Value: 'prod' }] }));
    await east.send(new UntagResourceCommand({ SecretId: arn, TagKeys: ['team'] }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    await east.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: policy }));
    const replica = await west.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(replica.Description, 'second');
    assert.deepEqual(replica.Tags, [{ Key: 'env', Value: 'prod' }]);
    assert.equal((await westValue(name)).SecretString, 'v4');
    assert.deepEqual(
      Object.keys(replica.VersionIdsToStages!).sort(),
      Object.keys((await east.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages!).sort(),
    );
    assert.equal((await west.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, policy);
    await east.send(new DeleteResourcePolicyCommand({ SecretId: arn }));
    assert.equal((await west.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, undefined);
  });

  it('a rotation of the primary reaches the replica, which has no rotation of its own', async () => {
    await createExecutionRole(server, 'coffer-test-function', [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    const created = await lambdaClient(server).send(
      new CreateFunctionCommand({
        FunctionName: uniqueFunctionName('replica-rotation'),
        Runtime: 'python3.11',
        Role: ROLE,
        Handler: 'lambda_function.lambda_handler',
        Code: { ZipFile: buildZip({ 'lambda_function.py': ROTATION_FUNCTION }) },
        Timeout: 30,
      }),
    );
    const { name, arn } = await replicated('rep-rotate');
    const rotateReplica = west.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: created.FunctionArn }));
    assert.equal((await rejectsWith(rotateReplica, 'InvalidParameterException')).message, REPLICA_REFUSED);
    const rotated = await east.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: created.FunctionArn }));
    await server.server.coffer.rotation.idle();
    assert.equal((await east.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString, 'rotated');
    const value = await westValue(name);
    assert.equal(value.SecretString, 'rotated');
    assert.equal(value.VersionId, rotated.VersionId);
    const replica = await west.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(replica.RotationEnabled, undefined);
    assert.equal(replica.RotationLambdaARN, undefined);
    assert.equal((await statusIn(arn))?.Status, 'InSync');
  });

  it('a replication is one audit event, the caller\'s', async () => {
    const name = uniqueSecretName('rep-audit');
    await east.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    const before = auditEvents(server.dataDir).length;
    await east.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: OTHER }] }));
    const events = auditEvents(server.dataDir).slice(before);
    assert.deepEqual(events.map((event) => event.eventName), ['ReplicateSecretToRegions']);
  });

  it('a replica refuses writes and deletion, and a primary with replicas cannot be deleted', async () => {
    const { name, arn, replicaArn } = await replicated('rep-refuse');
    for (const call of [
      west.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'x' })),
      west.send(new UpdateSecretCommand({ SecretId: name, Description: 'x' })),
      west.send(new TagResourceCommand({ SecretId: replicaArn, Tags: [{ Key: 'k', Value: 'v' }] })),
      west.send(new DeleteSecretCommand({ SecretId: name })),
      west.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })),
      west.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: 'ap-south-1' }] })),
    ]) {
      const error = await rejectsWith(call, 'InvalidParameterException');
      assert.equal(error.message, REPLICA_REFUSED);
    }
    const refused = await rejectsWith(east.send(new DeleteSecretCommand({ SecretId: arn })), 'InvalidParameterException');
    assert.equal(refused.message, `You can't delete secret ${arn} that still has replica regions [${OTHER}].`);
    // Nothing changed.
    assert.equal((await westValue(name)).SecretString, 'v1');
    assert.equal((await east.send(new DescribeSecretCommand({ SecretId: arn }))).DeletedDate, undefined);
  });

  it('RemoveRegionsFromReplication deletes the replica at once; then the primary can be deleted', async () => {
    const { name, arn } = await replicated('rep-remove');
    const removed = await east.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: [OTHER] }));
    assert.deepEqual(removed.ReplicationStatus, []);
    await rejectsWith(westValue(name), 'ResourceNotFoundException');
    assert.equal((await east.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus, undefined);
    // A name created again in that Region is a secret of its own, free of the old replica.
    await west.send(new CreateSecretCommand({ Name: name, SecretString: 'own' }));
    await east.send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
    assert.equal((await westValue(name)).SecretString, 'own');
  });

  it('StopReplicationToReplica promotes the replica; replicating again needs ForceOverwriteReplicaSecret', async () => {
    const { name, arn, replicaArn } = await replicated('rep-promote');
    await rejectsWith(east.send(new StopReplicationToReplicaCommand({ SecretId: arn })), 'InvalidRequestException');
    const stopped = await west.send(new StopReplicationToReplicaCommand({ SecretId: name }));
    assert.equal(stopped.ARN, replicaArn);
    const promoted = await west.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(promoted.PrimaryRegion, OTHER);
    assert.equal((await east.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus, undefined);
    // Standalone now: it takes its own writes, and the old primary's no longer reach it.
    await west.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'standalone' }));
    await east.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'primary-only' }));
    assert.equal((await westValue(name)).SecretString, 'standalone');

    const without = await east.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: OTHER }] }));
    assert.equal(without.ReplicationStatus?.[0]?.Status, 'Failed');
    assert.match(without.ReplicationStatus?.[0]?.StatusMessage ?? '', /Secret name already exists in region eu-west-1/);
    assert.equal((await westValue(name)).SecretString, 'standalone');
    assert.equal((await west.send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion, OTHER);

    await east.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: [OTHER] }));
    assert.equal((await westValue(name)).SecretString, 'standalone', 'removing a failed Region leaves the standalone secret alone');
    const forced = await east.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: OTHER }], ForceOverwriteReplicaSecret: true }));
    assert.equal(forced.ReplicationStatus?.[0]?.Status, 'InSync');
    assert.equal((await westValue(name)).SecretString, 'primary-only');
    assert.equal((await west.send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion, PRIMARY);
  });

  it('a replica whose KMS key is disabled is Failed, the primary write stands, and it catches up once enabled', async () => {
    const key = await createKey(westKms);
    const { name, arn } = await replicated('rep-kms', { KmsKeyId: key.KeyId });
    const versions = await west.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    assert.deepEqual(versions.Versions?.[0]?.KmsKeyIds, [key.Arn]);
    assert.equal((await statusIn(arn))?.KmsKeyId, key.KeyId);
    await westKms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const put = await east.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'v2' }));
    assert.equal((await east.send(new GetSecretValueCommand({ SecretId: arn }))).VersionId, put.VersionId);
    const failed = await statusIn(arn);
    assert.equal(failed?.Status, 'Failed');
    assert.match(failed?.StatusMessage ?? '', /^Replication failed: .*disabled/);
    await westKms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    await server.server.coffer.runMaintenance();
    assert.equal((await statusIn(arn))?.Status, 'InSync');
    assert.equal((await westValue(name)).SecretString, 'v2');
  });

  it('a replica\'s own encryption key is the one change it takes (UpdateSecret with KmsKeyId alone, in its Region)', async () => {
    const { name, arn } = await replicated('rep-key');
    const key = await createKey(westKms);
    await rejectsWith(west.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: key.KeyId, Description: 'x' })), 'InvalidParameterException');
    await west.send(new UpdateSecretCommand({ SecretId: name, KmsKeyId: key.KeyId }));
    assert.equal((await west.send(new DescribeSecretCommand({ SecretId: name }))).KmsKeyId, key.KeyId);
    assert.equal((await statusIn(arn))?.KmsKeyId, key.KeyId);
    const current = (await west.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions!.find((version) => version.VersionStages?.includes('AWSCURRENT'));
    assert.deepEqual(current?.KmsKeyIds, [key.Arn, 'DefaultEncryptionKey']);
    // The primary's next version reaches the replica sealed under the replica's key; the primary's key is unchanged.
    const put = await east.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'v2' }));
    const versions = (await west.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions!;
    assert.deepEqual(versions.find((version) => version.VersionId === put.VersionId)?.KmsKeyIds, [key.Arn]);
    assert.equal((await westValue(name)).SecretString, 'v2');
    assert.equal((await east.send(new DescribeSecretCommand({ SecretId: arn }))).KmsKeyId, undefined);
    assert.equal((await west.send(new DescribeSecretCommand({ SecretId: name }))).KmsKeyId, key.KeyId);
  });

  it('the AWS CLI (the seed\'s get-secret-value, verbatim) and boto3 see the replica and its status', async () => {
    const name = 'sample-secret';
    const dir = server.dataDir;
    const env = { AWS_ENDPOINT_URL: server.url };
    await east.send(new CreateSecretCommand({ Name: name, SecretString: '{"key1":"value1","key2":"value2"}' }));
    const replicate = JSON.parse(
      await shellOk(`aws secretsmanager replicate-secret-to-regions --secret-id ${name} --add-replica-regions Region=ap-south-1`, {
        cwd: dir, credentials: server.admin, region: PRIMARY, env,
      }),
    );
    assert.equal(replicate.ReplicationStatus[0].Region, 'ap-south-1');
    const got = JSON.parse(await shellOk('aws secretsmanager get-secret-value --secret-id sample-secret', { cwd: dir, credentials: server.admin, region: 'ap-south-1', env }));
    assert.equal(got.SecretString, '{"key1":"value1","key2":"value2"}');
    assert.match(got.ARN, /^arn:aws:secretsmanager:ap-south-1:\d{12}:secret:sample-secret-[A-Za-z0-9]{6}$/);
    const out = await runPythonOk(
      'replicas.py',
      [
        'import boto3, json',
        'sm = boto3.client("secretsmanager")',
        `d = sm.describe_secret(SecretId="${name}")`,
        'print(json.dumps({"primary": d["PrimaryRegion"], "status": [[s["Region"], s["Status"]] for s in d["ReplicationStatus"]]}))',
      ].join('\n'),
      { cwd: dir, credentials: server.admin, endpointUrl: server.url, region: PRIMARY },
    );
    assert.deepEqual(JSON.parse(out), { primary: PRIMARY, status: [['ap-south-1', 'InSync']] });
    const promoted = await shellOk('aws secretsmanager stop-replication-to-replica --secret-id sample-secret', { cwd: dir, credentials: server.admin, region: 'ap-south-1', env });
    assert.match(JSON.parse(promoted).ARN, /:ap-south-1:/);
  });
});
