import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { shell, shellOk, type ShellResult } from '../../helpers/aws-cli.js';
import { secretArnPattern } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The value of the seed's create-secret, character for character. */
const MYSQL_FIRST = '{"username":"admin","password":"P@ssw0rd2024","host":"mydb.cluster-abc.us-east-1.rds.amazonaws.com","port":3306}';
/** The value of the seed's put-secret-value. */
const MYSQL_SECOND = '{"username":"admin","password":"NewP@ss2025"}';
const POSTGRES =
  '{"username":"dbadmin","password":"InitPass123","engine":"postgres","host":"mydb.cluster-abc.us-east-1.rds.amazonaws.com","port":5432,"dbname":"appdb"}';
const MYAPP_MYSQL = '{"username":"admin","password":"t0p-s3cr3t","host":"mydb.example.com","port":"3306","dbname":"myapp"}';

type SecretValue = {
  ARN: string;
  Name: string;
  VersionId: string;
  SecretString?: string;
  VersionStages: string[];
  CreatedDate: number | string;
};
type Tag = { Key: string; Value: string };
type Description = {
  ARN: string;
  Name: string;
  Description?: string;
  Tags?: Tag[];
  VersionIdsToStages: Record<string, string[]>;
  DeletedDate?: number | string;
  CreatedDate: number | string;
};
type VersionEntry = { VersionId: string; VersionStages?: string[]; CreatedDate: number | string; KmsKeyIds?: string[] };

/** The AWS CLI prints timestamps as received (epoch seconds) or as ISO 8601, depending on version and settings. */
function timestampMs(value: string | number | undefined): number {
  assert.ok(value !== undefined, 'timestamp missing');
  return typeof value === 'number' ? value * 1000 : Date.parse(value);
}

/**
 * The Secrets Manager commands of the seed documents (seeds/001 "Secrets Manager CLI" and "Real-World
 * Scenario", seeds/000's get-secret-value by ARN, seeds/003's versioning and tagging), exactly as a user
 * types them with `--endpoint-url` added, run by the real AWS CLI in a scratch directory.
 */
