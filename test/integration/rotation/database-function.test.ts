import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type mysql from 'mysql2/promise';
import pg from 'pg';
import { REPO_ROOT } from '../../helpers/child-server.js';
import {
  MARIADB,
  mariadbRoot,
  mysqlLogsIn,
  postgresLogsIn,
  randomName,
  startScramPostgres,
  type Credentials,
  type ScramPostgres,
} from '../../helpers/databases.js';
import { buildZip, copiesOf, lambdaClient, ROTATION_ACTIONS, uniqueFunctionName } from '../../helpers/lambda.js';
import { createExecutionRole } from '../../helpers/principals.js';
import { createJsonSecret, stagesOf, valueAt } from '../../helpers/rotation-harness.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * A database rotation function of our own (test/fixtures/rotation-functions/database_rotation.py), written to
 * AWS's rotation-function contract as AWS's rotation templates are, rotates real PostgreSQL and MariaDB users
 * inside Coffer: it is deployed as a hosted `python3.12` function with its own execution role and its
 * database drivers bundled in the zip, as one deploys to Lambda, and reads SECRETS_MANAGER_ENDPOINT (as AWS's
 * templates do), which Coffer sets to itself. The drivers come from Debian's python3-pymysql and
 * python3-pygresql (.ci/run installs them): PyMySQL is pure Python; PyGreSQL's `_pg` is compiled for the
 * machine's Python 3.11, which runs python3.x.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */
const FUNCTION_SOURCE = join(REPO_ROOT, 'test/fixtures/rotation-functions/database_rotation.py');
const DIST_PACKAGES = '/usr/lib/python3/dist-packages';
const PYMYSQL = ['pymysql'];
const PYGRESQL = ['pg.py', 'pgdb.py', '_pg.cpython-311-x86_64-linux-gnu.so'];

let server: TestServer;
let sm: SecretsManagerClient;
let lambda: LambdaClient;
let cluster: ScramPostgres;
let root: mysql.Connection;
let functionArn: string;
const mysqlUsers: string[] = [];

const driversInstalled = PYMYSQL.concat(PYGRESQL).every((entry) => existsSync(join(DIST_PACKAGES, entry)));

before(async () => {
  if (!driversInstalled) return;
  [server, cluster, root] = await Promise.all([startTestServer(), startScramPostgres(), mariadbRoot()]);
  sm = secretsClient(server);
  lambda = lambdaClient(server);
  const role = await createExecutionRole(server, 'database-rotation', ROTATION_ACTIONS);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: uniqueFunctionName('database-rotation'),
      Runtime: 'python3.12',
      Role: role.arn,
      Handler: 'database_rotation.lambda_handler',
      // No environment: SECRETS_MANAGER_ENDPOINT, which the function requires, comes from Coffer.
      Code: { ZipFile: buildZip({ 'database_rotation.py': readFileSync(FUNCTION_SOURCE, 'utf8'), ...copiesOf(DIST_PACKAGES, [...PYMYSQL, ...PYGRESQL]) }) },
      Timeout: 60,
    }),
  );
  functionArn = created.FunctionArn!;
});
after(async () => {
  for (const user of mysqlUsers) await root?.query(`DROP USER IF EXISTS ?@'%'`, [user]).catch(() => undefined);
  await root?.end();
  lambda?.destroy();
  await Promise.allSettled([cluster?.cleanup(), server?.cleanup()]);
});

/** Rotates with RotateSecret and the deployed function; returns the secret's AWSCURRENT and AWSPREVIOUS after. */
async function rotate(secretId: string) {
  const before = await valueAt(sm, secretId, 'AWSCURRENT');
  const rotated = await sm.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArn }));
  await server.server.coffer.rotation.idle();
  const current = await valueAt(sm, secretId, 'AWSCURRENT');
  const previous = await valueAt(sm, secretId, 'AWSPREVIOUS');
  assert.equal(current?.versionId, rotated.VersionId, 'the new version is AWSCURRENT');
  assert.equal(previous?.versionId, before?.versionId, 'the old version is AWSPREVIOUS');
  const stages = await stagesOf(sm, secretId);
  assert.deepEqual(Object.values(stages).flat().sort(), ['AWSCURRENT', 'AWSPREVIOUS'], 'no AWSPENDING left');
  return { current: current!.json, previous: previous!.json };
}

function credentialsOf(json: Record<string, unknown>): Credentials {
  return { host: String(json.host), port: Number(json.port), user: String(json.username), password: String(json.password), database: String(json.dbname) };
}

describe('our database rotation function, written to AWS\'s contract, as a hosted function', { skip: driversInstalled ? false : 'python3-pymysql and python3-pygresql are not installed' }, () => {
  async function postgresUser() {
    const database = randomName('fndb_');
    const username = randomName('fn_');
    const password = randomBytes(12).toString('hex');
    await cluster.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    await cluster.query(`CREATE ROLE ${pg.escapeIdentifier(username)} WITH LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    return { engine: 'postgres', host: cluster.host, port: cluster.port, username, password, dbname: database };
  }

  async function mysqlUser() {
    const username = randomName('fn', 3);
    const password = randomBytes(12).toString('hex');
    mysqlUsers.push(username);
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [username, password]);
    return { engine: 'mysql', host: MARIADB.host, port: MARIADB.port, username, password, dbname: 'information_schema' };
  }

  it('changes a PostgreSQL user\'s password (single user)', async () => {
    const initial = await postgresUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('fn-pg-single'), initial);
    const { current, previous } = await rotate(secretId);
    assert.equal(current.username, initial.username);
    assert.notEqual(current.password, initial.password);
    assert.equal(await postgresLogsIn(credentialsOf(current)), true, 'the new password logs in');
    assert.equal(await postgresLogsIn(credentialsOf(previous)), false, 'the old password no longer logs in');
  });

  it('changes a MariaDB user\'s password (single user)', async () => {
    const initial = await mysqlUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('fn-my-single'), initial);
    const { current, previous } = await rotate(secretId);
    assert.equal(current.username, initial.username);
    assert.notEqual(current.password, initial.password);
    assert.equal(await mysqlLogsIn(credentialsOf(current)), true, 'the new password logs in');
    assert.equal(await mysqlLogsIn(credentialsOf(previous)), false, 'the old password no longer logs in');
  });

  it('alternates PostgreSQL users with the superuser secret named by masterarn', async () => {
    const initial = await postgresUser();
    const masterArn = await createJsonSecret(sm, uniqueSecretName('fn-pg-master'), {
      engine: 'postgres',
      host: cluster.host,
      port: cluster.port,
      username: cluster.superuser,
      password: cluster.superPassword,
      dbname: 'postgres',
    });
    const secretId = await createJsonSecret(sm, uniqueSecretName('fn-pg-multi'), { ...initial, masterarn: masterArn });

    const first = await rotate(secretId);
    assert.equal(first.current.username, `${initial.username}_clone`, 'the superuser created the clone user');
    assert.equal(await postgresLogsIn(credentialsOf(first.current)), true);
    assert.equal(await postgresLogsIn(credentialsOf(first.previous)), true, 'the previous user still logs in');

    const second = await rotate(secretId);
    assert.equal(second.current.username, initial.username, 'back to the original user');
    assert.notEqual(second.current.password, initial.password);
    assert.equal(await postgresLogsIn(credentialsOf(second.current)), true);
    assert.equal(await postgresLogsIn(credentialsOf(second.previous)), true, 'the clone still logs in');
    assert.equal(await postgresLogsIn(credentialsOf(initial)), false, 'the original password no longer logs in');
  });
});
