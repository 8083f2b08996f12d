import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { COFFER_BIN } from '../../helpers/child-server.js';
import { cliEnv, runCoffer, type CofferOutcome } from '../../helpers/coffer-cli.js';
import { createUser } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * `coffer secrets …`, `coffer keys …` and `coffer completion` (the built bin/coffer, a child process) against a
 * real server: tables for people, `--output json` shapes, the put/get round trip, delete/restore, a refused
 * call's message and exit code, usage errors (exit 2), the keys lifecycle and the completion scripts.
 */
describe('coffer secrets / keys (CLI for people)', () => {
  let server: TestServer;
  let secrets: SecretsManagerClient;
  let env: Record<string, string>;
  let scratch: string;
  const prefix = uniqueSecretName('people');
  const db = { name: `${prefix}/db`, v1: '', v2: '' };
  const dbValue = { username: 'app', password: 'pe0ple-Pa55', port: 5432 };

  before(async () => {
    server = await startTestServer();
    secrets = secretsClient(server);
    env = cliEnv(server);
    scratch = mkdtempSync(join(tmpdir(), 'coffer-people-'));
    db.v1 = (await secrets.send(new CreateSecretCommand({ Name: db.name, SecretString: 'first', Description: 'the database' }))).VersionId!;
    db.v2 = (await secrets.send(new PutSecretValueCommand({ SecretId: db.name, SecretString: JSON.stringify(dbValue) }))).VersionId!;
  });
  after(async () => {
    secrets.destroy();
    await server.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** `coffer ARGS` that must succeed; its stdout. */
  async function ok(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
    const outcome = await runCoffer(args, { ...env, ...extraEnv });
    assert.equal(outcome.code, 0, `coffer ${args.join(' ')}: ${outcome.stderr}`);
    return outcome.stdout;
  }

  /** `coffer ARGS` with `input` on stdin (runCoffer's stdin is closed). */
  function withStdin(args: string[], input: string): Promise<CofferOutcome> {
    const child = spawn(process.execPath, [COFFER_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.end(input);
    return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  }

  describe('secrets', () => {
    it('list prints an aligned table with a header, and --output json the ListSecrets entries', async () => {
      const table = await ok(['secrets', 'list', '--prefix', prefix]);
      const lines = table.trimEnd().split('\n');
      assert.match(lines[0]!, /^NAME\s+LAST CHANGED\s+ROTATION\s+STATE\s+DESCRIPTION$/);
      assert.equal(lines.length, 2, table);
      assert.match(lines[1]!, new RegExp(`^${db.name}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\s+off\\s+the database$`));
      // Columns line up: LAST CHANGED starts at the same offset on both lines.
      assert.equal(lines[0]!.indexOf('LAST CHANGED'), lines[1]!.search(/\d{4}-/));
      assert.doesNotMatch(table, /\u001b\[/, 'no colours when stdout is not a terminal');
      const json = JSON.parse(await ok(['secrets', 'list', '--prefix', prefix, '--output', 'json'])) as { SecretList: Array<{ Name: string; ARN: string }> };
      assert.deepEqual(
        json.SecretList.map((entry) => entry.Name),
        [db.name],
      );
      assert.match(json.SecretList[0]!.ARN, /^arn:aws:secretsmanager:us-east-1:/);
    });

    it('get prints the value only, a JSON key, a stage or a version; --output json the API answer', async () => {
      assert.equal(await ok(['secrets', 'get', db.name]), JSON.stringify(dbValue) + '\n');
      assert.equal(await ok(['secrets', 'get', db.name, '--json-key', 'password']), `${dbValue.password}\n`);
      assert.equal(await ok(['secrets', 'get', db.name, '--json-key', 'port']), '5432\n');
      assert.equal(await ok(['secrets', 'get', db.name, '--stage', 'AWSPREVIOUS']), 'first\n');
      assert.equal(await ok(['secrets', 'get', db.name, '--version-id', db.v1]), 'first\n');
      const json = JSON.parse(await ok(['secrets', 'get', db.name, '--output', 'json'])) as Record<string, unknown>;
      assert.equal(json.Name, db.name);
      assert.equal(json.VersionId, db.v2);
      assert.equal(json.SecretString, JSON.stringify(dbValue));
      assert.deepEqual(json.VersionStages, ['AWSCURRENT']);
      assert.equal(json.$metadata, undefined);
    });

    it('get --json-key of a missing key fails with exit 2 and never quotes the value', async () => {
      const outcome = await runCoffer(['secrets', 'get', db.name, '--json-key', 'nope'], env);
      assert.equal(outcome.code, 2);
      assert.match(outcome.stderr, /has no key "nope"/);
      assert.doesNotMatch(outcome.stderr, /pe0ple-Pa55/);
      assert.equal(outcome.stdout, '');
    });

    it('put creates a secret, then stores new versions from --value, --from-file and --stdin, never echoing them', async () => {
      const name = `${prefix}/put`;
      const created = await ok(['secrets', 'put', name, '--value', 'v-one-secret', '--description', 'made by put']);
      assert.match(created, new RegExp(`^created ${name} \\(version [0-9a-f-]{36}\\)\\n$`));
      assert.equal(await ok(['secrets', 'get', name]), 'v-one-secret\n');
      const file = join(scratch, 'value.txt');
      writeFileSync(file, 'v-two-secret');
      const stored = await ok(['secrets', 'put', name, '--from-file', file]);
      assert.match(stored, new RegExp(`^stored version [0-9a-f-]{36} of ${name} as AWSCURRENT\\n$`));
      assert.doesNotMatch(stored, /v-two-secret/);
      assert.equal(await ok(['secrets', 'get', name]), 'v-two-secret\n');
      const piped = await withStdin(['secrets', 'put', name, '--stdin'], 'v-three-secret');
      assert.equal(piped.code, 0, piped.stderr);
      assert.doesNotMatch(piped.stdout + piped.stderr, /v-three-secret/);
      const current = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
      assert.equal(current.SecretString, 'v-three-secret');
      assert.equal(await ok(['secrets', 'get', name, '--stage', 'AWSPREVIOUS']), 'v-two-secret\n');
      const json = JSON.parse(await ok(['secrets', 'put', name, '--value', 'v-four', '--output', 'json'])) as Record<string, unknown>;
      assert.deepEqual(Object.keys(json).sort(), ['ARN', 'Name', 'VersionId', 'VersionStages']);
    });

    it('put without exactly one value source is a usage error (exit 2) and changes nothing', async () => {
      const name = `${prefix}/nothing`;
      for (const args of [[], ['--value', 'a', '--stdin']]) {
        const outcome = await runCoffer(['secrets', 'put', name, ...args], env);
        assert.equal(outcome.code, 2, outcome.stderr);
        assert.match(outcome.stderr, /exactly one way: --value V, --from-file FILE or --stdin/);
      }
      const missing = await runCoffer(['secrets', 'get', name], env);
      assert.equal(missing.code, 1);
    });

    it('describe shows labelled details and version stages; --output json is DescribeSecret', async () => {
      const text = await ok(['secrets', 'describe', db.name]);
      assert.match(text, new RegExp(`^Name:\\s+${db.name}$`, 'm'));
      assert.match(text, /^ARN:\s+arn:aws:secretsmanager:us-east-1:\d{12}:secret:/m);
      assert.match(text, /^Description:\s+the database$/m);
      assert.match(text, /^Rotation:\s+off$/m);
      assert.match(text, new RegExp(`${db.v2} \\(AWSCURRENT\\)`));
      assert.doesNotMatch(text, /pe0ple-Pa55/);
      const json = JSON.parse(await ok(['secrets', 'describe', db.name, '--output', 'json'])) as { VersionIdsToStages: Record<string, string[]> };
      assert.deepEqual(json.VersionIdsToStages[db.v2], ['AWSCURRENT']);
      assert.deepEqual(json.VersionIdsToStages[db.v1], ['AWSPREVIOUS']);
    });

    it('versions lists each version with its stages', async () => {
      const lines = (await ok(['secrets', 'versions', db.name])).trimEnd().split('\n');
      assert.match(lines[0]!, /^VERSION ID\s+STAGES\s+CREATED\s+LAST ACCESSED$/);
      assert.ok(lines.some((line) => line.startsWith(db.v2) && /\sAWSCURRENT\s/.test(line)), lines.join('\n'));
      assert.ok(lines.some((line) => line.startsWith(db.v1) && /\sAWSPREVIOUS\s/.test(line)), lines.join('\n'));
      const json = JSON.parse(await ok(['secrets', 'versions', db.name, '--output', 'json'])) as { Name: string; Versions: Array<{ VersionId: string }> };
      assert.equal(json.Name, db.name);
      assert.deepEqual(json.Versions.map((version) => version.VersionId).sort(), [db.v1, db.v2].sort());
    });

    it('delete schedules a deletion that list --all shows and restore cancels; --force deletes now', async () => {
      const name = `${prefix}/doomed`;
      await ok(['secrets', 'put', name, '--value', 'x']);
      const scheduled = await ok(['secrets', 'delete', name, '--recovery-days', '7']);
      assert.match(scheduled, new RegExp(`^${name} will be deleted on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC; until then \`coffer secrets restore ${name}\``));
      assert.doesNotMatch(await ok(['secrets', 'list', '--prefix', name]), new RegExp(name));
      assert.match(await ok(['secrets', 'list', '--prefix', name, '--all']), new RegExp(`${name}\\s+.*deleted \\d{4}`));
      const refused = await runCoffer(['secrets', 'get', name], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^coffer secrets get: InvalidRequestException: /);
      assert.equal(await ok(['secrets', 'restore', name]), `restored ${name}\n`);
      assert.equal(await ok(['secrets', 'get', name]), 'x\n');
      const json = JSON.parse(await ok(['secrets', 'delete', name, '--force', '--output', 'json'])) as Record<string, unknown>;
      assert.equal(json.Name, name);
      assert.equal(typeof json.DeletionDate, 'string');
      const gone = await runCoffer(['secrets', 'describe', name], env);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /ResourceNotFoundException/);
      assert.match(gone.stderr, /Next: `coffer secrets list` shows the names that exist/);
    });

    it('delete with both --recovery-days and --force is a usage error', async () => {
      const outcome = await runCoffer(['secrets', 'delete', db.name, '--recovery-days', '7', '--force'], env);
      assert.equal(outcome.code, 2);
      assert.match(outcome.stderr, /do not go together/);
      assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: db.name }))).VersionId, db.v2);
    });

    it('a refused call says which permission to ask for and exits 1', async () => {
      const reader = await createUser(server, server.admin, `people-reader-${Date.now()}`, {
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] },
      });
      const outcome = await runCoffer(['secrets', 'get', db.name], cliEnv(server, reader.keys));
      assert.equal(outcome.code, 1);
      assert.equal(outcome.stdout, '');
      assert.match(outcome.stderr, /^coffer secrets get: AccessDeniedException: /);
      assert.match(outcome.stderr, /Next: ask an administrator for secretsmanager:GetSecretValue on this resource/);
    });

    it('an unknown option or --output value is a usage error (exit 2)', async () => {
      const unknown = await runCoffer(['secrets', 'list', '--bogus'], env);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown option '--bogus'/);
      const output = await runCoffer(['secrets', 'list', '--output', 'yaml'], env);
      assert.equal(output.code, 2);
      assert.match(output.stderr, /--output yaml: expected "table" or "json"/);
      const missing = await runCoffer(['secrets', 'get'], env);
      assert.equal(missing.code, 2);
    });

    it('an unreachable server says what to check and exits 1', async () => {
      const outcome = await runCoffer(['secrets', 'list'], { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
      assert.equal(outcome.code, 1);
      assert.match(outcome.stderr, /cannot reach the endpoint/);
    });
  });

  describe('keys', () => {
    it('runs a key through its lifecycle: create, list, describe, disable, enable, rotate, schedule and cancel deletion', async () => {
      const created = JSON.parse(await ok(['keys', 'create', '--description', 'people key', '--output', 'json'])) as { KeyMetadata: { KeyId: string; KeyState: string } };
      const keyId = created.KeyMetadata.KeyId;
      assert.equal(created.KeyMetadata.KeyState, 'Enabled');
      const hmac = await ok(['keys', 'create', '--spec', 'HMAC_256', '--usage', 'GENERATE_VERIFY_MAC']);
      assert.match(hmac, /^created key [0-9a-f-]{36}\narn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}\n$/);

      const table = (await ok(['keys', 'list'])).trimEnd().split('\n');
      assert.match(table[0]!, /^KEY ID\s+STATE\s+SPEC\s+USAGE\s+MANAGER\s+CREATED\s+DESCRIPTION$/);
      const row = table.find((line) => line.startsWith(keyId));
      assert.ok(row, table.join('\n'));
      assert.match(row, /\sEnabled\s+SYMMETRIC_DEFAULT\s+ENCRYPT_DECRYPT\s+CUSTOMER\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+people key$/);
      const listed = JSON.parse(await ok(['keys', 'list', '--output', 'json'])) as { Keys: Array<{ KeyId: string; KeyState: string }> };
      assert.equal(listed.Keys.find((key) => key.KeyId === keyId)?.KeyState, 'Enabled');

      assert.match(await ok(['keys', 'describe', keyId]), /^State:\s+Enabled$/m);
      assert.equal(await ok(['keys', 'disable', keyId]), `disabled ${keyId}\n`);
      assert.match(await ok(['keys', 'describe', keyId]), /^State:\s+Disabled$/m);
      assert.equal(await ok(['keys', 'enable', keyId]), `enabled ${keyId}\n`);
      const rotated = JSON.parse(await ok(['keys', 'rotate', keyId, '--output', 'json'])) as { KeyId: string };
      assert.ok(rotated.KeyId.endsWith(keyId), rotated.KeyId); // the key id or its ARN

      const scheduled = await ok(['keys', 'schedule-deletion', keyId, '--days', '7']);
      assert.match(scheduled, new RegExp(`^(arn:\\S+/)?${keyId} will be deleted on \\d{4}-`));
      const describedJson = JSON.parse(await ok(['keys', 'describe', keyId, '--output', 'json'])) as { KeyMetadata: { KeyState: string } };
      assert.equal(describedJson.KeyMetadata.KeyState, 'PendingDeletion');
      assert.match(await ok(['keys', 'cancel-deletion', keyId]), /the key is disabled/);
      assert.match(await ok(['keys', 'describe', keyId]), /^State:\s+Disabled$/m);
    });

    it('an unknown key says to run `coffer keys list` and exits 1', async () => {
      const outcome = await runCoffer(['keys', 'describe', '11111111-2222-3333-4444-555555555555'], env);
      assert.equal(outcome.code, 1);
      assert.match(outcome.stderr, /^coffer keys describe: NotFoundException: /);
      assert.match(outcome.stderr, /`coffer keys list`/);
    });

    it('schedule-deletion --days must be a number (exit 2)', async () => {
      const outcome = await runCoffer(['keys', 'schedule-deletion', 'whatever', '--days', 'soon'], env);
      assert.equal(outcome.code, 2);
      assert.match(outcome.stderr, /--days soon: expected a whole number/);
    });
  });

  describe('completion', () => {
    const secretsCommands = ['list', 'get', 'put', 'describe', 'versions', 'rotate', 'delete', 'restore', 'export', 'import'];
    const keysCommands = ['list', 'create', 'describe', 'enable', 'disable', 'rotate', 'schedule-deletion', 'cancel-deletion'];
    for (const shell of ['bash', 'zsh']) {
      it(`${shell} script names every command and secrets/keys subcommand`, async () => {
        const script = await ok(['completion', shell]);
        const arm = (path: string) => new RegExp(`"${path}"\\) \\w+=[("]([^)"]*)`).exec(script)?.[1]?.split(' ') ?? [];
        for (const top of ['server', 'run', 'render', 'secrets', 'keys', 'audit', 'accounts', 'agent', 'completion']) assert.ok(arm('').includes(top), `${top} in ${shell}`);
        assert.deepEqual(arm('secrets').sort(), [...secretsCommands].sort());
        assert.deepEqual(arm('keys').sort(), [...keysCommands].sort());
        assert.ok(arm('secrets put').includes('--stdin'));
        assert.ok(arm('keys schedule-deletion').includes('--days'));
      });
    }

    it('the bash script offers the secrets subcommands to bash itself', async () => {
      const script = await ok(['completion', 'bash']);
      const file = join(scratch, 'completion.bash');
      writeFileSync(file, script);
      const probe = `source ${file}; COMP_WORDS=(coffer secrets ge); COMP_CWORD=2; _coffer; echo "\${COMPREPLY[@]}"`;
      const outcome = await new Promise<string>((resolve, reject) => {
        const child = spawn('bash', ['-c', probe], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        child.on('error', reject);
        child.on('close', () => resolve(out));
      });
      assert.equal(outcome.trim(), 'get');
    });

    it('an unknown shell is a usage error', async () => {
      const outcome = await runCoffer(['completion', 'fish'], env);
      assert.equal(outcome.code, 2);
    });
  });
});
