import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import type mysql from 'mysql2/promise';
import { ManualClock } from '../../helpers/clock.js';
import { freePort, MARIADB, mariadbRoot, mysqlLogsIn, randomName, startTcpProxy, type Credentials } from '../../helpers/databases.js';
import { rejectsWith } from '../../helpers/kms.js';
import { lambdaClient, ROTATION_ACTIONS } from '../../helpers/lambda.js';
import { createExecutionRole } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * RotateSecret end to end: the runner drives the built-in MySQL single-user rotator (deployed explicitly as a
 * `coffer-builtin` function with its own execution role) through the four steps against the machine's
 * MariaDB (which checks passwords), the schedule fires with an injected clock, and a failed rotation keeps
 * AWSCURRENT and completes when retried.
 */
const MYSQL_SINGLE_USER = 'arn:aws:lambda:us-east-1:000000000000:function:mysql-rotator';

const DAY_MS = 86_400_000;

let server: TestServer;
let sm: SecretsManagerClient;
let root: mysql.Connection;
const clock = new ManualClock(new Date('2026-06-01T10:00:00Z'));
const users: string[] = [];

before(async () => {
  [server, root] = await Promise.all([startTestServer({ clock }), mariadbRoot()]);
  sm = secretsClient(server);
  const role = await createExecutionRole(server, 'mysql-rotator-role', ROTATION_ACTIONS);
  const lambda = lambdaClient(server);
  await lambda.send(new CreateFunctionCommand({ FunctionName: 'mysql-rotator', Runtime: 'coffer-builtin' as never, Handler: 'mysql-single-user', Role: role.arn, Code: {} }));
  lambda.destroy();
});
after(async () => {
  for (const user of users) await root?.query(`DROP USER IF EXISTS ?@'%'`, [user]).catch(() => undefined);
  await root?.end();
  await server?.cleanup();
});

async function newDatabaseSecret(port = MARIADB.port): Promise<{ name: string; versionId: string }> {
  const username = randomName('rot_');
  const password = randomBytes(12).toString('hex');
  users.push(username);
  await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [username, password]);
  const name = uniqueSecretName('db');
  const json = { engine: 'mysql', host: MARIADB.host, port, username, password, dbname: 'information_schema' };
  const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(json) }));
  return { name, versionId: created.VersionId! };
}

async function valueAt(name: string, stage: string): Promise<{ versionId: string; credentials: Credentials }> {
  const value = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }));
  const json = JSON.parse(value.SecretString!) as Record<string, string | number>;
  return {
    versionId: value.VersionId!,
    credentials: { host: String(json.host), port: MARIADB.port, user: String(json.username), password: String(json.password) },
  };
}

/** Waits for the rotation the server is driving in the background. */
const rotationsSettled = () => server.server.coffer.rotation.idle();

