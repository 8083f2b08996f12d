import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type mysql from 'mysql2/promise';
import { builtInRotators, createDatabaseRotator, mysqlEngine, singleUser } from '../../../src/rotation/rotators/index.js';
import { copyGrant } from '../../../src/rotation/rotators/mysql.js';
import type { SecretsCaller } from '../../../src/rotation/rotator.js';
import {
  freePort,
  MARIADB,
  mariadbRoot,
  mysqlLogsIn,
  mysqlQuery,
  randomName,
  startSilentServer,
  startTcpProxy,
  type Credentials,
} from '../../helpers/databases.js';
import { createJsonSecret, event, rejectsWithin, rotate, sdkSecretsCaller, stagesOf, valueAt } from '../../helpers/rotation-harness.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * The MySQL rotators against the machine's MariaDB (127.0.0.1:3306), which checks passwords, so an old one
 * really fails. Every test makes its own database and users and drops them afterwards.
 */

const singleUserRotator = builtInRotators['mysql-single-user']!;
const multiUserRotator = builtInRotators['mysql-multi-user']!;

let server: TestServer;
let sm: SecretsManagerClient;
let secrets: SecretsCaller;
let root: mysql.Connection;
/** [user, host] pairs to drop afterwards. */
const createdUsers: Array<[string, string]> = [];
const createdDatabases = new Set<string>();
let master: { username: string; password: string };

