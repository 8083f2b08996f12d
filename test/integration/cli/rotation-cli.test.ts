import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { COFFER_BIN } from '../../helpers/child-server.js';
import { createExecutionRole } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * The seeds' rotate-secret commands, verbatim but for the endpoint. Their functions are not deployed here
 * (SecretsRotator in an account of 123456789012), so Coffer answers as AWS does for a function it cannot
 * invoke: AccessDeniedException, and nothing changes. Deployed in this account (an HTTP function, or the
 * built-in PostgreSQL rotator chosen explicitly with `coffer-builtin`), the same commands save the schedule
 * and start the rotation, which then fails in the background (the RDS host does not resolve here) leaving
 * AWSCURRENT untouched.
 */
let server: TestServer;
let cwd: string;

before(async () => {
  server = await startTestServer();
  cwd = mkdtempSync(join(tmpdir(), 'coffer-rotation-cli-'));
});
after(async () => {
  await server?.cleanup();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

async function aws(command: string): Promise<Record<string, any>> {
  const output = await shellOk(`${command} --endpoint-url "${server.url}"`, { cwd, credentials: server.admin, region: 'us-east-1' });
  return output.trim() === '' ? {} : (JSON.parse(output) as Record<string, any>);
}

describe('aws secretsmanager rotate-secret (seeds)', () => {
  it('seeds/001: AutomaticallyAfterDays 30 with a function that is not deployed is refused, changing nothing', async () => {
    await aws(`aws secretsmanager create-secret --name "prod/db/mysql" --secret-string '{"username":"admin","password":"P@ssw0rd2024"}'`);
    const refused = await shell(
      `aws secretsmanager rotate-secret \\
      --secret-id "prod/db/mysql" \\
      --rotation-lambda-arn arn:aws:lambda:us-east-1:123456789012:function:SecretsRotator \\
      --rotation-rules '{"AutomaticallyAfterDays":30}' --endpoint-url "${server.url}"`,
      { cwd, credentials: server.admin, region: 'us-east-1' },
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /AccessDeniedException/);
    assert.match(refused.stderr, /Secrets Manager cannot invoke the specified Lambda function/);
    const described = await aws('aws secretsmanager describe-secret --secret-id "prod/db/mysql"');
    assert.equal(described.RotationEnabled, undefined);
    assert.equal(described.RotationLambdaARN, undefined);
    assert.deepEqual(Object.values(described.VersionIdsToStages), [['AWSCURRENT']], 'no AWSPENDING version');
  });

  it('seeds/001: the built-in PostgreSQL single-user rotator, deployed explicitly, on rate(30 days)', async () => {
    const role = await createExecutionRole(server, 'postgres-rotator', ['secretsmanager:*']);
    // As the README's tour deploys one (the same as `aws lambda create-function --runtime coffer-builtin
    // --handler postgres-single-user --role ARN --code '{}'`).
    const deployed = await shellOk(
      `"${COFFER_BIN}" functions create-builtin SecretsManagerRDSPostgreSQLRotationSingleUser --rotator postgres-single-user --role ${role.arn} --endpoint-url "${server.url}"`,
      { cwd, credentials: server.admin, region: 'us-east-1' },
    );
    assert.equal(JSON.parse(deployed).Runtime, 'coffer-builtin');
    await aws(`aws secretsmanager create-secret --name "prod/rds/postgres" --secret-string '{"username":"dbadmin","password":"InitPass123","engine":"postgres","host":"mydb.cluster-abc.us-east-1.rds.amazonaws.com","port":5432,"dbname":"appdb"}'`);
    const rotated = await aws(`aws secretsmanager rotate-secret \\
      --secret-id "prod/rds/postgres" \\
      --rotation-lambda-arn arn:aws:lambda:us-east-1:000000000000:function:SecretsManagerRDSPostgreSQLRotationSingleUser \\
      --rotation-rules '{"ScheduleExpression":"rate(30 days)"}'`);
    await server.server.coffer.rotation.idle();
    const versions = await aws('aws secretsmanager list-secret-version-ids --secret-id "prod/rds/postgres"');
    const stages = Object.fromEntries(versions.Versions.map((version: any) => [version.VersionId, version.VersionStages]));
    // The RDS host does not resolve here: createSecret ran, setSecret failed, nothing else moved.
    assert.deepEqual(stages[rotated.VersionId], ['AWSPENDING']);
    const current = await aws('aws secretsmanager get-secret-value --secret-id "prod/rds/postgres"');
    assert.equal(JSON.parse(current.SecretString).password, 'InitPass123');
  });

  it('seeds/003: cron(0 16 1,15 * ? *) with a two-hour Duration', async () => {
    await shellOk(`"${COFFER_BIN}" functions create-http MyRotationFunction --url http://127.0.0.1:9/rotate --endpoint-url "${server.url}"`, {
      cwd,
      credentials: server.admin,
      region: 'us-east-1',
    });
    await aws(`aws secretsmanager create-secret --name "prod/myapp/mysql" --secret-string '{"username":"app","password":"x"}'`);
    await aws(`aws secretsmanager rotate-secret \\
      --secret-id "prod/myapp/mysql" \\
      --rotation-lambda-arn "arn:aws:lambda:us-east-1:000000000000:function:MyRotationFunction" \\
      --rotation-rules '{"ScheduleExpression": "cron(0 16 1,15 * ? *)", "Duration": "2h"}'`);
    const described = await aws('aws secretsmanager describe-secret --secret-id "prod/myapp/mysql"');
    assert.deepEqual(described.RotationRules, { ScheduleExpression: 'cron(0 16 1,15 * ? *)', Duration: '2h' });
    const next = new Date(described.NextRotationDate * 1000);
    assert.equal(next.getUTCHours(), 16);
    assert.ok([1, 15].includes(next.getUTCDate()), `next window on the 1st or 15th, not ${next.toISOString()}`);
    await server.server.coffer.rotation.idle();
  });
});
