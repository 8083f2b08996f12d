import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { builtInRotators, createDatabaseRotator, postgresEngine, singleUser } from '../../../src/rotation/rotators/index.js';
import type { Rotator, SecretsCaller } from '../../../src/rotation/rotator.js';
import {
  freePort,
  postgresLogsIn,
  postgresQuery,
  randomName,
  startScramPostgres,
  startSilentServer,
  startTcpProxy,
  type Credentials,
  type ScramPostgres,
} from '../../helpers/databases.js';
import { createJsonSecret, event, rejectsWithin, rotate, sdkSecretsCaller, stagesOf, valueAt } from '../../helpers/rotation-harness.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * The PostgreSQL rotators against a real PostgreSQL cluster of the test's own, with scram-sha-256
 * authentication, so an old password really fails. The secrets live in a real Coffer server.
 */

const singleUserRotator = builtInRotators['postgres-single-user']!;
const multiUserRotator = builtInRotators['postgres-multi-user']!;

let server: TestServer;
let sm: SecretsManagerClient;
let secrets: SecretsCaller;
let cluster: ScramPostgres;

before(async () => {
  [server, cluster] = await Promise.all([startTestServer(), startScramPostgres()]);
  sm = secretsClient(server);
  secrets = sdkSecretsCaller(sm);
});
after(async () => {
  await Promise.allSettled([cluster?.cleanup(), server?.cleanup()]);
});

const id = (name: string) => pg.escapeIdentifier(name);
const literal = (value: string) => pg.escapeLiteral(value);

/** A database owned by the superuser, and a login user with a password that may use it. */
async function newUser(options: { name?: string; database?: string } = {}) {
  const database = options.database ?? randomName('rotdb_');
  if (!options.database) await cluster.query(`CREATE DATABASE ${id(database)}`);
  const username = options.name ?? randomName('app_');
  const password = randomBytes(12).toString('hex');
  await cluster.query(`CREATE ROLE ${id(username)} WITH LOGIN PASSWORD ${literal(password)}`);
  return { username, password, database };
}

function secretJson(user: { username: string; password: string; database: string }, extra: Record<string, unknown> = {}) {
  return { engine: 'postgres', host: cluster.host, port: cluster.port, username: user.username, password: user.password, dbname: user.database, ...extra };
}

function credentials(json: Record<string, unknown>): Credentials {
  return { host: String(json.host), port: Number(json.port), user: String(json.username), password: String(json.password), database: String(json.dbname) };
}

async function current(secretId: string) {
  const value = await valueAt(sm, secretId, 'AWSCURRENT');
  assert.ok(value, 'AWSCURRENT exists');
  return value;
}

async function masterSecret(): Promise<string> {
  return createJsonSecret(sm, uniqueSecretName('pg-master'), {
    engine: 'postgres',
    host: cluster.host,
    port: cluster.port,
    username: cluster.superuser,
    password: cluster.superPassword,
    dbname: 'postgres',
  });
}

