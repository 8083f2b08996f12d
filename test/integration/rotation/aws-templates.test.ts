import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { lambdaClient, ROTATION_ACTIONS } from '../../helpers/lambda.js';
import { createExecutionRole } from '../../helpers/principals.js';
import { createJsonSecret, valueAt } from '../../helpers/rotation-harness.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * AWS's own rotation templates (test/fixtures/aws-rotation-templates, unchanged) rotate real PostgreSQL and
 * MariaDB users inside Coffer: each is deployed as a hosted `python3.12` function with its database driver
 * bundled in the zip, as one deploys them to Lambda, and reads SECRETS_MANAGER_ENDPOINT, which Coffer sets
 * to itself. The drivers come from Debian's python3-pymysql and python3-pygresql (.ci/run installs them):
 * PyMySQL is pure Python; PyGreSQL's `_pg` is compiled for the machine's Python 3.11, which runs python3.x.
 */
const TEMPLATES = join(REPO_ROOT, 'test/fixtures/aws-rotation-templates');
const DIST_PACKAGES = '/usr/lib/python3/dist-packages';
const PYMYSQL = ['pymysql'];
const PYGRESQL = ['pg.py', 'pgdb.py', '_pg.cpython-311-x86_64-linux-gnu.so'];

let server: TestServer;
let sm: SecretsManagerClient;
let lambda: LambdaClient;
let cluster: ScramPostgres;
let root: mysql.Connection;
let scratch: string;
const mysqlUsers: string[] = [];
const functionArns: Record<string, string> = {};

/** A zip of the template's lambda_function.py and the driver packages beside it, built with Python's zipfile. */
function templateZip(template: string, packages: string[]): Buffer {
  const dir = mkdtempSync(join(scratch, `${template}-`));
  cpSync(join(TEMPLATES, template, 'lambda_function.py'), join(dir, 'lambda_function.py'));
  for (const entry of packages) cpSync(join(DIST_PACKAGES, entry), join(dir, entry), { recursive: true });
  const out = join(scratch, `${template}.zip`);
  const script = [
    'import os, sys, zipfile',
    "with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as archive:",
    '    for folder, _, files in os.walk(sys.argv[1]):',
    '        for name in files:',
    '            path = os.path.join(folder, name)',
    '            archive.write(path, os.path.relpath(path, sys.argv[1]))',
  ].join('\n');
  execFileSync('python3', ['-c', script, dir, out]);
  return readFileSync(out);
}

async function deploy(template: string, packages: string[], roleArn: string): Promise<void> {
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: template,
      Runtime: 'python3.12',
      Role: roleArn,
      Handler: 'lambda_function.lambda_handler',
      Code: { ZipFile: templateZip(template, packages) },
      Timeout: 60,
    }),
  );
  functionArns[template] = created.FunctionArn!;
}

const driversInstalled = PYMYSQL.concat(PYGRESQL).every((entry) => existsSync(join(DIST_PACKAGES, entry)));

