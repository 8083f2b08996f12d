import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { killChildServers, runCofferUntilExit, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { parseMetrics, sampleValue, scrape, scrapeParsed } from '../../helpers/metrics.js';
import { startTestServer } from '../../helpers/start-server.js';
import { isLoopbackHost, metricsAccess } from '../../../src/server/metrics-endpoint.js';

const TOKEN = 'metrics-test-token-4b1d';

describe('who may read /metrics', () => {
  it('loopback hosts are 127.0.0.0/8, ::1 and localhost; wildcards and other addresses are not', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '', '10.0.0.1', '192.168.1.10', 'example.com', '::ffff:10.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });

  it('a token always wins; without one, only loopback or --metrics-unauthenticated serves', () => {
    assert.equal(metricsAccess('0.0.0.0', { token: 't' }), 'token');
    assert.equal(metricsAccess('127.0.0.1', { token: 't' }), 'token');
    assert.equal(metricsAccess('127.0.0.1', {}), 'open');
    assert.equal(metricsAccess('0.0.0.0', {}), 'refused');
    assert.equal(metricsAccess('0.0.0.0', { allowUnauthenticated: true }), 'open');
  });

  it('with a token, a separate --metrics-port listener wants Authorization: Bearer and serves nothing else', async () => {
    const server = await startTestServer({ metrics: { port: 0, token: TOKEN } });
    try {
      const url = server.server.metricsUrl!;
      assert.notEqual(new URL(url).port, new URL(server.url).port, 'a listener of its own');
      const missing = await scrape(url);
      assert.equal(missing.status, 401);
      assert.match(missing.text, /bearer token/);
      assert.ok(!missing.text.includes(TOKEN));
      assert.equal((await scrape(url, `${TOKEN}x`)).status, 401);
      assert.equal((await scrape(url, TOKEN.slice(0, -1))).status, 401);
      const served = await scrape(url, TOKEN);
      assert.equal(served.status, 200);
      await parseMetrics(served.text);
      assert.equal((await fetch(url.replace('/metrics', '/health'))).status, 404, 'only /metrics on the metrics port');
      // The API port keeps its old behaviour: /metrics there goes to the pipeline (not served).
      assert.notEqual((await fetch(`${server.url}/metrics`)).status, 200);
    } finally {
      await server.cleanup();
    }
  });

  it('without a token on a non-loopback address, scrapes are refused (403) and the refusal says what to set', async () => {
    const server = await startTestServer({ metrics: { port: 0, host: '0.0.0.0' } });
    try {
      const port = new URL(server.server.metricsUrl!).port;
      const refused = await scrape(`http://127.0.0.1:${port}/metrics`);
      assert.equal(refused.status, 403);
      assert.match(refused.text, /--metrics-token/);
    } finally {
      await server.cleanup();
    }
  });

  it('a --metrics-port in use stops the start with a plain message naming that port, before the data dir is touched', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busyPort = (blocker.address() as AddressInfo).port;
    const dataDir = join(mkdtempSync(join(tmpdir(), 'metrics-busy-')), 'data');
    try {
      const result = await runCofferUntilExit({ dataDir, args: ['--metrics-port', String(busyPort)] });
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`^coffer: cannot start: 127\\.0\\.0\\.1:${busyPort} is already in use`, 'm'));
      assert.ok(!existsSync(join(dataDir, 'root.key')), 'no root key was created');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      rmSync(dirname(dataDir), { recursive: true, force: true });
    }
  });
});

/**
 * `coffer server --workers 2`: a scrape lands on either worker (they share the port) and shows the whole cluster,
 * every worker's counters summed by the primary.
 */
describe('metrics of a cluster', () => {
  let server: ChildServer | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'metrics-cluster-'));
  after(async () => {
    await server?.stop();
    await killChildServers();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  });

  it('sums the workers: every call counted once whichever worker served it, and the scrape says how many workers answered', async () => {
    server = await startChildServer({ dataDir, args: ['--workers', '2', '--metrics-port', '0'], env: { COFFER_METRICS_TOKEN: TOKEN }, timeoutMs: 30_000 });
    const metricsUrl = /^Metrics: (http:\/\/\S+)$/m.exec(server.stdout())?.[1];
    assert.ok(metricsUrl, `the start names the metrics URL:\n${server.stdout()}`);
    assert.ok(!server.stdout().includes(TOKEN) && !server.stderr().includes(TOKEN), 'the token is never printed');
    const creator = server.kms();
    await creator.send(new CreateKeyCommand({}));
    creator.destroy();
    const calls = 24;
    // One client per call: a new connection each, so the kernel spreads them over both workers.
    for (let index = 0; index < calls; index++) {
      const kms = server.kms();
      await kms.send(new ListKeysCommand({}));
      kms.destroy();
    }
    for (let scrapeNumber = 0; scrapeNumber < 4; scrapeNumber++) {
      const families = await scrapeParsed(metricsUrl, TOKEN);
      assert.equal(sampleValue(families, 'coffer_workers'), 2);
      assert.equal(sampleValue(families, 'coffer_requests_total', { service: 'kms', operation: 'ListKeys', outcome: 'success' }), calls);
      assert.equal(sampleValue(families, 'coffer_kms_keys', { state: 'Enabled' }), 1, 'store gauges are shown once, not summed');
    }
    assert.equal((await scrape(metricsUrl)).status, 401);
  });
});
