import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cliEnv, runCoffer } from '../../helpers/coffer-cli.js';
import { createUser, refusal } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

type TrailEvent = { EventName: string; Username?: string; Resources?: Array<{ ResourceName: string }>; CloudTrailEvent: string };

/**
 * `coffer audit events` (the built bin/coffer, a child process) against a real server: CloudTrail LookupEvents
 * with the remote commands' credentials, filters applied by the server and by the command, tables and JSON,
 * usage errors (exit 2) and a caller without cloudtrail:LookupEvents (exit 1, the permission named).
 */
describe('coffer audit events', () => {
  let server: TestServer;
  let secrets: SecretsManagerClient;
  let env: Record<string, string>;
  const name = uniqueSecretName('audit-cli');
  const other = uniqueSecretName('audit-cli-other');
  const value = 'audit-cli-Value-9f2e';
  let reader: Awaited<ReturnType<typeof createUser>>;

  before(async () => {
    server = await startTestServer();
    secrets = secretsClient(server);
    env = cliEnv(server);
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    await secrets.send(new CreateSecretCommand({ Name: other, SecretString: value }));
    for (let i = 0; i < 3; i++) await secrets.send(new GetSecretValueCommand({ SecretId: name }));
    await secrets.send(new GetSecretValueCommand({ SecretId: other }));
    // A user allowed nothing: their GetSecretValue is refused and recorded with the error code.
    reader = await createUser(server, server.admin, 'audit-cli-reader');
    const theirs = secretsClient(server, { credentials: reader.keys });
    await refusal(theirs.send(new GetSecretValueCommand({ SecretId: name })));
    theirs.destroy();
  });
  after(async () => {
    secrets.destroy();
    await server.cleanup();
  });

  async function events(args: string[], callerEnv = env): Promise<TrailEvent[]> {
    const outcome = await runCoffer(['audit', 'events', ...args, '--output', 'json'], callerEnv);
    assert.equal(outcome.code, 0, outcome.stderr);
    return (JSON.parse(outcome.stdout) as { Events: TrailEvent[] }).Events;
  }

  it('prints a table, newest first, with the operation, caller, resource and outcome, and never a value', async () => {
    const outcome = await runCoffer(['audit', 'events', '--limit', '200'], env);
    assert.equal(outcome.code, 0, outcome.stderr);
    const lines = outcome.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^TIME\s+OPERATION\s+CALLER\s+RESOURCE\s+OUTCOME$/);
    const refused = lines.find((line) => line.includes('audit-cli-reader'));
    assert.ok(refused, outcome.stdout);
    assert.match(refused, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\s+GetSecretValue\\s+audit-cli-reader\\s+secret:${name}\\s+AccessDeniedException$`));
    // Newest first: the refused read came last, so it is above the administrator's reads of the same secret.
    const read = new RegExp(`\\sGetSecretValue\\s+root\\s+${name}\\s+ok$`);
    assert.equal(lines.filter((line) => read.test(line)).length, 3, outcome.stdout);
    const firstOk = lines.findIndex((line) => read.test(line));
    assert.ok(firstOk > lines.indexOf(refused));
    assert.ok(!outcome.stdout.includes(value), 'no secret value in the trail');
  });

  it('--event-name is applied by the server, --resource by name matches the secret ARN, and they combine', async () => {
    const reads = await events(['--event-name', 'GetSecretValue', '--limit', '100']);
    assert.ok(reads.length >= 5, `${reads.length} reads`);
    assert.ok(reads.every((event) => event.EventName === 'GetSecretValue'));
    const ofName = await events(['--event-name', 'GetSecretValue', '--resource', name]);
    assert.equal(ofName.length, 4, 'three reads by the administrator and one refused');
    assert.ok(ofName.every((event) => event.Resources!.some((resource) => resource.ResourceName.includes(`:secret:${name}`))));
    // A refused call names the secret as the caller did (no suffix): the full ARN finds the three reads.
    const arn = ofName.flatMap((event) => event.Resources!.map((resource) => resource.ResourceName)).find((resource) => /:secret:.*-\w{6}$/.test(resource))!;
    assert.ok(arn);
    assert.equal((await events(['--resource', arn, '--event-name', 'GetSecretValue'])).length, 3, 'an ARN goes to the server as ResourceName');
    assert.equal((await events(['--resource', other])).length, 2, 'CreateSecret and one read of the other secret');
  });

  it('--errors, --user, --writes and --limit narrow the answer', async () => {
    const failed = await events(['--errors']);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.Username, 'audit-cli-reader');
    assert.equal(JSON.parse(failed[0]!.CloudTrailEvent).errorCode, 'AccessDeniedException');
    assert.equal((await events(['--user', 'audit-cli-reader'])).length, 1);
    const writes = await events(['--writes', '--resource', name]);
    assert.deepEqual(writes.map((event) => event.EventName), ['CreateSecret']);
    assert.equal((await events(['--limit', '2'])).length, 2);
  });

  it('--since and --until take ISO times and ages', async () => {
    assert.ok((await events(['--since', '1h', '--resource', name])).length >= 5);
    assert.equal((await events(['--until', '2020-01-01T00:00:00Z'])).length, 0);
    const outcome = await runCoffer(['audit', 'events', '--until', '2020-01-01T00:00Z'], env);
    assert.equal(outcome.code, 0);
    assert.equal(outcome.stdout, 'no events match\n');
  });

  it('a command-line mistake exits 2 before any call', async () => {
    for (const args of [['--since', 'yesterday'], ['--limit', '0'], ['--read-only', '--writes'], ['--since', '1h', '--until', '2h'], ['--output', 'yaml']]) {
      const outcome = await runCoffer(['audit', 'events', ...args], env);
      assert.equal(outcome.code, 2, `${args.join(' ')}: ${outcome.stderr}`);
      assert.match(outcome.stderr, /^coffer audit events: /);
    }
  });

  it('a caller without cloudtrail:LookupEvents is refused (exit 1) and told which permission to ask for', async () => {
    const outcome = await runCoffer(['audit', 'events'], cliEnv(server, reader.keys));
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /AccessDenied/);
    assert.match(outcome.stderr, /cloudtrail:LookupEvents/);
  });

  it('`coffer audit verify` still reads the data dir, next to the remote subcommand', async () => {
    const outcome = await runCoffer(['audit', 'verify', '--data-dir', server.dataDir], env);
    assert.equal(outcome.code === 0 || outcome.code === 1, true, outcome.stderr);
    assert.match(outcome.stdout, /events, chain intact/);
  });
});