before(async () => {
  if (!driversInstalled) return;
  scratch = mkdtempSync(join(tmpdir(), 'coffer-templates-'));
  [server, cluster, root] = await Promise.all([startTestServer(), startScramPostgres(), mariadbRoot()]);
  sm = secretsClient(server);
  lambda = lambdaClient(server);
  const role = await createExecutionRole(server, 'aws-template-rotation', ROTATION_ACTIONS);
  await deploy('SecretsManagerRDSPostgreSQLRotationSingleUser', PYGRESQL, role.arn);
  await deploy('SecretsManagerRDSPostgreSQLRotationMultiUser', PYGRESQL, role.arn);
  await deploy('SecretsManagerRDSMySQLRotationSingleUser', PYMYSQL, role.arn);
  await deploy('SecretsManagerRDSMySQLRotationMultiUser', PYMYSQL, role.arn);
});
after(async () => {
  for (const user of mysqlUsers) await root?.query(`DROP USER IF EXISTS ?@'%'`, [user]).catch(() => undefined);
  await root?.end();
  lambda?.destroy();
  await Promise.allSettled([cluster?.cleanup(), server?.cleanup()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Rotates with RotateSecret and the deployed template; returns the secret's AWSCURRENT and AWSPREVIOUS after. */
async function rotateWith(template: string, secretId: string) {
  const rotated = await sm.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArns[template] }));
  await server.server.coffer.rotation.idle();
  const current = await valueAt(sm, secretId, 'AWSCURRENT');
  const previous = await valueAt(sm, secretId, 'AWSPREVIOUS');
  assert.equal(current?.versionId, rotated.VersionId, `${template} made the new version AWSCURRENT`);
  return { current: current!.json, previous: previous!.json };
}

function credentialsOf(json: Record<string, unknown>): Credentials {
  return { host: String(json.host), port: Number(json.port), user: String(json.username), password: String(json.password), database: String(json.dbname) };
}

describe('AWS rotation templates, unchanged, as hosted functions', { skip: driversInstalled ? false : 'python3-pymysql and python3-pygresql are not installed' }, () => {
  async function postgresUser() {
    const database = randomName('tpldb_');
    const username = randomName('tpl_');
    const password = randomBytes(12).toString('hex');
    await cluster.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    await cluster.query(`CREATE ROLE ${pg.escapeIdentifier(username)} WITH LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    // "ssl": false: this PostgreSQL has no TLS (the templates would try verify-full first).
    return { engine: 'postgres', host: cluster.host, port: cluster.port, username, password, dbname: database, ssl: false };
  }

  async function mysqlUser() {
    // Short: the MySQL multi-user template refuses a user whose `<name>_clone` is longer than 16 characters.
    const username = randomName('tpl', 3);
    const password = randomBytes(12).toString('hex');
    mysqlUsers.push(username, `${username}_clone`);
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [username, password]);
    return { engine: 'mysql', host: MARIADB.host, port: MARIADB.port, username, password, dbname: 'information_schema', ssl: false };
  }

  it('SecretsManagerRDSPostgreSQLRotationSingleUser changes the password', async () => {
    const initial = await postgresUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('tpl-pg-single'), initial);
    const { current, previous } = await rotateWith('SecretsManagerRDSPostgreSQLRotationSingleUser', secretId);
    assert.notEqual(current.password, initial.password);
    assert.equal(await postgresLogsIn(credentialsOf(current)), true);
    assert.equal(await postgresLogsIn(credentialsOf(previous)), false);
  });

  it('SecretsManagerRDSPostgreSQLRotationMultiUser creates the clone user from the master secret', async () => {
    const initial = await postgresUser();
    const masterArn = await createJsonSecret(sm, uniqueSecretName('tpl-pg-master'), {
      engine: 'postgres',
      host: cluster.host,
      port: cluster.port,
      username: cluster.superuser,
      password: cluster.superPassword,
      dbname: 'postgres',
      ssl: false,
    });
    const secretId = await createJsonSecret(sm, uniqueSecretName('tpl-pg-multi'), { ...initial, masterarn: masterArn });
    const { current, previous } = await rotateWith('SecretsManagerRDSPostgreSQLRotationMultiUser', secretId);
    assert.equal(current.username, `${initial.username}_clone`);
    assert.equal(await postgresLogsIn(credentialsOf(current)), true);
    assert.equal(await postgresLogsIn(credentialsOf(previous)), true, 'the previous user still logs in');
  });

  it('SecretsManagerRDSMySQLRotationSingleUser changes the password on MariaDB', async () => {
    const initial = await mysqlUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('tpl-my-single'), initial);
    const { current, previous } = await rotateWith('SecretsManagerRDSMySQLRotationSingleUser', secretId);
    assert.notEqual(current.password, initial.password);
    assert.equal(await mysqlLogsIn(credentialsOf(current)), true);
    assert.equal(await mysqlLogsIn(credentialsOf(previous)), false);
  });

  it('SecretsManagerRDSMySQLRotationMultiUser creates the clone user from the master secret on MariaDB', async () => {
    const initial = await mysqlUser();
    const masterArn = await createJsonSecret(sm, uniqueSecretName('tpl-my-master'), {
      engine: 'mysql',
      host: MARIADB.host,
      port: MARIADB.port,
      username: MARIADB.user,
      password: MARIADB.password,
      ssl: false,
    });
    const secretId = await createJsonSecret(sm, uniqueSecretName('tpl-my-multi'), { ...initial, masterarn: masterArn });
    const { current, previous } = await rotateWith('SecretsManagerRDSMySQLRotationMultiUser', secretId);
    assert.equal(current.username, `${initial.username}_clone`);
    assert.equal(await mysqlLogsIn(credentialsOf(current)), true);
    assert.equal(await mysqlLogsIn(credentialsOf(previous)), true, 'the previous user still logs in');
  });
});