before(async () => {
  [server, root] = await Promise.all([startTestServer(), mariadbRoot()]);
  sm = secretsClient(server);
  secrets = sdkSecretsCaller(sm);
  master = { username: randomName('rotmaster_'), password: randomBytes(12).toString('hex') };
  createdUsers.push([master.username, '%']);
  await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [master.username, master.password]);
  await root.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION`, [master.username]);
});
after(async () => {
  if (root) {
    for (const [user, host] of createdUsers) await root.query('DROP USER IF EXISTS ?@?', [user, host]).catch(() => undefined);
    for (const database of createdDatabases) await root.query('DROP DATABASE IF EXISTS ??', [database]).catch(() => undefined);
    await root.end();
  }
  await server?.cleanup();
});

/** A database with a table, and a user that may read and insert there (its clone, if any, is dropped too). */
async function newUser(options: { name?: string; host?: string } = {}) {
  const database = randomName('rotdb_');
  createdDatabases.add(database);
  await root.query('CREATE DATABASE ??', [database]);
  await root.query('CREATE TABLE ??.orders (id INT PRIMARY KEY)', [database]);
  await root.query('INSERT INTO ??.orders VALUES (7)', [database]);
  const username = options.name ?? randomName('app_');
  const password = randomBytes(12).toString('hex');
  const host = options.host ?? '%';
  createdUsers.push([username, host], [`${username}_clone`, host]);
  await root.query('CREATE USER ?@? IDENTIFIED BY ?', [username, host, password]);
  await root.query('GRANT SELECT, INSERT ON ??.* TO ?@?', [database, username, host]);
  return { username, password, database };
}

function secretJson(user: { username: string; password: string; database: string }, extra: Record<string, unknown> = {}) {
  return { engine: 'mysql', host: MARIADB.host, port: MARIADB.port, username: user.username, password: user.password, dbname: user.database, ...extra };
}

function credentials(json: Record<string, unknown>): Credentials {
  return { host: String(json.host), port: Number(json.port), user: String(json.username), password: String(json.password), database: String(json.dbname) };
}

async function current(secretId: string) {
  const value = await valueAt(sm, secretId, 'AWSCURRENT');
  assert.ok(value, 'AWSCURRENT exists');
  return value;
}

async function masterSecret(password = master.password): Promise<string> {
  return createJsonSecret(sm, uniqueSecretName('my-master'), {
    engine: 'mariadb',
    host: MARIADB.host,
    port: MARIADB.port,
    username: master.username,
    password,
  });
}

describe('SecretsManagerRDSMySQLRotationSingleUser', () => {
  it('changes the password: AWSCURRENT logs in, AWSPREVIOUS no longer does; a second rotation works too', async () => {
    const user = await newUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-single'), secretJson(user));

    const first = await rotate(singleUserRotator, secrets, secretId);
    const afterFirst = await current(secretId);
    assert.equal(afterFirst.versionId, first);
    assert.equal(afterFirst.json.username, user.username);
    assert.notEqual(afterFirst.json.password, user.password);
    assert.doesNotMatch(String(afterFirst.json.password), /[/@"'\\]/);
    assert.equal(await mysqlLogsIn(credentials(afterFirst.json)), true, 'AWSCURRENT logs in');
    const previous = await valueAt(sm, secretId, 'AWSPREVIOUS');
    assert.equal(previous?.json.password, user.password);
    assert.equal(await mysqlLogsIn(credentials(previous!.json)), false, 'AWSPREVIOUS no longer logs in');

    const second = await rotate(singleUserRotator, secrets, secretId);
    const afterSecond = await current(secretId);
    assert.equal(afterSecond.versionId, second);
    assert.equal(await mysqlLogsIn(credentials(afterSecond.json)), true);
    assert.equal((await valueAt(sm, secretId, 'AWSPREVIOUS'))?.versionId, first);
    assert.equal(await mysqlLogsIn(credentials(afterFirst.json)), false);
  });

  it('runs every step twice without harm, and does nothing once the token is AWSCURRENT', async () => {
    const user = await newUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-repeat'), secretJson(user));
    const token = randomUUID();
    for (const step of ['createSecret', 'createSecret', 'setSecret', 'setSecret', 'testSecret', 'testSecret', 'finishSecret', 'finishSecret'] as const) {
      await singleUserRotator.runStep(event(secretId, token, step), secrets);
    }
    const afterwards = await current(secretId);
    assert.equal(afterwards.versionId, token);
    assert.equal(await mysqlLogsIn(credentials(afterwards.json)), true);
    await rotate(singleUserRotator, secrets, secretId, token);
    assert.deepEqual(await current(secretId), afterwards);
    assert.equal(await mysqlLogsIn(credentials(afterwards.json)), true);
  });
});

describe('SecretsManagerRDSMySQLRotationMultiUser', () => {
  it('clones the user with its grants on the first rotation and alternates afterwards; AWSPREVIOUS keeps logging in', async () => {
    // A name that needs quoting: a single quote and a backtick.
    const user = await newUser({ name: `o'k\`${randomBytes(3).toString('hex')}` });
    const masterArn = await masterSecret();
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-multi'), secretJson(user, { engine: 'mariadb', masterarn: masterArn }));
    const clone = `${user.username}_clone`;

    const first = await rotate(multiUserRotator, secrets, secretId);
    const one = await current(secretId);
    assert.equal(one.versionId, first);
    assert.equal(one.json.username, clone);
    assert.equal(one.json.engine, 'mariadb');
    assert.equal(await mysqlLogsIn(credentials(one.json)), true, 'the clone logs in');
    assert.deepEqual(await mysqlQuery(credentials(one.json), 'SELECT id FROM orders'), [{ id: 7 }], "the clone has the user's grants");
    await mysqlQuery(credentials(one.json), 'INSERT INTO orders VALUES (8)');
    await assert.rejects(mysqlQuery(credentials(one.json), 'DELETE FROM orders'), /DELETE command denied/, 'and no more');
    const previousOne = await valueAt(sm, secretId, 'AWSPREVIOUS');
    assert.equal(previousOne?.json.username, user.username);
    assert.equal(await mysqlLogsIn(credentials(previousOne!.json)), true, 'AWSPREVIOUS (the original user) still logs in');

    const second = await rotate(multiUserRotator, secrets, secretId);
    const two = await current(secretId);
    assert.equal(two.versionId, second);
    assert.equal(two.json.username, user.username, 'the second rotation goes back to the original user');
    assert.notEqual(two.json.password, user.password);
    assert.equal(await mysqlLogsIn(credentials(two.json)), true);
    assert.equal(await mysqlLogsIn(credentials(one.json)), true, 'AWSPREVIOUS (the clone) still logs in');
    assert.equal(await mysqlLogsIn(credentials(previousOne!.json)), false, "the original user's first password is gone");

    const third = await rotate(multiUserRotator, secrets, secretId);
    const three = await current(secretId);
    assert.equal(three.versionId, third);
    assert.equal(three.json.username, clone);
    assert.equal(await mysqlLogsIn(credentials(three.json)), true);
    assert.equal(await mysqlLogsIn(credentials(one.json)), false, "the clone's first password is gone");
  });

  it('clones a user defined for a host other than %, for that host', async () => {
    const user = await newUser({ host: '127.0.0.1' });
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-host'), secretJson(user, { masterarn: await masterSecret() }));
    await rotate(multiUserRotator, secrets, secretId);
    const now = await current(secretId);
    assert.equal(now.json.username, `${user.username}_clone`);
    assert.equal(await mysqlLogsIn(credentials(now.json)), true);
    const [row] = await root.query<mysql.RowDataPacket[]>('SELECT Host FROM mysql.user WHERE User = ?', [now.json.username]);
    assert.deepEqual(row, [{ Host: '127.0.0.1' }]);
    assert.deepEqual(await mysqlQuery(credentials(now.json), 'SELECT id FROM orders'), [{ id: 7 }]);
  });

  it('fails setSecret naming the master secret when its password is wrong; AWSCURRENT stays, AWSPENDING is kept', async () => {
    const user = await newUser();
    const masterArn = await masterSecret('wrong-master-password');
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-bad-master'), secretJson(user, { masterarn: masterArn }));
    const before = await current(secretId);
    const token = randomUUID();
    await multiUserRotator.runStep(event(secretId, token, 'createSecret'), secrets);
    const { error } = await rejectsWithin(multiUserRotator.runStep(event(secretId, token, 'setSecret'), secrets), 10_000);
    assert.match(error.message, new RegExp(`^setSecret: cannot log in to MySQL at 127\\.0\\.0\\.1:3306 as "${master.username}" with master secret ${masterArn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(Access denied`));
    assert.ok(!error.message.includes('wrong-master-password') && !error.message.includes(user.password));
    assert.deepEqual(await current(secretId), before);
    assert.deepEqual((await stagesOf(sm, secretId))[token], ['AWSPENDING']);
    assert.equal(await mysqlLogsIn({ ...credentials(before.json), user: `${user.username}_clone` }), false, 'no clone was made');
  });

  it('rewrites SHOW GRANTS lines for the clone, dropping the password hash', () => {
    assert.equal(
      copyGrant("GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF'", 'app', 'app_clone', '%'),
      'GRANT USAGE ON *.* TO `app_clone`@`%`',
    );
    assert.equal(
      copyGrant('GRANT SELECT, INSERT ON `d``b`.* TO `a``b`@`10.%` WITH GRANT OPTION', 'a`b', 'a`b_clone', '10.%'),
      'GRANT SELECT, INSERT ON `d``b`.* TO `a``b_clone`@`10.%` WITH GRANT OPTION',
    );
    assert.equal(copyGrant('GRANT `reader` TO `app`@`%`', 'app', 'app_clone', '%'), 'GRANT `reader` TO `app_clone`@`%`');
    assert.equal(copyGrant('SET DEFAULT ROLE `reader` FOR `app`@`%`', 'app', 'app_clone', '%'), 'SET DEFAULT ROLE `reader` FOR `app_clone`@`%`');
    assert.throws(() => copyGrant('GRANT SELECT ON *.* TO `other`@`%`', 'app', 'app_clone', '%'), /does not name the user as expected/);
  });
});