describe('the AWS CLI against Coffer: the seed Secrets Manager commands', () => {
  let server: TestServer;
  let workDir: string;
  let run: (command: string) => Promise<string>;
  let runRaw: (command: string) => Promise<ShellResult>;
  let mysqlArn: string;
  let firstVersionId: string;
  let secondVersionId: string;

  before(async () => {
    server = await startTestServer();
    workDir = mkdtempSync(join(tmpdir(), 'coffer-secrets-cli-'));
    const options = { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } };
    run = (command) => shellOk(command, options);
    runRaw = (command) => shell(command, options);
  });
  after(async () => {
    await server?.cleanup();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('create-secret --name "prod/db/mysql" --description … --secret-string \'{…}\'', async () => {
    const output = JSON.parse(
      await run(`aws secretsmanager create-secret \\
  --name "prod/db/mysql" \\
  --description "Production MySQL credentials" \\
  --secret-string '{"username":"admin","password":"P@ssw0rd2024","host":"mydb.cluster-abc.us-east-1.rds.amazonaws.com","port":3306}' --endpoint-url "$COFFER_URL"`),
    ) as { ARN: string; Name: string; VersionId: string };
    assert.deepEqual(Object.keys(output).sort(), ['ARN', 'Name', 'VersionId']);
    assert.match(output.ARN, secretArnPattern('prod/db/mysql'));
    assert.equal(output.Name, 'prod/db/mysql');
    assert.match(output.VersionId, UUID);
    mysqlArn = output.ARN;
    firstVersionId = output.VersionId;
  });

  it("get-secret-value --secret-id \"prod/db/mysql\" --query 'SecretString' --output text prints the JSON", async () => {
    const output = await run(`aws secretsmanager get-secret-value \\
  --secret-id "prod/db/mysql" \\
  --query 'SecretString' --output text --endpoint-url "$COFFER_URL"`);
    assert.equal(output, `${MYSQL_FIRST}\n`);
    assert.deepEqual(JSON.parse(output), {
      username: 'admin',
      password: 'P@ssw0rd2024',
      host: 'mydb.cluster-abc.us-east-1.rds.amazonaws.com',
      port: 3306,
    });
  });

  it('put-secret-value --secret-id "prod/db/mysql" --secret-string \'{…}\' makes a new AWSCURRENT version', async () => {
    const output = JSON.parse(
      await run(`aws secretsmanager put-secret-value \\
  --secret-id "prod/db/mysql" \\
  --secret-string '{"username":"admin","password":"NewP@ss2025"}' --endpoint-url "$COFFER_URL"`),
    ) as { ARN: string; Name: string; VersionId: string; VersionStages: string[] };
    assert.equal(output.ARN, mysqlArn);
    assert.equal(output.Name, 'prod/db/mysql');
    assert.match(output.VersionId, UUID);
    assert.notEqual(output.VersionId, firstVersionId);
    assert.deepEqual(output.VersionStages, ['AWSCURRENT']);
    secondVersionId = output.VersionId;

    const current = await run(`aws secretsmanager get-secret-value --secret-id "prod/db/mysql" --query 'SecretString' --output text --endpoint-url "$COFFER_URL"`);
    assert.equal(current, `${MYSQL_SECOND}\n`);
  });

  it('tag-resource --secret-id "prod/db/mysql" --tags Key=Environment,Value=Production, then describe-secret shows it', async () => {
    const output = await run(`aws secretsmanager tag-resource \\
  --secret-id "prod/db/mysql" \\
  --tags Key=Environment,Value=Production --endpoint-url "$COFFER_URL"`);
    assert.equal(output, '', 'tag-resource prints nothing');

    const described = JSON.parse(await run(`aws secretsmanager describe-secret --secret-id "prod/db/mysql" --endpoint-url "$COFFER_URL"`)) as Description;
    assert.equal(described.ARN, mysqlArn);
    assert.equal(described.Name, 'prod/db/mysql');
    assert.equal(described.Description, 'Production MySQL credentials');
    assert.deepEqual(described.Tags, [{ Key: 'Environment', Value: 'Production' }]);
    assert.deepEqual(described.VersionIdsToStages, { [firstVersionId]: ['AWSPREVIOUS'], [secondVersionId]: ['AWSCURRENT'] });
    assert.equal(described.DeletedDate, undefined);
  });

  it('list-secret-version-ids --secret-id "prod/db/mysql" lists AWSCURRENT and AWSPREVIOUS', async () => {
    const output = JSON.parse(await run(`aws secretsmanager list-secret-version-ids --secret-id "prod/db/mysql" --endpoint-url "$COFFER_URL"`)) as {
      ARN: string;
      Name: string;
      Versions: VersionEntry[];
    };
    assert.equal(output.ARN, mysqlArn);
    assert.equal(output.Name, 'prod/db/mysql');
    const stages = Object.fromEntries(output.Versions.map((version) => [version.VersionId, version.VersionStages]));
    assert.deepEqual(stages, { [firstVersionId]: ['AWSPREVIOUS'], [secondVersionId]: ['AWSCURRENT'] });
    const created = Object.fromEntries(output.Versions.map((version) => [version.VersionId, timestampMs(version.CreatedDate)]));
    assert.ok(created[firstVersionId]! <= created[secondVersionId]!, 'the first version is not older than the second');
  });

  it(
    'list-secret-version-ids reports KmsKeyIds ["DefaultEncryptionKey"] for versions under the default key, as AWS does',
    async () => {
      const output = JSON.parse(await run(`aws secretsmanager list-secret-version-ids --secret-id "prod/db/mysql" --endpoint-url "$COFFER_URL"`)) as {
        Versions: VersionEntry[];
      };
      for (const version of output.Versions) assert.deepEqual(version.KmsKeyIds, ['DefaultEncryptionKey'], version.VersionId);
    },
  );

  it('get-secret-value --secret-id "prod/db/mysql" --version-id <AWSPREVIOUS id> returns the first value', async () => {
    const output = JSON.parse(
      await run(`aws secretsmanager get-secret-value --secret-id "prod/db/mysql" --version-id "${firstVersionId}" --endpoint-url "$COFFER_URL"`),
    ) as SecretValue;
    assert.equal(output.ARN, mysqlArn);
    assert.equal(output.Name, 'prod/db/mysql');
    assert.equal(output.VersionId, firstVersionId);
    assert.equal(output.SecretString, MYSQL_FIRST);
    assert.deepEqual(output.VersionStages, ['AWSPREVIOUS']);
  });

  it('get-secret-value --secret-id <full ARN> --region us-east-1 answers in the shape of seeds/000', async () => {
    const output = JSON.parse(await run(`aws secretsmanager get-secret-value --secret-id ${mysqlArn} --region us-east-1 --endpoint-url "$COFFER_URL"`)) as SecretValue;
    assert.deepEqual(Object.keys(output).sort(), ['ARN', 'CreatedDate', 'Name', 'SecretString', 'VersionId', 'VersionStages']);
    assert.equal(output.ARN, mysqlArn);
    assert.equal(output.Name, 'prod/db/mysql');
    assert.equal(output.VersionId, secondVersionId);
    assert.equal(output.SecretString, MYSQL_SECOND);
    assert.deepEqual(output.VersionStages, ['AWSCURRENT']);
    assert.equal(typeof output.CreatedDate, 'number', 'CreatedDate travels as epoch seconds, as in the seed');
    assert.ok(Math.abs(timestampMs(output.CreatedDate) - Date.now()) < 5 * 60_000, String(output.CreatedDate));
  });

  it('delete-secret --secret-id "prod/db/mysql" --recovery-window-in-days 7 schedules deletion a week out', async () => {
    const before = Date.now();
    const output = JSON.parse(
      await run(`aws secretsmanager delete-secret \\
  --secret-id "prod/db/mysql" \\
  --recovery-window-in-days 7 --endpoint-url "$COFFER_URL"`),
    ) as { ARN: string; Name: string; DeletionDate: number | string };
    const afterMs = Date.now();
    assert.deepEqual(Object.keys(output).sort(), ['ARN', 'DeletionDate', 'Name']);
    assert.equal(output.ARN, mysqlArn);
    assert.equal(output.Name, 'prod/db/mysql');
    const deletionMs = timestampMs(output.DeletionDate);
    assert.ok(
      deletionMs >= before + 7 * DAY_MS - 1000 && deletionMs <= afterMs + 7 * DAY_MS + 1000,
      `DeletionDate ${new Date(deletionMs).toISOString()} is not 7 days after ${new Date(before).toISOString()}`,
    );

    const described = JSON.parse(await run(`aws secretsmanager describe-secret --secret-id "prod/db/mysql" --endpoint-url "$COFFER_URL"`)) as Description;
    const deletedMs = timestampMs(described.DeletedDate);
    assert.ok(deletedMs >= before - 1000 && deletedMs <= afterMs + 1000, `DeletedDate ${String(described.DeletedDate)}`);
  });

  it('get-secret-value on the deleted secret fails with InvalidRequestException', async () => {
    const result = await runRaw(`aws secretsmanager get-secret-value --secret-id "prod/db/mysql" --query 'SecretString' --output text --endpoint-url "$COFFER_URL"`);
    assert.notEqual(result.code, 0);
    assert.equal(result.code, 255, 'the AWS CLI exits 255 on a service error');
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /An error occurred \(InvalidRequestException\) when calling the GetSecretValue operation: /);
    assert.match(result.stderr, /marked for deletion/);
    assert.ok(!result.stderr.includes('NewP@ss2025'), 'the error leaks the value');
  });

  it('restore-secret --secret-id "prod/db/mysql" brings it back', async () => {
    const output = JSON.parse(await run(`aws secretsmanager restore-secret --secret-id "prod/db/mysql" --endpoint-url "$COFFER_URL"`)) as {
      ARN: string;
      Name: string;
    };
    assert.deepEqual(output, { ARN: mysqlArn, Name: 'prod/db/mysql' });
    const value = await run(`aws secretsmanager get-secret-value --secret-id "prod/db/mysql" --query 'SecretString' --output text --endpoint-url "$COFFER_URL"`);
    assert.equal(value, `${MYSQL_SECOND}\n`);
    const described = JSON.parse(await run(`aws secretsmanager describe-secret --secret-id "prod/db/mysql" --endpoint-url "$COFFER_URL"`)) as Description;
    assert.equal(described.DeletedDate, undefined);
    assert.deepEqual(described.Tags, [{ Key: 'Environment', Value: 'Production' }]);
  });

  it('create-secret --name "prod/rds/postgres" --secret-string \'{…}\' (seeds/001, real-world scenario)', async () => {
    const output = JSON.parse(
      await run(`aws secretsmanager create-secret \\
  --name "prod/rds/postgres" \\
  --secret-string '{"username":"dbadmin","password":"InitPass123","engine":"postgres","host":"mydb.cluster-abc.us-east-1.rds.amazonaws.com","port":5432,"dbname":"appdb"}' --endpoint-url "$COFFER_URL"`),
    ) as { ARN: string; Name: string; VersionId: string };
    assert.match(output.ARN, secretArnPattern('prod/rds/postgres'));
    assert.equal(output.Name, 'prod/rds/postgres');
    assert.match(output.VersionId, UUID);

    const value = JSON.parse(await run(`aws secretsmanager get-secret-value --secret-id "prod/rds/postgres" --endpoint-url "$COFFER_URL"`)) as SecretValue;
    assert.equal(value.ARN, output.ARN);
    assert.equal(value.VersionId, output.VersionId);
    assert.equal(value.SecretString, POSTGRES);
    assert.deepEqual(JSON.parse(value.SecretString!), {
      username: 'dbadmin',
      password: 'InitPass123',
      engine: 'postgres',
      host: 'mydb.cluster-abc.us-east-1.rds.amazonaws.com',
      port: 5432,
      dbname: 'appdb',
    });
  });

  it('create-secret "prod/myapp/mysql", tag-resource --tags \'[…JSON…]\', list-secret-version-ids (seeds/003)', async () => {
    const created = JSON.parse(
      await run(`aws secretsmanager create-secret \\
    --name "prod/myapp/mysql" \\
    --description "MySQL credentials for production MyApp" \\
    --secret-string '{"username":"admin","password":"t0p-s3cr3t","host":"mydb.example.com","port":"3306","dbname":"myapp"}' --endpoint-url "$COFFER_URL"`),
    ) as { ARN: string; Name: string; VersionId: string };
    assert.match(created.ARN, secretArnPattern('prod/myapp/mysql'));

    const tagged = await run(`aws secretsmanager tag-resource \\
    --secret-id "prod/myapp/mysql" \\
    --tags '[{"Key": "Environment", "Value": "Production"}, {"Key": "Application", "Value": "MyApp"}]' --endpoint-url "$COFFER_URL"`);
    assert.equal(tagged, '');

    const versions = JSON.parse(await run(`aws secretsmanager list-secret-version-ids --secret-id "prod/myapp/mysql" --endpoint-url "$COFFER_URL"`)) as {
      Versions: VersionEntry[];
    };
    assert.deepEqual(
      versions.Versions.map((version) => [version.VersionId, version.VersionStages]),
      [[created.VersionId, ['AWSCURRENT']]],
    );
    const value = JSON.parse(
      await run(`aws secretsmanager get-secret-value --secret-id "prod/myapp/mysql" --version-id "${created.VersionId}" --endpoint-url "$COFFER_URL"`),
    ) as SecretValue;
    assert.equal(value.SecretString, MYAPP_MYSQL);

    const described = JSON.parse(await run(`aws secretsmanager describe-secret --secret-id "prod/myapp/mysql" --endpoint-url "$COFFER_URL"`)) as Description;
    assert.equal(described.Description, 'MySQL credentials for production MyApp');
    const tags = [...(described.Tags ?? [])].sort((a, b) => a.Key.localeCompare(b.Key));
    assert.deepEqual(tags, [
      { Key: 'Application', Value: 'MyApp' },
      { Key: 'Environment', Value: 'Production' },
    ]);
  });

  it('get-random-password --password-length 20', async () => {
    const output = JSON.parse(await run(`aws secretsmanager get-random-password --password-length 20 --endpoint-url "$COFFER_URL"`)) as {
      RandomPassword: string;
    };
    assert.deepEqual(Object.keys(output), ['RandomPassword']);
    const password = output.RandomPassword;
    assert.equal(password.length, 20, password);
    // Defaults: letters, digits and punctuation, no space, at least one of each included type.
    assert.match(password, /^[\x21-\x7e]{20}$/, 'only printable ASCII without space');
    assert.match(password, /[a-z]/, 'a lowercase letter');
    assert.match(password, /[A-Z]/, 'an uppercase letter');
    assert.match(password, /[0-9]/, 'a digit');
    assert.match(password, /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/, 'a punctuation character');

    const again = JSON.parse(await run(`aws secretsmanager get-random-password --password-length 20 --endpoint-url "$COFFER_URL"`)) as {
      RandomPassword: string;
    };
    assert.notEqual(again.RandomPassword, password, 'two calls gave the same password');
  });
});
