import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DecodeAuthorizationMessageCommand } from '@aws-sdk/client-sts';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createAccount, createUser, stsClient, type Keys } from '../../helpers/principals.js';

const MARK = ' Encoded authorization failure message: ';
const SECRET_VALUE = 'never-in-a-message-7f3a';

type Decoded = {
  allowed: boolean;
  explicitDeny: boolean;
  matchedStatements: { items: Array<{ statementId: string; effect: string; sourcePolicyId: string; sourcePolicyType: string }> };
  failures: { items: unknown[] };
  context: { principal: { id: string; arn: string }; action: string; resource: string; conditions: { items: Array<{ key: string; values: { items: Array<{ value: string }> } }> } };
};

async function refusalMessage(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
  } catch (error) {
    assert.equal((error as Error).name, 'AccessDeniedException');
    return (error as Error).message;
  }
  throw new Error('the request was not refused');
}

/** With --encode-authorization-messages, refusals carry a sealed message that STS DecodeAuthorizationMessage opens. */
describe('STS DecodeAuthorizationMessage and encoded authorization failure messages', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let secretArn: string;

  before(async () => {
    server = await startTestServer({ devMode: false, encodeAuthorizationMessages: true });
    ({ accountId, root } = await createAccount(server));
    secretArn = (await secretsClient(server, { credentials: root }).send(new CreateSecretCommand({ Name: 'sealed', SecretString: SECRET_VALUE }))).ARN!;
  });
  after(async () => server.cleanup());

  it('an explicit deny: the message decodes to AWS’s shape, naming principal, action, resource, the deny statement and the context', async () => {
    const user = await createUser(server, root, 'denied-reader', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' },
          { Sid: 'NoSealed', Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: secretArn },
        ],
      },
      tags: { team: 'blue' },
    });
    const message = await refusalMessage(() => secretsClient(server, { credentials: user.keys }).send(new GetSecretValueCommand({ SecretId: secretArn })));
    const [text, blob] = message.split(MARK);
    assert.equal(text, `User: ${user.arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn} with an explicit deny in an identity-based policy`);
    assert.match(blob!, /^[A-Za-z0-9_-]+$/);

    const decoded = await stsClient(server, root).send(new DecodeAuthorizationMessageCommand({ EncodedMessage: blob }));
    const details = JSON.parse(decoded.DecodedMessage!) as Decoded;
    assert.equal(details.allowed, false);
    assert.equal(details.explicitDeny, true);
    assert.deepEqual(details.matchedStatements.items, [{ statementId: 'NoSealed', effect: 'DENY', sourcePolicyId: 'inline', sourcePolicyType: 'user' }]);
    assert.deepEqual(details.failures, { items: [] });
    assert.equal(details.context.principal.arn, user.arn);
    assert.match(details.context.principal.id, /^AIDA/);
    assert.equal(details.context.action, 'secretsmanager:GetSecretValue');
    assert.equal(details.context.resource, secretArn);
    const conditions = new Map(details.context.conditions.items.map((item) => [item.key, item.values.items.map((value) => value.value)]));
    assert.deepEqual(conditions.get('aws:username'), ['denied-reader']);
    assert.deepEqual(conditions.get('aws:PrincipalTag/team'), ['blue']);
    assert.ok(!decoded.DecodedMessage!.includes(SECRET_VALUE));
  });

  it('an implicit deny decodes with explicitDeny false and no matched statement', async () => {
    const user = await createUser(server, root, 'nothing-allowed');
    const message = await refusalMessage(() => secretsClient(server, { credentials: user.keys }).send(new ListSecretsCommand({})));
    const blob = message.split(MARK)[1]!;
    const details = JSON.parse((await stsClient(server, root).send(new DecodeAuthorizationMessageCommand({ EncodedMessage: blob }))).DecodedMessage!) as Decoded;
    assert.equal(details.explicitDeny, false);
    assert.deepEqual(details.matchedStatements.items, []);
    assert.equal(details.context.action, 'secretsmanager:ListSecrets');
    assert.equal(details.context.resource, '*');
  });

  it('decoding needs sts:DecodeAuthorizationMessage; a tampered or foreign blob is InvalidAuthorizationMessageException', async () => {
    const user = await createUser(server, root, 'no-decoder');
    const message = await refusalMessage(() => secretsClient(server, { credentials: user.keys }).send(new ListSecretsCommand({})));
    const blob = message.split(MARK)[1]!;
    await assert.rejects(stsClient(server, user.keys).send(new DecodeAuthorizationMessageCommand({ EncodedMessage: blob })), (error: Error) => {
      assert.equal(error.name, 'AccessDenied');
      assert.match(error.message, /not authorized to perform: sts:DecodeAuthorizationMessage/);
      return true;
    });
    const decoder = await createUser(server, root, 'decoder', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:DecodeAuthorizationMessage', Resource: '*' }] },
    });
    const sts = stsClient(server, decoder.keys);
    assert.ok((await sts.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: blob }))).DecodedMessage);

    const flipped = blob.slice(0, 40) + (blob[40] === 'A' ? 'B' : 'A') + blob.slice(41);
    for (const bad of [flipped, blob.slice(0, -4), 'not-a-message']) {
      await assert.rejects(sts.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: bad })), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'InvalidAuthorizationMessageException');
        assert.equal(error.$metadata?.httpStatusCode, 400);
        return true;
      });
    }
    // Another account's administrator cannot read this account's refusals.
    const other = await createAccount(server);
    await assert.rejects(stsClient(server, other.root).send(new DecodeAuthorizationMessageCommand({ EncodedMessage: blob })), { name: 'InvalidAuthorizationMessageException' });
    assert.ok(accountId);
  });

  it('without the flag, refusals keep AWS’s text exactly (no encoded message)', async () => {
    const plain = await startTestServer({ devMode: false });
    try {
      const account = await createAccount(plain);
      const user = await createUser(plain, account.root, 'plain-user');
      const message = await refusalMessage(() => secretsClient(plain, { credentials: user.keys }).send(new ListSecretsCommand({})));
      assert.equal(
        message,
        `User: ${user.arn} is not authorized to perform: secretsmanager:ListSecrets on resource: * because no identity-based policy allows the secretsmanager:ListSecrets action`,
      );
    } finally {
      await plain.cleanup();
    }
  });
});