describe('MySQL rotators: bad input and unreachable databases', () => {
  it('refuses a secret without host in createSecret; AWSCURRENT is unchanged and nothing is pending', async () => {
    const user = await newUser();
    const { host, ...withoutHost } = secretJson(user, { masterarn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:x-abcdef' });
    void host;
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-nohost'), withoutHost);
    const before = await current(secretId);
    for (const rotator of [singleUserRotator, multiUserRotator]) {
      const { error } = await rejectsWithin(rotator.runStep(event(secretId, randomUUID(), 'createSecret'), secrets), 5_000);
      assert.match(error.message, /^createSecret: the AWSCURRENT version of secret .+ lacks "host"/);
      assert.ok(!error.message.includes(user.password));
    }
    assert.deepEqual(await current(secretId), before);
    assert.equal(await valueAt(sm, secretId, 'AWSPENDING'), undefined);
  });

  it('refuses a clone name longer than MySQL allows before writing anything', async () => {
    const user = await newUser({ name: randomName('long_user_name_', 6) });
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-long'), secretJson(user, { masterarn: await masterSecret() }));
    const { error } = await rejectsWithin(multiUserRotator.runStep(event(secretId, randomUUID(), 'createSecret'), secrets), 5_000);
    assert.match(error.message, /^createSecret: cannot clone user "long_user_name_\w+": ".+_clone" would be longer than the 32 characters/);
    assert.equal(await valueAt(sm, secretId, 'AWSPENDING'), undefined);
  });

  it('fails setSecret within seconds when the port is unreachable, keeps AWSPENDING and AWSCURRENT, and succeeds once it is reachable', async () => {
    const user = await newUser();
    const port = await freePort();
    const masterArn = await createJsonSecret(sm, uniqueSecretName('my-master-moved'), {
      engine: 'mysql',
      host: MARIADB.host,
      port,
      username: master.username,
      password: master.password,
    });
    const secretId = await createJsonSecret(sm, uniqueSecretName('my-unreachable'), { ...secretJson(user, { masterarn: masterArn }), port });
    const before = await current(secretId);
    const token = randomUUID();

    await multiUserRotator.runStep(event(secretId, token, 'createSecret'), secrets);
    const { error } = await rejectsWithin(multiUserRotator.runStep(event(secretId, token, 'setSecret'), secrets), 3_000);
    assert.match(error.message, new RegExp(`^setSecret: cannot reach MySQL at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    const pending = await valueAt(sm, secretId, 'AWSPENDING');
    assert.equal(pending?.versionId, token, 'AWSPENDING is recorded');
    assert.equal(pending?.json.username, `${user.username}_clone`);
    assert.deepEqual(await current(secretId), before, 'AWSCURRENT is unchanged');

    const proxy = await startTcpProxy(port, { host: MARIADB.host, port: MARIADB.port });
    try {
      for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) await multiUserRotator.runStep(event(secretId, token, step), secrets);
      const after = await current(secretId);
      assert.equal(after.versionId, token);
      assert.equal(await mysqlLogsIn(credentials(after.json)), true);
      assert.equal(await mysqlLogsIn(credentials(before.json)), true, 'alternating users: the previous user still logs in');
    } finally {
      await proxy.close();
    }
  });

  it('fails setSecret after the connection timeout when the database never answers', async () => {
    const silent = await startSilentServer();
    try {
      const user = await newUser();
      const quick = createDatabaseRotator({ engine: mysqlEngine, strategy: singleUser, connectTimeoutMs: 500 });
      const secretId = await createJsonSecret(sm, uniqueSecretName('my-silent'), { ...secretJson(user), port: silent.port });
      const before = await current(secretId);
      const token = randomUUID();
      await quick.runStep(event(secretId, token, 'createSecret'), secrets);
      const { error, elapsedMs } = await rejectsWithin(quick.runStep(event(secretId, token, 'setSecret'), secrets), 3_000);
      assert.match(error.message, new RegExp(`^setSecret: cannot reach MySQL at 127\\.0\\.0\\.1:${silent.port}: no answer within 500 ms`));
      assert.ok(elapsedMs >= 450, `waited ${elapsedMs} ms`);
      assert.deepEqual(await current(secretId), before);
    } finally {
      await silent.close();
    }
  });
});