describe('SecretsManagerRDSPostgreSQLRotationSingleUser', () => {
  it('changes the password: AWSCURRENT logs in, AWSPREVIOUS no longer does; a second rotation works too', async () => {
    // A name that needs quoting: a double quote, a space and upper case.
    const user = await newUser({ name: `App "${randomBytes(3).toString('hex')}" x` });
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-single'), secretJson(user));

    const first = await rotate(singleUserRotator, secrets, secretId);
    const afterFirst = await current(secretId);
    assert.equal(afterFirst.versionId, first);
    assert.equal(afterFirst.json.username, user.username);
    assert.notEqual(afterFirst.json.password, user.password);
    assert.equal(String(afterFirst.json.password).length, 32);
    assert.doesNotMatch(String(afterFirst.json.password), /[:/@"'\\]/);
    assert.equal(afterFirst.json.dbname, user.database);
    assert.equal(await postgresLogsIn(credentials(afterFirst.json)), true, 'AWSCURRENT logs in');
    const previous = await valueAt(sm, secretId, 'AWSPREVIOUS');
    assert.equal(previous?.json.password, user.password);
    assert.equal(await postgresLogsIn(credentials(previous!.json)), false, 'AWSPREVIOUS no longer logs in');

    const second = await rotate(singleUserRotator, secrets, secretId);
    const afterSecond = await current(secretId);
    assert.equal(afterSecond.versionId, second);
    assert.equal(await postgresLogsIn(credentials(afterSecond.json)), true);
    assert.equal((await valueAt(sm, secretId, 'AWSPREVIOUS'))?.versionId, first);
    assert.equal(await postgresLogsIn(credentials(afterFirst.json)), false, 'the first rotated password is gone as well');
  });

  it('runs every step twice without harm, and does nothing once the token is AWSCURRENT', async () => {
    const user = await newUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-repeat'), secretJson(user));
    const token = randomUUID();

    await singleUserRotator.runStep(event(secretId, token, 'createSecret'), secrets);
    const pending = await valueAt(sm, secretId, 'AWSPENDING');
    await singleUserRotator.runStep(event(secretId, token, 'createSecret'), secrets);
    assert.deepEqual(await valueAt(sm, secretId, 'AWSPENDING'), pending, 'a second createSecret keeps the pending version');
    assert.equal(pending?.versionId, token);

    for (const step of ['setSecret', 'setSecret', 'testSecret', 'testSecret', 'finishSecret', 'finishSecret'] as const) {
      await singleUserRotator.runStep(event(secretId, token, step), secrets);
    }
    const afterwards = await current(secretId);
    assert.equal(afterwards.versionId, token);
    assert.equal(afterwards.json.password, pending?.json.password);
    assert.equal(await postgresLogsIn(credentials(afterwards.json)), true);

    // Replaying the whole rotation after it finished changes nothing.
    await rotate(singleUserRotator, secrets, secretId, token);
    assert.deepEqual(await current(secretId), afterwards);
    assert.equal(await postgresLogsIn(credentials(afterwards.json)), true);
  });

  it('falls back to AWSPREVIOUS when the database went back to the previous password', async () => {
    const user = await newUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-previous'), secretJson(user));
    await rotate(singleUserRotator, secrets, secretId);
    // The database is restored from a backup taken before the rotation: AWSCURRENT fails, AWSPREVIOUS works.
    await cluster.query(`ALTER ROLE ${id(user.username)} WITH PASSWORD ${literal(user.password)}`);

    const token = await rotate(singleUserRotator, secrets, secretId);
    const now = await current(secretId);
    assert.equal(now.versionId, token);
    assert.equal(await postgresLogsIn(credentials(now.json)), true);
  });

  it('fails setSecret with a clear message, naming no password, when no known password works', async () => {
    const user = await newUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-wrong'), secretJson({ ...user, password: 'not-the-password-123' }));
    const before = await current(secretId);
    const token = randomUUID();
    await singleUserRotator.runStep(event(secretId, token, 'createSecret'), secrets);
    const pending = await valueAt(sm, secretId, 'AWSPENDING');

    const { error } = await rejectsWithin(singleUserRotator.runStep(event(secretId, token, 'setSecret'), secrets), 10_000);
    assert.match(error.message, /^setSecret: cannot log in to PostgreSQL at 127\.0\.0\.1:\d+ as "app_\w+" with the AWSPENDING, AWSCURRENT or AWSPREVIOUS password/);
    assert.match(error.message, /password authentication failed/);
    for (const secret of ['not-the-password-123', user.password, String(pending?.json.password)]) assert.ok(!error.message.includes(secret));
    assert.deepEqual(await current(secretId), before, 'AWSCURRENT is unchanged');
    assert.equal(await postgresLogsIn({ host: cluster.host, port: cluster.port, user: user.username, password: user.password, database: user.database }), true);
  });
});

describe('SecretsManagerRDSPostgreSQLRotationMultiUser', () => {
  it('clones the user on the first rotation and alternates afterwards; AWSPREVIOUS keeps logging in', async () => {
    const user = await newUser();
    const owner = { host: cluster.host, port: cluster.port, user: user.username, password: user.password, database: user.database };
    await postgresQuery({ ...owner, user: cluster.superuser, password: cluster.superPassword }, `GRANT ALL ON SCHEMA public TO ${id(user.username)}`);
    await postgresQuery(owner, 'CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (7)');
    const masterArn = await masterSecret();
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-multi'), secretJson(user, { masterarn: masterArn }));
    const clone = `${user.username}_clone`;

    const first = await rotate(multiUserRotator, secrets, secretId);
    const one = await current(secretId);
    assert.equal(one.versionId, first);
    assert.equal(one.json.username, clone);
    assert.equal(one.json.masterarn, masterArn);
    assert.equal(await postgresLogsIn(credentials(one.json)), true, 'the clone logs in');
    assert.deepEqual(await postgresQuery(credentials(one.json), 'SELECT id FROM orders'), [{ id: 7 }], "the clone has the user's privileges");
    const previousOne = await valueAt(sm, secretId, 'AWSPREVIOUS');
    assert.equal(previousOne?.json.username, user.username);
    assert.equal(await postgresLogsIn(credentials(previousOne!.json)), true, 'AWSPREVIOUS (the original user) still logs in');

    const second = await rotate(multiUserRotator, secrets, secretId);
    const two = await current(secretId);
    assert.equal(two.versionId, second);
    assert.equal(two.json.username, user.username, 'the second rotation goes back to the original user');
    assert.notEqual(two.json.password, user.password);
    assert.equal(await postgresLogsIn(credentials(two.json)), true);
    assert.equal(await postgresLogsIn(credentials(one.json)), true, 'AWSPREVIOUS (the clone) still logs in');
    assert.equal(await postgresLogsIn(owner), false, "the original user's first password is gone");

    const third = await rotate(multiUserRotator, secrets, secretId);
    const three = await current(secretId);
    assert.equal(three.versionId, third);
    assert.equal(three.json.username, clone);
    assert.equal(await postgresLogsIn(credentials(three.json)), true);
    assert.equal(await postgresLogsIn(credentials(one.json)), false, "the clone's first password is gone");
    assert.equal(await postgresLogsIn(credentials(two.json)), true);
  });

  it('refuses a secret without masterarn in createSecret, naming the field', async () => {
    const user = await newUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-nomaster'), secretJson(user));
    const before = await current(secretId);
    const { error } = await rejectsWithin(multiUserRotator.runStep(event(secretId, randomUUID(), 'createSecret'), secrets), 5_000);
    assert.match(error.message, /^createSecret: the AWSCURRENT version of secret .+ lacks "masterarn"/);
    assert.ok(!error.message.includes(user.password));
    assert.deepEqual(await current(secretId), before);
    assert.equal(await valueAt(sm, secretId, 'AWSPENDING'), undefined);
  });

  it('fails setSecret naming the master secret and its missing host; AWSCURRENT stays, AWSPENDING is kept', async () => {
    const user = await newUser();
    const masterArn = await createJsonSecret(sm, uniqueSecretName('pg-master-nohost'), {
      engine: 'postgres',
      port: cluster.port,
      username: cluster.superuser,
      password: cluster.superPassword,
    });
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-multi-bad-master'), secretJson(user, { masterarn: masterArn }));
    const before = await current(secretId);
    const token = randomUUID();
    await multiUserRotator.runStep(event(secretId, token, 'createSecret'), secrets);
    const { error } = await rejectsWithin(multiUserRotator.runStep(event(secretId, token, 'setSecret'), secrets), 10_000);
    assert.equal(error.message, `setSecret: the AWSCURRENT version of master secret ${masterArn} lacks "host"`);
    assert.ok(!error.message.includes(cluster.superPassword));
    assert.deepEqual(await current(secretId), before);
    assert.deepEqual((await stagesOf(sm, secretId))[token], ['AWSPENDING']);
  });
});

describe('PostgreSQL rotators: bad input and unreachable databases', () => {
  it('refuses a secret without host in createSecret; AWSCURRENT is unchanged and nothing is pending', async () => {
    const user = await newUser();
    const { host, ...withoutHost } = secretJson(user);
    void host;
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-nohost'), withoutHost);
    const before = await current(secretId);
    for (const rotator of [singleUserRotator, multiUserRotator]) {
      const { error } = await rejectsWithin(rotator.runStep(event(secretId, randomUUID(), 'createSecret'), secrets), 5_000);
      assert.match(error.message, /^createSecret: the AWSCURRENT version of secret .+ lacks "host"/);
      assert.ok(!error.message.includes(user.password));
    }
    assert.deepEqual(await current(secretId), before);
    assert.equal(await valueAt(sm, secretId, 'AWSPENDING'), undefined);
  });

  it('refuses a secret for another engine, and a SecretString that is not JSON, without quoting it', async () => {
    const user = await newUser();
    const mysqlSecret = await createJsonSecret(sm, uniqueSecretName('pg-engine'), secretJson(user, { engine: 'mysql' }));
    const { error } = await rejectsWithin(singleUserRotator.runStep(event(mysqlSecret, randomUUID(), 'createSecret'), secrets), 5_000);
    assert.match(error.message, /has "engine": "mysql"; this PostgreSQL rotator needs one of "postgres", "aurora-postgresql"/);

    const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    const garbled = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('pg-garbled'), SecretString: `{"password":"${user.password}",` }));
    const { error: notJson } = await rejectsWithin(singleUserRotator.runStep(event(garbled.ARN!, randomUUID(), 'createSecret'), secrets), 5_000);
    assert.match(notJson.message, /is not valid JSON/);
    assert.ok(!notJson.message.includes(user.password));
  });

  it('fails setSecret within seconds when the port is unreachable, keeps AWSPENDING and AWSCURRENT, and succeeds once it is reachable', async () => {
    const user = await newUser();
    const port = await freePort();
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-unreachable'), { ...secretJson(user), port });
    const before = await current(secretId);
    const token = randomUUID();

    await singleUserRotator.runStep(event(secretId, token, 'createSecret'), secrets);
    const { error } = await rejectsWithin(singleUserRotator.runStep(event(secretId, token, 'setSecret'), secrets), 3_000);
    assert.match(error.message, new RegExp(`^setSecret: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    const pending = await valueAt(sm, secretId, 'AWSPENDING');
    assert.equal(pending?.versionId, token, 'AWSPENDING is recorded');
    assert.ok(!error.message.includes(String(pending?.json.password)) && !error.message.includes(user.password));
    assert.deepEqual(await current(secretId), before, 'AWSCURRENT is unchanged');

    const proxy = await startTcpProxy(port, { host: cluster.host, port: cluster.port });
    try {
      for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) await singleUserRotator.runStep(event(secretId, token, step), secrets);
      const after = await current(secretId);
      assert.equal(after.versionId, token);
      assert.equal(await postgresLogsIn(credentials(after.json)), true);
      assert.equal(await postgresLogsIn(credentials(before.json)), false);
    } finally {
      await proxy.close();
    }
  });

  it('fails setSecret after the connection timeout when the database never answers', async () => {
    const silent = await startSilentServer();
    try {
      const user = await newUser();
      const quick: Rotator = createDatabaseRotator({ engine: postgresEngine, strategy: singleUser, connectTimeoutMs: 500 });
      const secretId = await createJsonSecret(sm, uniqueSecretName('pg-silent'), { ...secretJson(user), port: silent.port });
      const before = await current(secretId);
      const token = randomUUID();
      await quick.runStep(event(secretId, token, 'createSecret'), secrets);
      const { error, elapsedMs } = await rejectsWithin(quick.runStep(event(secretId, token, 'setSecret'), secrets), 3_000);
      assert.match(error.message, new RegExp(`^setSecret: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${silent.port}: no answer within 500 ms`));
      assert.ok(elapsedMs >= 450, `waited ${elapsedMs} ms`);
      assert.deepEqual(await current(secretId), before);
    } finally {
      await silent.close();
    }
  });

  it('refuses later steps for a token that createSecret never wrote', async () => {
    const user = await newUser();
    const secretId = await createJsonSecret(sm, uniqueSecretName('pg-notoken'), secretJson(user));
    const before = await current(secretId);
    const { error } = await rejectsWithin(singleUserRotator.runStep(event(secretId, randomUUID(), 'finishSecret'), secrets), 5_000);
    assert.match(error.message, /^finishSecret: secret .+ has no version [0-9a-f-]+ to rotate to/);
    assert.deepEqual(await current(secretId), before);
  });
});