describe('RotateSecret', () => {
  it('refuses a secret without a rotation function, a malformed ARN and an invalid schedule, changing nothing', async () => {
    const { name } = await newDatabaseSecret();
    await rejectsWith(sm.send(new RotateSecretCommand({ SecretId: name })), 'InvalidRequestException');
    await rejectsWith(sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: 'not-an-arn' })), 'InvalidParameterException');
    const badCron = await rejectsWith(
      sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: MYSQL_SINGLE_USER, RotationRules: { ScheduleExpression: 'cron(0 25 * * ? *)' } })),
      'InvalidParameterException',
    );
    assert.match(badCron.message, /cron/);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(described.RotationEnabled, undefined);
    assert.equal(described.RotationLambdaARN, undefined);
  });

  it('rotates the real password at once: AWSCURRENT logs in, AWSPREVIOUS no longer does', async () => {
    const { name, versionId: first } = await newDatabaseSecret();
    const before = await valueAt(name, 'AWSCURRENT');
    const rotated = await sm.send(
      new RotateSecretCommand({ SecretId: name, RotationLambdaARN: MYSQL_SINGLE_USER, RotationRules: { AutomaticallyAfterDays: 30 } }),
    );
    await rotationsSettled();

    const current = await valueAt(name, 'AWSCURRENT');
    const previous = await valueAt(name, 'AWSPREVIOUS');
    assert.equal(current.versionId, rotated.VersionId);
    assert.equal(previous.versionId, first);
    assert.notEqual(current.credentials.password, before.credentials.password);
    assert.equal(await mysqlLogsIn(current.credentials), true);
    assert.equal(await mysqlLogsIn(previous.credentials), false);

    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(described.RotationEnabled, true);
    assert.equal(described.RotationLambdaARN, MYSQL_SINGLE_USER);
    assert.deepEqual(described.RotationRules, { AutomaticallyAfterDays: 30 });
    assert.equal(described.LastRotatedDate?.getTime(), clock.now().getTime());
    // The window opens at 00:00 UTC thirty days after the rotation.
    assert.equal(described.NextRotationDate?.toISOString(), '2026-07-01T00:00:00.000Z');
  });

  it('the scheduler rotates again once the window opens, and moves the schedule on', async () => {
    const { name } = await newDatabaseSecret();
    await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: MYSQL_SINGLE_USER, RotationRules: { ScheduleExpression: 'rate(10 days)' } }));
    await rotationsSettled();
    const afterFirst = await valueAt(name, 'AWSCURRENT');
    const nextDate = (await sm.send(new DescribeSecretCommand({ SecretId: name }))).NextRotationDate!;

    await server.server.coffer.runMaintenance();
    assert.equal((await valueAt(name, 'AWSCURRENT')).versionId, afterFirst.versionId, 'nothing is due before the window');

    clock.advanceMs(nextDate.getTime() - clock.now().getTime() + 60 * 60_000);
    await server.server.coffer.runMaintenance();
    const afterSecond = await valueAt(name, 'AWSCURRENT');
    assert.notEqual(afterSecond.versionId, afterFirst.versionId);
    assert.equal(await mysqlLogsIn(afterSecond.credentials), true);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(described.LastRotatedDate?.getTime(), clock.now().getTime());
    assert.equal(described.NextRotationDate?.getTime(), nextDate.getTime() + 10 * DAY_MS);
  });

  it('with RotateImmediately false only schedules; a cron() window with a Duration fires inside the window', async () => {
    const { name, versionId } = await newDatabaseSecret();
    const rules = { ScheduleExpression: 'cron(0 16 * * ? *)', Duration: '2h' };
    const response = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: MYSQL_SINGLE_USER, RotationRules: rules, RotateImmediately: false }));
    assert.equal(response.VersionId, undefined);
    await rotationsSettled();
    assert.equal((await valueAt(name, 'AWSCURRENT')).versionId, versionId, 'no rotation yet');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    const windowStart = described.NextRotationDate!;
    assert.equal(windowStart.getUTCHours(), 16);
    assert.equal(windowStart.getUTCMinutes(), 0);
    assert.ok(windowStart > clock.now() && windowStart.getTime() - clock.now().getTime() <= DAY_MS);

    clock.advanceMs(windowStart.getTime() - clock.now().getTime() + 30 * 60_000);
    await server.server.coffer.runMaintenance();
    assert.notEqual((await valueAt(name, 'AWSCURRENT')).versionId, versionId);
    const next = (await sm.send(new DescribeSecretCommand({ SecretId: name }))).NextRotationDate!;
    assert.equal(next.getTime(), windowStart.getTime() + DAY_MS, 'the next 16:00 UTC');
  });

  it('a failing step keeps AWSCURRENT and records AWSPENDING; a new RotateSecret is refused and retries it to completion', async () => {
    const port = await freePort();
    const { name, versionId: original } = await newDatabaseSecret(port);
    const first = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: MYSQL_SINGLE_USER }));
    await rotationsSettled();

    const { Versions } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    const stages = Object.fromEntries(Versions!.map((version) => [version.VersionId!, version.VersionStages]));
    assert.deepEqual(stages[original], ['AWSCURRENT'], 'AWSCURRENT never moves on a failed rotation');
    assert.deepEqual(stages[first.VersionId!], ['AWSPENDING']);

    // The database becomes reachable on that port; the next RotateSecret is refused but retries the same rotation.
    const proxy = await startTcpProxy(port, { host: MARIADB.host, port: MARIADB.port });
    try {
      const refused = await rejectsWith(sm.send(new RotateSecretCommand({ SecretId: name })), 'InvalidRequestException');
      assert.match(refused.message, /previous rotation isn't complete/);
      await rotationsSettled();
      const current = await valueAt(name, 'AWSCURRENT');
      assert.equal(current.versionId, first.VersionId);
      assert.equal(await mysqlLogsIn(current.credentials), true);
    } finally {
      await proxy.close();
    }
  });

  it('CancelRotateSecret turns automatic rotation off and the scheduler leaves the secret alone', async () => {
    const { name } = await newDatabaseSecret();
    await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: MYSQL_SINGLE_USER, RotationRules: { AutomaticallyAfterDays: 1 } }));
    await rotationsSettled();
    const rotatedVersion = (await valueAt(name, 'AWSCURRENT')).versionId;
    const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: name }));
    assert.equal(cancelled.Name, name);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(described.RotationEnabled, false);
    assert.equal(described.NextRotationDate, undefined);
    assert.equal(described.RotationLambdaARN, MYSQL_SINGLE_USER);
    clock.advanceDays(3);
    await server.server.coffer.runMaintenance();
    assert.equal((await valueAt(name, 'AWSCURRENT')).versionId, rotatedVersion);
  });
});
