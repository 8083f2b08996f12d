import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { sampleValue, scrapeParsed } from '../../helpers/metrics.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Two nodes on one PostgreSQL database: each serves its own metrics (Prometheus scrapes every node), so a call
 * is counted by the node that answered it; keys by state come from the store, so both nodes show the same.
 */
describe('metrics of nodes on PostgreSQL', () => {
  let database: { url: string; drop(): Promise<void> };
  const nodes: TestServer[] = [];
  let admin: { accessKeyId: string; secretAccessKey: string };

  before(async () => {
    database = await createTestDatabase('metrics_test_');
    const rootKeyBase64 = randomBytes(32).toString('base64');
    for (let index = 0; index < 2; index++) {
      nodes.push(await startTestServer({ devMode: false, rootKeyBase64, postgres: { url: database.url, poolSize: 2 }, metrics: {} }));
    }
    admin = nodes[0]!.server.coffer.createdAdmin!;
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.cleanup()));
    await database?.drop();
  });

  it('counts each call on the node that served it, and shows the same keys by state on both', async () => {
    const client = (node: TestServer) => new KMSClient({ endpoint: node.url, region: 'us-east-1', credentials: admin, maxAttempts: 1 });
    const first = client(nodes[0]!);
    const second = client(nodes[1]!);
    const { KeyMetadata } = await first.send(new CreateKeyCommand({}));
    await first.send(new CreateKeyCommand({}));
    await second.send(new DisableKeyCommand({ KeyId: KeyMetadata!.KeyId }));
    first.destroy();
    second.destroy();

    const [onFirst, onSecond] = await Promise.all(nodes.map((node) => scrapeParsed(node.server.metricsUrl!)));
    const calls = (families: typeof onFirst, operation: string) => sampleValue(families!, 'coffer_requests_total', { service: 'kms', operation, outcome: 'success' });
    assert.equal(calls(onFirst!, 'CreateKey'), 2);
    assert.equal(calls(onSecond!, 'CreateKey'), 0);
    assert.equal(calls(onFirst!, 'DisableKey'), 0);
    assert.equal(calls(onSecond!, 'DisableKey'), 1);
    for (const families of [onFirst!, onSecond!]) {
      assert.equal(sampleValue(families, 'coffer_kms_keys', { state: 'Enabled' }), 1);
      assert.equal(sampleValue(families, 'coffer_kms_keys', { state: 'Disabled' }), 1);
      assert.ok(sampleValue(families, 'coffer_store_read_cache_requests_total', { result: 'miss' }) > 0, "the PostgreSQL store's read cache reports");
      assert.ok(sampleValue(families, 'coffer_store_operation_duration_seconds_count', { method: 'getAccessKey' }) > 0);
    }
  });
});
