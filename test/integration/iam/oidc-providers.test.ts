import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  ListOpenIDConnectProvidersCommand,
  ListOpenIDConnectProviderTagsCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  TagOpenIDConnectProviderCommand,
  UntagOpenIDConnectProviderCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { createAccount, createUser, iamClient, type Keys } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const THUMBPRINT = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';

async function refused(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, code, `${error.name}: ${error.message}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** IAM's OpenID Connect providers through @aws-sdk/client-iam and `aws iam ...-open-id-connect-provider`. */
describe('IAM OpenID Connect providers', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let iam: IAMClient;
  let workDir: string;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    iam = iamClient(server, root);
    workDir = mkdtempSync(join(tmpdir(), 'coffer-oidc-providers-'));
  });
  after(async () => {
    iam.destroy();
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('create, get, list, add and remove client ids, update thumbprints, tag, untag, delete', async () => {
    const url = 'https://token.actions.githubusercontent.com';
    const created = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: url, ClientIDList: ['sts.amazonaws.com'], Tags: [{ Key: 'team', Value: 'ci' }] }));
    const arn = `arn:aws:iam::${accountId}:oidc-provider/token.actions.githubusercontent.com`;
    assert.equal(created.OpenIDConnectProviderArn, arn);
    assert.deepEqual(created.Tags, [{ Key: 'team', Value: 'ci' }]);

    const got = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    assert.equal(got.Url, 'token.actions.githubusercontent.com');
    assert.deepEqual(got.ClientIDList, ['sts.amazonaws.com']);
    assert.deepEqual(got.ThumbprintList ?? [], []);
    assert.ok(got.CreateDate instanceof Date && Math.abs(got.CreateDate.getTime() - Date.now()) < 60_000);

    await iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'my-app' }));
    await iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'my-app' }));
    await iam.send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'sts.amazonaws.com' }));
    await iam.send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'never-added' }));
    await iam.send(new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: arn, ThumbprintList: [THUMBPRINT] }));
    await iam.send(new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'platform' }] }));
    await iam.send(new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, TagKeys: ['env'] }));
    const updated = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    assert.deepEqual(updated.ClientIDList, ['my-app']);
    assert.deepEqual(updated.ThumbprintList, [THUMBPRINT]);
    assert.deepEqual(updated.Tags, [{ Key: 'team', Value: 'platform' }]);
    const tags = await iam.send(new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: arn }));
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'platform' }]);
    assert.equal(tags.IsTruncated, false);

    const listed = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    assert.deepEqual(listed.OpenIDConnectProviderList?.map((entry) => entry.Arn), [arn]);

    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    await refused(iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })), 'NoSuchEntityException', /OpenIDConnect Provider not found/);
    await refused(iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })), 'NoSuchEntityException');
    assert.deepEqual((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [], []);
  });

  it("refuses what IAM refuses, with IAM's errors, and changes nothing", async () => {
    const url = 'https://issuer.example.com/tenant-a';
    const arn = `arn:aws:iam::${accountId}:oidc-provider/issuer.example.com/tenant-a`;
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: url, ClientIDList: ['a'] }));
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: url })), 'EntityAlreadyExistsException');
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'http://issuer.example.com' })), 'InvalidInputException', /https/);
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://issuer.example.com/?tenant=b' })), 'InvalidInputException', /query/);
    // Plain http on loopback only with --dev; this server runs without it.
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'http://127.0.0.1:8080' })), 'InvalidInputException');
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com', ThumbprintList: ['z'.repeat(40)] })), 'InvalidInputException', /hexadecimal/);
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com', ThumbprintList: Array.from({ length: 6 }, (_, i) => String(i).repeat(40)) })), 'LimitExceededException');
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com', ClientIDList: Array.from({ length: 101 }, (_, i) => `client-${i}`) })), 'LimitExceededException');
    await refused(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com', ThumbprintList: ['abc'] })), 'ValidationError');
    await refused(iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: `arn:aws:iam::${accountId}:role/not-a-provider` })), 'InvalidInputException');
    for (let i = 1; i < 100; i++) await iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: `client-${i}` }));
    await refused(iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'one-too-many' })), 'LimitExceededException');
    await refused(iam.send(new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: arn, ThumbprintList: Array.from({ length: 6 }, (_, i) => String(i).repeat(40)) })), 'LimitExceededException');
    await refused(iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: `${arn}-absent`, ClientID: 'x' })), 'NoSuchEntityException');
    const unchanged = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    assert.equal(unchanged.ClientIDList!.length, 100);
    assert.deepEqual(unchanged.ThumbprintList ?? [], []);
    assert.deepEqual((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList?.map((entry) => entry.Arn), [arn]);
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
  });

  it('each operation is authorized as iam:<Operation> on the provider ARN; another account sees nothing', async () => {
    const allowed = `arn:aws:iam::${accountId}:oidc-provider/allowed.example.com`;
    const user = await createUser(server, root, 'provider-admin', {
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['iam:CreateOpenIDConnectProvider', 'iam:GetOpenIDConnectProvider', 'iam:DeleteOpenIDConnectProvider'], Resource: allowed }],
      },
    });
    const limited = iamClient(server, user.keys);
    try {
      await limited.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://allowed.example.com', ClientIDList: ['x'] }));
      assert.equal((await limited.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: allowed }))).Url, 'allowed.example.com');
      await refused(limited.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://other.example.com' })), 'AccessDenied', /iam:CreateOpenIDConnectProvider/);
      await refused(limited.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: allowed, ClientID: 'y' })), 'AccessDenied');
      await refused(limited.send(new ListOpenIDConnectProvidersCommand({})), 'AccessDenied');
      const other = await createAccount(server);
      const stranger = iamClient(server, other.root);
      await refused(stranger.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: allowed })), 'NoSuchEntityException');
      assert.deepEqual((await stranger.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [], []);
      stranger.destroy();
      await limited.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: allowed }));
    } finally {
      limited.destroy();
    }
  });

  it('the AWS CLI: create-open-id-connect-provider, get, list, delete', async () => {
    const credentials = root;
    const run = (command: string) => shellOk(`${command} --endpoint-url "$COFFER_URL"`, { cwd: workDir, credentials, region: 'us-east-1', env: { COFFER_URL: server.url } });
    const created = JSON.parse(
      await run(`aws iam create-open-id-connect-provider --url https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE --client-id-list sts.amazonaws.com --thumbprint-list ${THUMBPRINT} --tags Key=cluster,Value=prod`),
    ) as { OpenIDConnectProviderArn: string };
    const arn = `arn:aws:iam::${accountId}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
    assert.equal(created.OpenIDConnectProviderArn, arn);
    const got = JSON.parse(await run(`aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${arn}`)) as { Url: string; ClientIDList: string[]; ThumbprintList: string[]; Tags: unknown };
    assert.equal(got.Url, 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE');
    assert.deepEqual(got.ClientIDList, ['sts.amazonaws.com']);
    assert.deepEqual(got.ThumbprintList, [THUMBPRINT]);
    assert.deepEqual(got.Tags, [{ Key: 'cluster', Value: 'prod' }]);
    const listed = JSON.parse(await run('aws iam list-open-id-connect-providers')) as { OpenIDConnectProviderList: Array<{ Arn: string }> };
    assert.deepEqual(listed.OpenIDConnectProviderList, [{ Arn: arn }]);
    await run(`aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${arn}`);
    const gone = await shell(`aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${arn} --endpoint-url "$COFFER_URL"`, { cwd: workDir, credentials, region: 'us-east-1', env: { COFFER_URL: server.url } });
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NoSuchEntity/);
  });
});
