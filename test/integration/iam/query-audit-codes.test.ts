import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateUserCommand, GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { auditEvents } from '../../helpers/audit.js';
import { createAccount, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

type WireError = Error & { $metadata: { httpStatusCode?: number; requestId?: string } };

/** The error a real client got for `call`: its code (the SDK's error name), HTTP status, message and request id. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; status: number; message: string; requestId: string }> {
  try {
    await call;
  } catch (error) {
    const wire = error as WireError;
    assert.ok(wire.$metadata?.requestId, `no request id on ${wire.name}`);
    return { code: wire.name, status: wire.$metadata.httpStatusCode!, message: wire.message, requestId: wire.$metadata.requestId! };
  }
  assert.fail('the call was not refused');
}

/**
 * Every refused IAM/STS (Query) call is audited with the code the client received (Query's names: AccessDenied,
 * ValidationError, InvalidClientTokenId, SignatureDoesNotMatch, not the JSON services' *Exception names) and its
 * reason.
 */
describe('audit events of refused Query calls carry the error code sent on the wire', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let powerless: { arn: string; keys: Keys };

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    powerless = await createUser(server, root, 'powerless');
  });
  after(async () => server.cleanup());

  function eventOf(requestId: string): Record<string, any> {
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === requestId);
    assert.ok(event, `no audit event for request ${requestId}`);
    return event;
  }

  /**
   * `sdkName`: the SDK names a modelled error by its shape (NoSuchEntity's shape is NoSuchEntityException) while the
   * wire carries the code; unmodelled errors keep the wire code as their name.
   */
  async function assertAudited(call: Promise<unknown>, expected: { code: string; status: number; eventName: string; message?: RegExp; sdkName?: string }) {
    const wire = await refusal(call);
    assert.equal(wire.code, expected.sdkName ?? expected.code, wire.message);
    assert.equal(wire.status, expected.status);
    const event = eventOf(wire.requestId);
    assert.equal(event.eventName, expected.eventName);
    assert.equal(event.errorCode, expected.code, 'the audited code is the one on the wire');
    assert.equal(event.errorMessage, wire.message, 'the audited reason is the message the client got');
    if (expected.message) assert.match(event.errorMessage, expected.message);
    return event;
  }

  it('AccessDenied (IAM and STS) with the policy reason, not AccessDeniedException', async () => {
    const iamEvent = await assertAudited(iamClient(server, powerless.keys).send(new CreateUserCommand({ UserName: 'not-allowed' })), {
      code: 'AccessDenied',
      status: 403,
      eventName: 'CreateUser',
      message: new RegExp(`^User: ${powerless.arn} is not authorized to perform: iam:CreateUser on resource: `),
    });
    assert.equal(iamEvent.eventSource, 'iam.amazonaws.com');
    const stsEvent = await assertAudited(
      stsClient(server, powerless.keys).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/nobody-trusts-you`, RoleSessionName: 'sess' })),
      { code: 'AccessDenied', status: 403, eventName: 'AssumeRole', message: /is not authorized to perform: sts:AssumeRole/ },
    );
    assert.equal(stsEvent.eventSource, 'sts.amazonaws.com');
  });

  it('ValidationError (schema and operation), NoSuchEntity and STS ValidationError', async () => {
    await assertAudited(iamClient(server, root).send(new CreateUserCommand({ UserName: 'x'.repeat(65) })), { code: 'ValidationError', status: 400, eventName: 'CreateUser' });
    await assertAudited(iamClient(server, root).send(new GetUserCommand({ UserName: 'nobody-by-this-name' })), { code: 'NoSuchEntity', sdkName: 'NoSuchEntityException', status: 404, eventName: 'GetUser' });
    await assertAudited(stsClient(server, powerless.keys).send(new AssumeRoleCommand({ RoleArn: 'not-an-arn-at-all', RoleSessionName: 'sess' })), {
      code: 'ValidationError',
      status: 400,
      eventName: 'AssumeRole',
    });
  });

  it('InvalidClientTokenId and SignatureDoesNotMatch: refusals before the caller is known are audited under Query names too', async () => {
    const session = (await stsClient(server, powerless.keys).send(new GetSessionTokenCommand({}))).Credentials!;
    // The session key without its token.
    const withoutToken = new IAMClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: session.AccessKeyId!, secretAccessKey: session.SecretAccessKey! },
      maxAttempts: 1,
    });
    await assertAudited(withoutToken.send(new GetUserCommand({ UserName: 'powerless' })), { code: 'InvalidClientTokenId', status: 403, eventName: 'GetUser' });
    withoutToken.destroy();
    const wrongSecret = iamClient(server, { accessKeyId: powerless.keys.accessKeyId, secretAccessKey: 'not-the-secret' });
    await assertAudited(wrongSecret.send(new GetUserCommand({ UserName: 'powerless' })), { code: 'SignatureDoesNotMatch', status: 403, eventName: 'GetUser' });
  });

  it('no refused Query call is audited under a JSON service code', async () => {
    const queryEvents = auditEvents(server.dataDir).filter((event) => ['iam.amazonaws.com', 'sts.amazonaws.com'].includes(event.eventSource) && event.errorCode);
    assert.ok(queryEvents.length >= 7);
    for (const event of queryEvents) assert.doesNotMatch(event.errorCode, /Exception$/, `${event.eventName}: ${event.errorCode}`);
  });
});
