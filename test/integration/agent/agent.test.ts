import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { killChildAgents, runAgentUntilExit, startChildAgent, type ChildAgent } from '../../helpers/child-agent.js';
import { startCountingProxy, type CountingProxy } from '../../helpers/counting-proxy.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const TOKEN = 'agent-test-token-3f9c';
const TOKEN_HEADER = { 'X-Aws-Parameters-Secrets-Token': TOKEN };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The built `bin/coffer agent` as a child process in front of a real Coffer server (through a proxy that counts
 * the GetSecretValue calls reaching the server), asked with plain HTTP requests, as an application would.
 */
describe('coffer agent (AWS Secrets Manager Agent compatible)', () => {
  let server: TestServer;
  let proxy: CountingProxy;
  let configDir: string;
  const agents: ChildAgent[] = [];

  /** The environment an application host gives the agent: credentials, region, endpoint (the proxy), token. */
  const agentEnv = (extra: Record<string, string> = {}) => ({
    AWS_ACCESS_KEY_ID: server.admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.admin.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.url,
    AWS_TOKEN: TOKEN,
    ...extra,
  });
  const configFile = (name: string, text: string) => {
    const file = join(configDir, name);
    writeFileSync(file, text);
    return file;
  };
  const startAgent = async (args: string[] = [], env: Record<string, string> = {}) => {
    const agent = await startChildAgent(['--port', '0', ...args], agentEnv(env));
    agents.push(agent);
    return agent;
  };
  const createSecret = async (label: string, value: string) => {
    const name = uniqueSecretName(label);
    await secretsClient(server).send(new CreateSecretCommand({ Name: name, SecretString: value }));
    return name;
  };
  const readDirect = (input: { SecretId: string; VersionStage?: string; VersionId?: string }) => secretsClient(server).send(new GetSecretValueCommand(input));
  /** What the Agent answers for this GetSecretValue output (CreatedDate as a string of epoch seconds). */
  const agentForm = (output: GetSecretValueCommandOutput) => ({
    ARN: output.ARN,
    Name: output.Name,
    VersionId: output.VersionId,
    ...(output.SecretString === undefined ? {} : { SecretString: output.SecretString }),
    ...(output.SecretBinary === undefined ? {} : { SecretBinary: Buffer.from(output.SecretBinary).toString('base64') }),
    VersionStages: output.VersionStages,
    CreatedDate: String(output.CreatedDate!.getTime() / 1000),
  });

  before(async () => {
    server = await startTestServer();
    proxy = await startCountingProxy(server.url);
    configDir = mkdtempSync(join(tmpdir(), 'coffer-agent-test-'));
  });
  after(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await killChildAgents();
    await proxy.close();
    await server.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  describe('one agent with the default configuration', () => {
    let agent: ChildAgent;
    before(async () => {
      agent = await startAgent();
    });

    it('listens on 127.0.0.1 and prints its URL as the Agent does', () => {
      assert.match(agent.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(agent.stdout(), /^Agent\/\d+\.\d+\.\d+ listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    });

    it('refuses a request without the token, or with a wrong one: 403 "Bad Token", and asks the server nothing', async () => {
      const name = await createSecret('agent-token', 'value');
      const before = proxy.getSecretValueCount(name);
      assert.deepEqual(await agent.get(`/secretsmanager/get?secretId=${name}`), { status: 403, body: 'Bad Token' });
      assert.deepEqual(await agent.get(`/secretsmanager/get?secretId=${name}`, { 'X-Aws-Parameters-Secrets-Token': 'wrong' }), {
        status: 403,
        body: 'Bad Token',
      });
      assert.deepEqual(await agent.get(`/secretsmanager/get?secretId=${name}`, { 'X-Aws-Parameters-Secrets-Token': TOKEN + 'x' }), {
        status: 403,
        body: 'Bad Token',
      });
      assert.equal(proxy.getSecretValueCount(name), before);
      // The Agent's second default header works as well.
      assert.equal((await agent.get(`/secretsmanager/get?secretId=${name}`, { 'X-Vault-Token': TOKEN })).status, 200);
    });

    it('refuses a request with X-Forwarded-For even with the right token: 400 "Forwarded"', async () => {
      const name = await createSecret('agent-forwarded', 'value');
      const answer = await agent.get(`/secretsmanager/get?secretId=${name}`, { ...TOKEN_HEADER, 'X-Forwarded-For': '203.0.113.9' });
      assert.deepEqual(answer, { status: 400, body: 'Forwarded' });
      assert.equal(proxy.getSecretValueCount(name), 0);
    });

    it('answers /ping without a token, refuses other methods (405) and paths (404)', async () => {
      assert.deepEqual(await agent.get('/ping'), { status: 200, body: 'healthy' });
      assert.deepEqual(await agent.get('/secretsmanager/get?secretId=x', TOKEN_HEADER, 'POST'), { status: 405, body: 'Not allowed' });
      assert.deepEqual(await agent.get('/elsewhere', TOKEN_HEADER), { status: 404, body: 'Not found' });
      assert.deepEqual(await agent.get('/secretsmanager/get?secretId=x&colour=blue', TOKEN_HEADER), { status: 400, body: 'unknown parameter: colour' });
      assert.deepEqual(await agent.get('/secretsmanager/get?versionStage=AWSCURRENT', TOKEN_HEADER), { status: 400, body: 'missing parameter secretId' });
    });

    it("answers GetSecretValue's JSON for AWSCURRENT, a version stage and a version id, query or path style", async () => {
      const name = await createSecret('agent-shape', '{"password":"first"}');
      await secretsClient(server).send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"password":"second"}' }));
      const current = await readDirect({ SecretId: name });
      const previous = await readDirect({ SecretId: name, VersionStage: 'AWSPREVIOUS' });

      const byDefault = await agent.get(`/secretsmanager/get?secretId=${encodeURIComponent(name)}`, TOKEN_HEADER);
      assert.equal(byDefault.status, 200);
      assert.deepEqual(JSON.parse(byDefault.body), agentForm(current));
      assert.match(byDefault.body, /^\{"ARN":"arn:aws:secretsmanager:us-east-1:\d{12}:secret:[^"]+","Name":/);

      const byStage = await agent.get(`/secretsmanager/get?secretId=${name}&versionStage=AWSPREVIOUS`, TOKEN_HEADER);
      assert.deepEqual(JSON.parse(byStage.body), agentForm(previous));
      assert.equal(JSON.parse(byStage.body).SecretString, '{"password":"first"}');

      const byVersionId = await agent.get(`/secretsmanager/get?secretId=${current.ARN}&versionId=${previous.VersionId}`, TOKEN_HEADER);
      assert.deepEqual(JSON.parse(byVersionId.body), agentForm(previous));

      const pathStyle = await agent.get(`/v1/${name}?versionStage=AWSCURRENT`, TOKEN_HEADER);
      assert.deepEqual(JSON.parse(pathStyle.body), agentForm(current));
    });

    it('answers a binary secret with SecretBinary in base64', async () => {
      const name = uniqueSecretName('agent-binary');
      await secretsClient(server).send(new CreateSecretCommand({ Name: name, SecretBinary: Buffer.from([0, 1, 2, 250, 255]) }));
      const answer = await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER);
      assert.equal(answer.status, 200);
      const body = JSON.parse(answer.body);
      assert.equal(body.SecretBinary, Buffer.from([0, 1, 2, 250, 255]).toString('base64'));
      assert.equal(body.SecretString, undefined);
      assert.deepEqual(body, agentForm(await readDirect({ SecretId: name })));
    });

    it("maps Secrets Manager's errors as the Agent does: the server's status, {\"__type\", \"message\"}", async () => {
      const missing = await agent.get('/secretsmanager/get?secretId=no-such-secret-here', TOKEN_HEADER);
      assert.equal(missing.status, 400);
      assert.deepEqual(JSON.parse(missing.body), { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      const name = await createSecret('agent-badstage', 'v');
      const badStage = await agent.get(`/secretsmanager/get?secretId=${name}&versionStage=NOSUCHSTAGE`, TOKEN_HEADER);
      assert.equal(badStage.status, 400);
      assert.equal(JSON.parse(badStage.body).__type, 'ResourceNotFoundException');
    });

    it('caches: many reads, sequential and concurrent, make one GetSecretValue call at the server', async () => {
      const name = await createSecret('agent-cache', '{"password":"cached"}');
      const concurrent = await Promise.all(Array.from({ length: 50 }, () => agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER)));
      for (let read = 0; read < 20; read += 1) concurrent.push(await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER));
      assert.ok(concurrent.every((answer) => answer.status === 200 && JSON.parse(answer.body).SecretString === '{"password":"cached"}'));
      assert.equal(proxy.getSecretValueCount(name), 1);
    });

    it('refreshNow=true reads from the server whatever the cache holds', async () => {
      const name = await createSecret('agent-refreshnow', 'one');
      await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER);
      await secretsClient(server).send(new PutSecretValueCommand({ SecretId: name, SecretString: 'two' }));
      assert.equal(JSON.parse((await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER)).body).SecretString, 'one');
      assert.equal(JSON.parse((await agent.get(`/secretsmanager/get?secretId=${name}&refreshNow=true`, TOKEN_HEADER)).body).SecretString, 'two');
      assert.equal(JSON.parse((await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER)).body).SecretString, 'two');
      assert.equal(proxy.getSecretValueCount(name), 2);
      assert.deepEqual(await agent.get(`/secretsmanager/get?secretId=${name}&refreshNow=maybe`, TOKEN_HEADER), { status: 400, body: 'invalid refreshNow value' });
    });

    it('never logs a secret value', () => {
      assert.doesNotMatch(agent.stderr() + agent.stdout(), /cached|"first"|"second"|password/);
    });
  });

  it('refreshes an entry once its TTL (ttl_seconds from the TOML file) has passed', async () => {
    const agent = await startAgent(['--config', configFile('ttl.toml', 'ttl_seconds = 1\n')]);
    const name = await createSecret('agent-ttl', 'before');
    assert.equal(JSON.parse((await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER)).body).SecretString, 'before');
    await secretsClient(server).send(new PutSecretValueCommand({ SecretId: name, SecretString: 'after' }));
    assert.equal(JSON.parse((await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER)).body).SecretString, 'before');
    assert.equal(proxy.getSecretValueCount(name), 1);
    await sleep(1200);
    assert.equal(JSON.parse((await agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER)).body).SecretString, 'after');
    assert.equal(proxy.getSecretValueCount(name), 2);
  });

  it('keeps serving while the server is down and across its restart, up to the staleness bound, logged once', async () => {
    const agent = await startAgent(['--config', configFile('stale.toml', 'ttl_seconds = 1\nmax_stale_seconds = 3\nlog_level = "INFO"\n')]);
    const name = await createSecret('agent-stale', 'still-here');
    const read = () => agent.get(`/secretsmanager/get?secretId=${name}`, TOKEN_HEADER);
    const fetchedAt = Date.now();
    assert.equal(JSON.parse((await read()).body).SecretString, 'still-here');

    const dataDir = server.dataDir;
    await server.stop();
    try {
      await sleep(1300);
      // Past the TTL with the server gone: the last good value, twice, and one warning.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const stale = await read();
        assert.equal(stale.status, 200);
        assert.equal(JSON.parse(stale.body).SecretString, 'still-here');
      }
      assert.equal(agent.stderr().match(/Secrets Manager is unreachable: serving the last value read/g)?.length, 1);
      assert.doesNotMatch(agent.stderr(), /still-here/);

      // Past TTL + staleness bound: the Agent's answer for a server it cannot reach.
      await sleep(Math.max(0, fetchedAt + 1000 + 3000 + 500 - Date.now()));
      const tooOld = await read();
      assert.equal(tooOld.status, 502);
      assert.deepEqual(JSON.parse(tooOld.body), { __type: 'ConnectionError', message: 'Read Error' });
    } finally {
      // The same data (and administrator key) on a new port, behind the same proxy URL the agent knows.
      const admin = server.admin;
      server = await startTestServer({ dataDir });
      // A restart prints no new administrator key: the first start's is still the one in the store.
      server.admin = admin;
      proxy.setTarget(server.url);
    }
    const back = await read();
    assert.equal(back.status, 200);
    assert.equal(JSON.parse(back.body).SecretString, 'still-here');
    assert.match(agent.stderr(), /Secrets Manager answers again/);
  });

  describe('token sources, as the Agent reads them', () => {
    it('AWS_TOKEN=file://PATH: the token is the file content, trimmed', async () => {
      const tokenFile = configFile('token', 'from-a-file\n');
      const agent = await startAgent([], { AWS_TOKEN: `file://${tokenFile}` });
      assert.equal((await agent.get('/secretsmanager/get?secretId=x', { 'X-Aws-Parameters-Secrets-Token': 'from-a-file' })).status, 400);
      assert.equal((await agent.get('/secretsmanager/get?secretId=x', { 'X-Aws-Parameters-Secrets-Token': `file://${tokenFile}` })).status, 403);
    });

    it('ssrf_env_variables and ssrf_headers from the file replace the defaults', async () => {
      const file = configFile('custom-token.toml', 'ssrf_env_variables = ["MY_AGENT_TOKEN"]\nssrf_headers = ["X-My-Token"]\n');
      const agent = await startAgent(['--config', file], { MY_AGENT_TOKEN: 'mine' });
      assert.equal((await agent.get('/ping')).status, 200);
      assert.equal((await agent.get('/secretsmanager/get?secretId=no-such', { 'X-My-Token': 'mine' })).status, 400);
      // AWS_TOKEN is no longer a source, nor the default header a place to look.
      assert.equal((await agent.get('/secretsmanager/get?secretId=no-such', { 'X-My-Token': TOKEN })).status, 403);
      assert.equal((await agent.get('/secretsmanager/get?secretId=no-such', { 'X-Aws-Parameters-Secrets-Token': 'mine' })).status, 403);
    });

    it('refuses to start without a token, naming the variables it looked at', async () => {
      const env = agentEnv();
      delete (env as Record<string, string>).AWS_TOKEN;
      const exit = await runAgentUntilExit(['--port', '0'], env);
      assert.equal(exit.code, 1);
      assert.match(exit.stderr, /no token: set one of AWS_TOKEN, AWS_SESSION_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN/);
    });
  });

  describe('loopback only', () => {
    it('refuses a non-loopback bind address from the command line or the file', async () => {
      const fromFlag = await runAgentUntilExit(['--port', '0', '--address', '0.0.0.0'], agentEnv());
      assert.equal(fromFlag.code, 1);
      assert.match(fromFlag.stderr, /must be a loopback address .* not 0\.0\.0\.0/);
      const fromFile = await runAgentUntilExit(['--port', '0', '--config', configFile('address.toml', 'http_address = "192.0.2.10"\n')], agentEnv());
      assert.equal(fromFile.code, 1);
      assert.match(fromFile.stderr, /not 192\.0\.2\.10/);
    });

    it('cannot be reached on the host\'s other addresses', async (t) => {
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal);
      if (!outside) return t.skip('this machine has no non-loopback IPv4 address');
      const agent = await startAgent();
      const port = new URL(agent.url).port;
      await assert.rejects(fetch(`http://${outside.address}:${port}/ping`));
      assert.equal((await agent.get('/ping')).status, 200);
    });

    it('refuses an unknown configuration key and an out-of-range value, as the Agent does', async () => {
      const unknown = await runAgentUntilExit(['--port', '0', '--config', configFile('unknown.toml', 'ttl_secondz = 5\n')], agentEnv());
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /unknown configuration key ttl_secondz/);
      const range = await runAgentUntilExit(['--port', '0', '--config', configFile('range.toml', "cache_size = '1001'\n")], agentEnv());
      assert.equal(range.code, 1);
      assert.match(range.stderr, /cache_size must be a whole number from 1 to 1000/);
    });
  });
});
