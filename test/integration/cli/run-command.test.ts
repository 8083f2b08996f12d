import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { cliEnv, printEnvCommand, runCoffer, startCoffer } from '../../helpers/coffer-cli.js';
import { childEnv } from '../../helpers/child-server.js';
import { createUser } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { ssmClient, uniquePath } from '../../helpers/ssm.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * `coffer run` (the built bin/coffer, a child process) against a real server: every ECS valueFrom form, the
 * child's exit status and signals, refusals before the command starts, --all-from, --env-file, --watch, and
 * credentials from the SDK's own chain.
 */
describe('coffer run', () => {
  let server: TestServer;
  let secrets: SecretsManagerClient;
  let scratch: string;
  /** A JSON secret with two versions: v1 is AWSPREVIOUS, v2 AWSCURRENT. */
  const db = { name: uniqueSecretName('run/db'), arn: '', v1: '', v2: '' };
  const firstValue = { username: 'app', password: 'first-Pa55', port: 5432 };
  const secondValue = { username: 'app', password: 'second-Pa55', port: 5433 };
  const token = { name: uniqueSecretName('run/token'), value: 'plain token value' };

  before(async () => {
    server = await startTestServer();
    secrets = secretsClient(server);
    scratch = mkdtempSync(join(tmpdir(), 'coffer-run-'));
    const created = await secrets.send(new CreateSecretCommand({ Name: db.name, SecretString: JSON.stringify(firstValue) }));
    db.arn = created.ARN!;
    db.v1 = created.VersionId!;
    db.v2 = (await secrets.send(new PutSecretValueCommand({ SecretId: db.name, SecretString: JSON.stringify(secondValue) }))).VersionId!;
    await secrets.send(new CreateSecretCommand({ Name: token.name, SecretString: token.value }));
  });
  after(async () => {
    secrets.destroy();
    await server.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('passes the value of every valueFrom form to the child', async () => {
    const partialArn = db.arn.replace(/-[A-Za-z0-9]{6}$/, '');
    const forms: Record<string, [string, string]> = {
      FULL_ARN: [db.arn, JSON.stringify(secondValue)],
      FULL_ARN_KEY: [`${db.arn}:password::`, secondValue.password],
      FULL_ARN_STAGE: [`${db.arn}::AWSPREVIOUS:`, JSON.stringify(firstValue)],
      FULL_ARN_KEY_STAGE: [`${db.arn}:password:AWSPREVIOUS:`, firstValue.password],
      FULL_ARN_VERSION: [`${db.arn}:::${db.v1}`, JSON.stringify(firstValue)],
      FULL_ARN_KEY_VERSION: [`${db.arn}:password::${db.v1}`, firstValue.password],
      FULL_ARN_EMPTY_FIELDS: [`${db.arn}:::`, JSON.stringify(secondValue)],
      PARTIAL_ARN_KEY: [`${partialArn}:password::`, secondValue.password],
      PARTIAL_ARN: [partialArn, JSON.stringify(secondValue)],
      NAME: [db.name, JSON.stringify(secondValue)],
      NAME_KEY: [`${db.name}:password`, secondValue.password],
      NAME_NUMBER_KEY: [`${db.name}:port`, String(secondValue.port)],
      NAME_KEY_STAGE_VERSION: [`${db.name}:password:AWSCURRENT:`, secondValue.password],
      NAME_KEY_VERSION: [`${db.name}:password::${db.v1}`, firstValue.password],
      NAME_STAGE: [`${db.name}::AWSPREVIOUS:`, JSON.stringify(firstValue)],
      PLAIN: [token.name, token.value],
    };
    const args = Object.entries(forms).flatMap(([name, [ref]]) => ['--secret', `${name}=${ref}`]);
    const outcome = await runCoffer(['run', ...args, '--', ...printEnvCommand(Object.keys(forms))], cliEnv(server));
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(JSON.parse(outcome.stdout), Object.fromEntries(Object.entries(forms).map(([name, [, value]]) => [name, value])));
    assert.equal(outcome.stderr, '');
  });

  it('passes Parameter Store parameters by name (a SecureString decrypted), ARN and version', async () => {
    const ssm = ssmClient(server);
    const root = uniquePath('run');
    await ssm.send(new PutParameterCommand({ Name: `${root}/host`, Value: 'db.internal', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/host`, Value: 'db2.internal', Type: 'String', Overwrite: true }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/password`, Value: 'ssm-Pa55', Type: 'SecureString' }));
    ssm.destroy();
    const forms: Record<string, [string, string]> = {
      HOST: [`${root}/host`, 'db2.internal'],
      HOST_V1: [`${root}/host:1`, 'db.internal'],
      HOST_ARN: [`arn:aws:ssm:us-east-1:000000000000:parameter${root}/host`, 'db2.internal'],
      PASSWORD: [`${root}/password`, 'ssm-Pa55'],
    };
    const args = Object.entries(forms).flatMap(([name, [ref]]) => ['--secret', `${name}=${ref}`]);
    const outcome = await runCoffer(['run', ...args, '--', ...printEnvCommand(Object.keys(forms))], cliEnv(server));
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(JSON.parse(outcome.stdout), Object.fromEntries(Object.entries(forms).map(([name, [, value]]) => [name, value])));
  });

  it('keeps the rest of its environment for the child, and runs the command without a shell', async () => {
    const outcome = await runCoffer(
      ['run', '--secret', `TOKEN=${token.name}`, '--', process.execPath, '-e', 'console.log(process.env.KEPT + "|" + process.argv[1])', '$HOME;*'],
      cliEnv(server, server.admin, { KEPT: 'kept' }),
    );
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, 'kept|$HOME;*\n');
  });

  it("exits with the child's exit code, or 128 + the signal that ended it", async () => {
    const exit = await runCoffer(['run', '--secret', `T=${token.name}`, '--', process.execPath, '-e', 'process.exit(42)'], cliEnv(server));
    assert.equal(exit.code, 42, exit.stderr);
    const killed = await runCoffer(['run', '--secret', `T=${token.name}`, '--', process.execPath, '-e', 'process.kill(process.pid, "SIGKILL")'], cliEnv(server));
    assert.equal(killed.code, 128 + 9, killed.stderr);
    const missing = await runCoffer(['run', '--secret', `T=${token.name}`, '--', 'no-such-command-coffer-test'], cliEnv(server));
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /cannot start no-such-command-coffer-test: command not found/);
  });

  // A child that waits gives up by itself after a minute, and these tests time out, so a regression fails them instead of hanging.
  it('forwards SIGTERM to the child, whose exit code becomes its own', { timeout: 90_000 }, async () => {
    const child = startCoffer(
      ['run', '--secret', `T=${token.name}`, '--', process.execPath, '-e', 'process.on("SIGTERM", () => process.exit(7)); console.log("ready"); setTimeout(() => process.exit(99), 60000)'],
      cliEnv(server),
    );
    await child.waitForOutput(/ready/);
    child.process.kill('SIGTERM');
    const outcome = await child.done;
    assert.equal(outcome.code, 7, outcome.stderr);
  });

  describe('stops before the command starts, naming the reference and never a value', () => {
    const marker = () => join(scratch, 'started');
    const touch = () => ['--', process.execPath, '-e', `require("node:fs").writeFileSync(${JSON.stringify(marker())}, "")`];

    async function refused(args: string[], env: Record<string, string>, expected: RegExp): Promise<void> {
      rmSync(marker(), { force: true });
      const outcome = await runCoffer(['run', ...args, ...touch()], env);
      assert.equal(outcome.code, 1, outcome.stderr);
      assert.match(outcome.stderr, expected);
      assert.equal(existsSync(marker()), false, 'the command must not start');
      for (const value of [firstValue.password, secondValue.password, token.value]) assert.ok(!outcome.stderr.includes(value), 'no value in the message');
      assert.equal(outcome.stdout, '');
    }

    it('a missing secret', async () => {
      await refused(['--secret', `A=${token.name}`, '--secret', 'B=run/no-such-secret:password'], cliEnv(server), /--secret B=run\/no-such-secret:password: ResourceNotFoundException/);
    });

    it('a missing JSON key, or a key of a value that is not JSON', async () => {
      await refused(['--secret', `A=${db.name}:passwd`], cliEnv(server), new RegExp(`--secret A=${db.name}:passwd: the secret has no JSON key "passwd"`));
      await refused(['--secret', `A=${token.name}:key`], cliEnv(server), /the secret's value is not JSON, so it has no key "key"/);
    });

    it('a secret the caller may not read', async () => {
      const reader = await createUser(server, server.admin, uniqueSecretName('run-reader'), {
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: db.arn }] },
      });
      const allowed = await runCoffer(['run', '--secret', `A=${db.name}:password`, '--', ...printEnvCommand(['A'])], cliEnv(server, reader.keys));
      assert.equal(allowed.code, 0, allowed.stderr);
      await refused(['--secret', `A=${db.name}:password`, '--secret', `B=${token.name}`], cliEnv(server, reader.keys), new RegExp(`--secret B=${token.name}: AccessDeniedException`));
    });

    it('a malformed reference, or a name set twice, without a request', async () => {
      await refused(['--secret', `A=${db.name}:password:AWSCURRENT:${db.v2}`], cliEnv(server), /give a version stage or a version id, not both/);
      await refused(['--secret', 'A=arn:aws:ssm:us-east-1:000000000000:document/app'], cliEnv(server), /not a Parameter Store parameter ARN/);
      await refused(['--secret', `A=${db.name}:a:b:c:d`], cliEnv(server), /too many fields/);
      await refused(['--secret', `A=${token.name}`, '--secret', `A=${db.name}`], cliEnv(server), /A is set twice: by --secret A and by --secret A/);
      await refused(['--secret', `1A=${token.name}`], cliEnv(server), /expected NAME=REF/);
      // Every such mistake of one command line at once.
      await refused(['--secret', 'A=x:1:2:3:4', '--secret', 'B=arn:aws:ssm:us-east-1:000000000000:document/p'], cliEnv(server), /A=x:1:2:3:4: too many fields[^]*document\/p: not a Parameter Store/);
    });

    it('a missing parameter, naming it', async () => {
      await refused(['--secret', 'A=/run/no-such-parameter'], cliEnv(server), /--secret A=\/run\/no-such-parameter: ParameterNotFound/);
    });
  });

  describe('--all-from', () => {
    const prefix = `${uniqueSecretName('allfrom')}/`;

    before(async () => {
      await secrets.send(new CreateSecretCommand({ Name: `${prefix}db/mysql`, SecretString: JSON.stringify({ password: 'all-Pa55', 'db-host': 'db.internal', port: 3306 }) }));
      await secrets.send(new CreateSecretCommand({ Name: `${prefix}api`, SecretString: JSON.stringify({ token: 'all-token' }) }));
      await secrets.send(new CreateSecretCommand({ Name: `${prefix}plain`, SecretString: 'not json' }));
    });

    it('sets every key of every JSON secret under the prefix, named SECRET_NAME_KEY', async () => {
      const base = prefix.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
      const names = [`${base}DB_MYSQL_PASSWORD`, `${base}DB_MYSQL_DB_HOST`, `${base}DB_MYSQL_PORT`, `${base}API_TOKEN`];
      const outcome = await runCoffer(['run', '--all-from', prefix, '--', ...printEnvCommand(names)], cliEnv(server));
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.deepEqual(JSON.parse(outcome.stdout), Object.fromEntries(names.map((name, index) => [name, ['all-Pa55', 'db.internal', '3306', 'all-token'][index]])));
      assert.match(outcome.stderr, new RegExp(`${prefix}plain is not a JSON object; skipped`));
    });

    it('refuses two secrets that map to one name, naming both', async () => {
      const clash = `${uniqueSecretName('clash')}/`;
      await secrets.send(new CreateSecretCommand({ Name: `${clash}a-b`, SecretString: JSON.stringify({ c: 'one' }) }));
      await secrets.send(new CreateSecretCommand({ Name: `${clash}a_b`, SecretString: JSON.stringify({ c: 'two' }) }));
      const outcome = await runCoffer(['run', '--all-from', clash, '--', process.execPath, '-e', 'console.log("started")'], cliEnv(server));
      assert.equal(outcome.code, 1);
      assert.equal(outcome.stdout, '');
      assert.match(outcome.stderr, new RegExp(`_A_B_C is set twice: by --all-from ${clash} \\(${clash}a-b key c\\) and by --all-from ${clash} \\(${clash}a_b key c\\)`));
      assert.ok(!/one|two/.test(outcome.stderr.replace(/is set twice/g, '')), 'no value in the message');
    });
  });

  it('--env-file: literal values, quoted values and dynamic references inside values', async () => {
    const file = join(scratch, 'app.env');
    writeFileSync(
      file,
      [
        '# application settings',
        'STAGE=prod',
        `export DATABASE_URL=mysql://app:{{resolve:secretsmanager:${db.name}:SecretString:password}}@db:3306/app`,
        `OLD_PASSWORD="{{resolve:secretsmanager:${db.arn}:SecretString:password:AWSPREVIOUS}}"`,
        "GREETING='hello # world'",
        '',
      ].join('\n'),
    );
    const outcome = await runCoffer(['run', '--env-file', file, '--', ...printEnvCommand(['STAGE', 'DATABASE_URL', 'OLD_PASSWORD', 'GREETING'])], cliEnv(server));
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(JSON.parse(outcome.stdout), {
      STAGE: 'prod',
      DATABASE_URL: `mysql://app:${secondValue.password}@db:3306/app`,
      OLD_PASSWORD: firstValue.password,
      GREETING: 'hello # world',
    });
  });

  describe('--watch', () => {
    it('restarts the command with the new value when the secret rotates', { timeout: 90_000 }, async () => {
      const name = uniqueSecretName('run/watched');
      await secrets.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ password: 'before-rotation' }) }));
      const child = startCoffer(
        ['run', '--watch', '--watch-interval', '1', '--secret', `PASSWORD=${name}:password`, '--', process.execPath, '-e', 'console.log("value=" + process.env.PASSWORD); setTimeout(() => process.exit(99), 60000)'],
        cliEnv(server),
      );
      try {
        await child.waitForOutput(/value=before-rotation/);
        await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify({ password: 'after-rotation' }) }));
        await child.waitForOutput(/value=after-rotation/);
        assert.match(child.stderr(), new RegExp(`--watch: ${name} \\(AWSCURRENT\\) changed; restarting`));
        assert.ok(!child.stderr().includes('after-rotation'), 'no value on stderr');
      } finally {
        child.process.kill('SIGTERM');
      }
      const outcome = await child.done;
      assert.equal(outcome.code, 128 + 15, 'the restarted child got the forwarded SIGTERM');
    });

    it('=signal:SIGHUP sends the signal instead', { timeout: 90_000 }, async () => {
      const name = uniqueSecretName('run/signalled');
      await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
      const child = startCoffer(
        ['run', '--watch=signal:SIGHUP', '--watch-interval', '1', '--secret', `S=${name}`, '--', process.execPath, '-e',
          'process.on("SIGHUP", () => console.log("hup")); console.log("started " + process.env.S); setTimeout(() => process.exit(99), 60000)'],
        cliEnv(server),
      );
      try {
        await child.waitForOutput(/started v1/);
        await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
        await child.waitForOutput(/hup/);
        // One rotation, one signal: the next checks see the version it was signalled for.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        assert.equal(child.stdout().match(/hup/g)?.length, 1);
        assert.equal(child.stdout().match(/started/g)?.length, 1, 'not restarted');
      } finally {
        child.process.kill('SIGTERM');
      }
      await child.done;
    });
  });

  describe('credentials and endpoint as the AWS SDK resolves them', () => {
    it('a profile in the shared credentials and config files, AWS_ENDPOINT_URL, no keys in the environment', async () => {
      const home = mkdtempSync(join(scratch, 'home-'));
      writeFileSync(join(home, 'credentials'), `[coffer-test]\naws_access_key_id = ${server.admin.accessKeyId}\naws_secret_access_key = ${server.admin.secretAccessKey}\n`);
      writeFileSync(join(home, 'config'), '[profile coffer-test]\nregion = us-east-1\n');
      const env = childEnv({
        HOME: home,
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
        AWS_CONFIG_FILE: join(home, 'config'),
        AWS_PROFILE: 'coffer-test',
        AWS_ENDPOINT_URL: server.url,
      });
      const outcome = await runCoffer(['run', '--secret', `P=${db.name}:password`, '--', ...printEnvCommand(['P', 'AWS_ACCESS_KEY_ID'])], env);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.deepEqual(JSON.parse(outcome.stdout), { P: secondValue.password, AWS_ACCESS_KEY_ID: null });

      // --profile names another profile; without keys or endpoint anywhere the refusal says what is missing.
      const wrong = await runCoffer(['run', '--profile', 'nobody', '--secret', `P=${db.name}:password`, '--', 'true'], env);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /--secret P=.*: no credentials|no Region configured/);
    });

    it('AWS_ENDPOINT_URL_SECRETS_MANAGER before AWS_ENDPOINT_URL, and --endpoint-url before both', async () => {
      const nowhere = 'http://127.0.0.1:9';
      const serviceSpecific = await runCoffer(
        ['run', '--secret', `P=${db.name}:password`, '--', ...printEnvCommand(['P'])],
        cliEnv(server, server.admin, { AWS_ENDPOINT_URL: nowhere, AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url }),
      );
      assert.equal(serviceSpecific.code, 0, serviceSpecific.stderr);
      assert.deepEqual(JSON.parse(serviceSpecific.stdout), { P: secondValue.password });
      const flag = await runCoffer(
        ['run', '--endpoint-url', server.url, '--secret', `P=${db.name}:password`, '--', ...printEnvCommand(['P'])],
        cliEnv(server, server.admin, { AWS_ENDPOINT_URL: nowhere, AWS_ENDPOINT_URL_SECRETS_MANAGER: nowhere }),
      );
      assert.equal(flag.code, 0, flag.stderr);
      const unreachable = await runCoffer(['run', '--secret', `P=${db.name}:password`, '--', 'true'], cliEnv(server, server.admin, { AWS_ENDPOINT_URL: nowhere }));
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.stderr, /cannot reach the endpoint \(ECONNREFUSED\)/);
    });

    it("a profile's endpoint_url, and AWS_DEFAULT_REGION as Coffer's admin-credentials file sets it", async () => {
      const home = mkdtempSync(join(scratch, 'home-'));
      writeFileSync(join(home, 'credentials'), `[default]\naws_access_key_id = ${server.admin.accessKeyId}\naws_secret_access_key = ${server.admin.secretAccessKey}\n`);
      writeFileSync(join(home, 'config'), `[default]\nendpoint_url = ${server.url}\n`);
      const env = childEnv({ HOME: home, AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config'), AWS_DEFAULT_REGION: 'us-east-1' });
      const outcome = await runCoffer(['run', '--secret', `P=${db.name}:password`, '--', ...printEnvCommand(['P'])], env);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.deepEqual(JSON.parse(outcome.stdout), { P: secondValue.password });
    });
  });
});
