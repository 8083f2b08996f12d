import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { auditEvents } from '../../helpers/audit.js';
import { createUser, refusal } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { ssmClient } from '../../helpers/ssm.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const REFERENCE = '/aws/reference/secretsmanager/';

/**
 * Parameter Store references to Secrets Manager: GetParameter(s) of `/aws/reference/secretsmanager/<id>` with
 * WithDecryption returns the secret's value (a version id or staging label after a colon), read through
 * Secrets Manager as the caller (authorized and audited there).
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html
 */
describe('SSM references to Secrets Manager secrets', () => {
  let server: TestServer;
  let ssm: SSMClient;
  let sm: SecretsManagerClient;
  let name: string;
  let arn: string;
  let firstVersion: string;

  before(async () => {
    server = await startTestServer();
    ssm = ssmClient(server);
    sm = secretsClient(server);
    name = uniqueSecretName('ref/db');
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: '{"password":"first"}' }));
    arn = created.ARN!;
    firstVersion = created.VersionId!;
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"password":"second"}' }));
  });
  after(async () => server.cleanup());

  it('returns the current value with the source result and the secret ARN', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `${REFERENCE}${name}`, WithDecryption: true }));
    assert.equal(Parameter?.Value, '{"password":"second"}');
    assert.equal(Parameter?.Type, 'SecureString');
    assert.equal(Parameter?.ARN, arn);
    assert.equal(Parameter?.Version, 0);
    assert.equal(Parameter?.Name, `${REFERENCE}${name}`);
    const source = JSON.parse(Parameter!.SourceResult!);
    assert.equal(source.ARN, arn);
    assert.deepEqual(source.VersionStages, ['AWSCURRENT']);
  });

  it('selects a staging label or a version id after a colon', async () => {
    const previous = await ssm.send(new GetParameterCommand({ Name: `${REFERENCE}${name}:AWSPREVIOUS`, WithDecryption: true }));
    assert.deepEqual([previous.Parameter?.Value, previous.Parameter?.Selector], ['{"password":"first"}', ':AWSPREVIOUS']);
    const byId = await ssm.send(new GetParameterCommand({ Name: `${REFERENCE}${name}:${firstVersion}`, WithDecryption: true }));
    assert.equal(byId.Parameter?.Value, '{"password":"first"}');
    const byArn = await ssm.send(new GetParameterCommand({ Name: `${REFERENCE}${arn}`, WithDecryption: true }));
    assert.equal(byArn.Parameter?.Value, '{"password":"second"}');
  });

  it('refuses without WithDecryption and answers ParameterNotFound for a missing secret', async () => {
    const plain = await refusal(ssm.send(new GetParameterCommand({ Name: `${REFERENCE}${name}` })));
    assert.equal(plain.name, 'ValidationException');
    assert.match(plain.message, /WithDecryption/);
    const missing = await refusal(ssm.send(new GetParameterCommand({ Name: `${REFERENCE}no-such-secret`, WithDecryption: true })));
    assert.equal(missing.name, 'ParameterNotFound');
    const many = await ssm.send(new GetParametersCommand({ Names: [`${REFERENCE}${name}`, `${REFERENCE}no-such-secret`], WithDecryption: true }));
    assert.deepEqual(many.Parameters?.map((parameter) => parameter.Value), ['{"password":"second"}']);
    assert.deepEqual(many.InvalidParameters, [`${REFERENCE}no-such-secret`]);
  });

  it('needs secretsmanager:GetSecretValue on the secret, and is audited as a Secrets Manager read by SSM', async () => {
    const ssmOnly = await createUser(server, server.admin, `ref-${randomBytes(3).toString('hex')}`, {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }] },
    });
    const client = ssmClient(server, { credentials: ssmOnly.keys });
    try {
      const refused = await refusal(client.send(new GetParameterCommand({ Name: `${REFERENCE}${name}`, WithDecryption: true })));
      assert.equal(refused.name, 'AccessDeniedException');
      assert.match(refused.message, /secretsmanager:GetSecretValue/);
    } finally {
      client.destroy();
    }
    const viaSsm = auditEvents(server.dataDir).filter((event) => event.eventName === 'GetSecretValue' && event.invokedBy === 'ssm.amazonaws.com');
    assert.ok(viaSsm.length >= 1);
    for (const event of auditEvents(server.dataDir)) assert.doesNotMatch(JSON.stringify(event), /"password":"(first|second)"|password\\":\\"(first|second)/);
  });
});
