import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { auditEvents, auditRows } from '../../helpers/audit.js';
import { createAccount, createRole, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** IAM and STS calls are audited like every other call, and the keys and tokens they hand out are not in the log. */
describe('audit of IAM and STS calls', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
  });
  after(async () => server.cleanup());

  it('records CreateUser, CreateAccessKey and AssumeRole without the secret access keys and session token', async () => {
    const iam = iamClient(server, root);
    await iam.send(new CreateUserCommand({ UserName: 'audited' }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'audited' }));
    const role = await createRole(server, root, 'audited-role', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }],
    });
    const assumer = await createUser(server, root, 'audit-assumer', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role.arn }] },
    });
    const assumed = await stsClient(server, assumer.keys).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'audit' }));

    const events = auditEvents(server.dataDir);
    const created = events.find((event) => event.eventName === 'CreateAccessKey');
    assert.ok(created, 'CreateAccessKey is recorded');
    assert.equal(created.eventSource, 'iam.amazonaws.com');
    assert.equal(created.userIdentity.arn, `arn:aws:iam::${accountId}:root`);
    assert.equal(created.responseElements.AccessKey.AccessKeyId, key.AccessKey?.AccessKeyId);
    const assumeEvent = events.find((event) => event.eventName === 'AssumeRole');
    assert.equal(assumeEvent?.eventSource, 'sts.amazonaws.com');
    assert.equal(assumeEvent?.requestParameters.RoleArn, role.arn);

    const everything = auditRows(server.dataDir).map((row) => row.body).join('\n');
    for (const secret of [key.AccessKey!.SecretAccessKey!, assumed.Credentials!.SecretAccessKey!, assumed.Credentials!.SessionToken!]) {
      assert.ok(!everything.includes(secret), 'a secret handed out by IAM or STS is in the audit log');
    }
  });
});
