import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { COFFER_BIN } from '../../helpers/child-server.js';
import { cliEnv, runCoffer, type CofferOutcome } from '../../helpers/coffer-cli.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { ssmClient, uniquePath } from '../../helpers/ssm.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * `coffer render` (the built bin/coffer, a child process) against a real server: every form of
 * CloudFormation's `{{resolve:secretsmanager:...}}`, the output file's mode, and nothing written when a
 * reference cannot be resolved.
 */
describe('coffer render', () => {
  let server: TestServer;
  let secrets: SecretsManagerClient;
  let scratch: string;
  const db = { name: uniqueSecretName('render/db'), arn: '', v1: '' };
  const firstValue = { username: 'app', password: 'render-first' };
  const secondValue = { username: 'app', password: 'render-second' };

  before(async () => {
    server = await startTestServer();
    secrets = secretsClient(server);
    scratch = mkdtempSync(join(tmpdir(), 'coffer-render-'));
    const created = await secrets.send(new CreateSecretCommand({ Name: db.name, SecretString: JSON.stringify(firstValue) }));
    db.arn = created.ARN!;
    db.v1 = created.VersionId!;
    await secrets.send(new PutSecretValueCommand({ SecretId: db.name, SecretString: JSON.stringify(secondValue) }));
  });
  after(async () => {
    secrets.destroy();
    await server.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  function template(name: string, text: string): string {
    const file = join(scratch, name);
    writeFileSync(file, text);
    return file;
  }

  it('resolves every reference form AWS documents', async () => {
    const partialArn = db.arn.replace(/-[A-Za-z0-9]{6}$/, '');
    const forms: Array<[string, string]> = [
      [`{{resolve:secretsmanager:${db.name}}}`, JSON.stringify(secondValue)],
      [`{{resolve:secretsmanager:${db.name}:SecretString}}`, JSON.stringify(secondValue)],
      [`{{resolve:secretsmanager:${db.name}:SecretString:password}}`, secondValue.password],
      [`{{resolve:secretsmanager:${db.name}::password}}`, secondValue.password],
      [`{{resolve:secretsmanager:${db.name}:SecretString:password:AWSPREVIOUS}}`, firstValue.password],
      [`{{resolve:secretsmanager:${db.name}:SecretString:password:AWSCURRENT:}}`, secondValue.password],
      [`{{resolve:secretsmanager:${db.name}:SecretString:password::${db.v1}}}`, firstValue.password],
      [`{{resolve:secretsmanager:${db.name}:SecretString::AWSPREVIOUS}}`, JSON.stringify(firstValue)],
      [`{{resolve:secretsmanager:${db.name}:SecretString:::${db.v1}}}`, JSON.stringify(firstValue)],
      [`{{resolve:secretsmanager:${db.arn}}}`, JSON.stringify(secondValue)],
      [`{{resolve:secretsmanager:${db.arn}:SecretString:password}}`, secondValue.password],
      [`{{resolve:secretsmanager:${db.arn}:SecretString:password:AWSPREVIOUS}}`, firstValue.password],
      [`{{resolve:secretsmanager:${db.arn}:SecretString:username::${db.v1}}}`, firstValue.username],
      [`{{resolve:secretsmanager:${partialArn}:SecretString:password}}`, secondValue.password],
    ];
    const text = forms.map(([reference], index) => `line ${index}: ${reference}`).join('\n') + '\nno reference here: {{not:one}}\n';
    const outcome = await runCoffer(['render', template('forms.tmpl', text)], cliEnv(server));
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, forms.map(([, value], index) => `line ${index}: ${value}`).join('\n') + '\nno reference here: {{not:one}}\n');
  });

  it('writes -o FILE with mode 0600 whatever the umask, replacing an existing file whole', async () => {
    const input = template('config.tmpl', `password = {{resolve:secretsmanager:${db.name}:SecretString:password}}\n`);
    const output = join(scratch, 'config.ini');
    const fresh = await renderWithUmask(['render', input, '-o', output], '000');
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(fresh.stdout, '');
    assert.equal(statSync(output).mode & 0o777, 0o600);
    assert.equal(readFileSync(output, 'utf8'), `password = ${secondValue.password}\n`);

    writeFileSync(output, 'an older and much longer file that was world-readable\n', { mode: 0o644 });
    const replaced = await renderWithUmask(['render', input, '--output', output], '000');
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(statSync(output).mode & 0o777, 0o600);
    assert.equal(readFileSync(output, 'utf8'), `password = ${secondValue.password}\n`);
    assert.deepEqual(readdirSync(scratch).filter((name) => name.endsWith('.tmp')), [], 'no temporary file left');
  });

  it('refuses a template with an unresolved reference, naming it, writing nothing', async () => {
    const missing = `{{resolve:secretsmanager:render/no-such-secret:SecretString:password}}`;
    const noKey = `{{resolve:secretsmanager:${db.name}:SecretString:passwd}}`;
    const input = template('broken.tmpl', `ok = {{resolve:secretsmanager:${db.name}:SecretString:password}}\nbad = ${missing}\nworse = ${noKey}\n`);
    const output = join(scratch, 'broken.out');
    const outcome = await runCoffer(['render', input, '-o', output], cliEnv(server));
    assert.equal(outcome.code, 1);
    assert.ok(outcome.stderr.includes(`${missing}: ResourceNotFoundException`), outcome.stderr);
    assert.ok(outcome.stderr.includes(`${noKey}: the secret has no JSON key "passwd"`), outcome.stderr);
    assert.ok(!outcome.stderr.includes(secondValue.password), 'no value in the message');
    assert.equal(existsSync(output), false);

    writeFileSync(output, 'previous content\n');
    const again = await runCoffer(['render', input, '-o', output], cliEnv(server));
    assert.equal(again.code, 1);
    assert.equal(readFileSync(output, 'utf8'), 'previous content\n', 'an existing file is left as it was');

    const toStdout = await runCoffer(['render', input], cliEnv(server));
    assert.equal(toStdout.code, 1);
    assert.equal(toStdout.stdout, '', 'nothing on stdout either');
  });

  it('resolves {{resolve:ssm:…}} and {{resolve:ssm-secure:…}}, with a version', async () => {
    const ssm = ssmClient(server);
    const root = uniquePath('render');
    await ssm.send(new PutParameterCommand({ Name: `${root}/host`, Value: 'db.internal', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/host`, Value: 'db2.internal', Type: 'String', Overwrite: true }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/password`, Value: 'ssm-secure-value', Type: 'SecureString' }));
    ssm.destroy();
    const text = `host={{resolve:ssm:${root}/host}} old={{resolve:ssm:${root}/host:1}} password={{resolve:ssm-secure:${root}/password:1}}\n`;
    const rendered = await runCoffer(['render', template('ssm-ok.tmpl', text)], cliEnv(server));
    assert.equal(rendered.code, 0, rendered.stderr);
    assert.equal(rendered.stdout, 'host=db2.internal old=db.internal password=ssm-secure-value\n');
    const plainOfSecure = await runCoffer(['render', template('ssm-plain.tmpl', `{{resolve:ssm:${root}/password}}\n`)], cliEnv(server));
    assert.equal(plainOfSecure.code, 1);
    assert.match(plainOfSecure.stderr, /is a SecureString; use \{\{resolve:ssm-secure/);
    assert.doesNotMatch(plainOfSecure.stderr, /ssm-secure-value/);
    const missing = await runCoffer(['render', template('ssm-missing.tmpl', `{{resolve:ssm:${root}/none}}\n`)], cliEnv(server));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ParameterNotFound/);
  });

  it('refuses malformed references', async () => {
    const cases: Array<[string, string]> = [
      ['{{resolve:ssm:}}', 'the parameter name is empty'],
      ['{{resolve:ssm:/app/db/host:3:4}}', 'too many fields'],
      [`{{resolve:secretsmanager:${db.name}:SecretBinary:password}}`, 'must be SecretString'],
      [`{{resolve:secretsmanager:${db.name}:SecretString:password:AWSCURRENT:${db.v1}}}`, 'not both'],
      ['{{resolve:s3:bucket}}', 'unknown service "s3"'],
    ];
    for (const [reference, message] of cases) {
      const outcome = await runCoffer(['render', template('ssm.tmpl', `value: ${reference}\n`)], cliEnv(server));
      assert.equal(outcome.code, 1, reference);
      assert.ok(outcome.stderr.includes(`${reference}: ${message}`) || outcome.stderr.includes(message), `${reference}: ${outcome.stderr}`);
      assert.ok(outcome.stderr.includes(reference), `names ${reference}: ${outcome.stderr}`);
      assert.equal(outcome.stdout, '');
    }
  });

  /** `coffer render` under `umask`, through sh: the umask must not be what makes the file private. */
  function renderWithUmask(args: string[], umask: string): Promise<CofferOutcome> {
    return new Promise((resolve) => {
      const quoted = [process.execPath, COFFER_BIN, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
      const child = spawn('sh', ['-c', `umask ${umask} && exec ${quoted}`], { env: cliEnv(server), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }
});
