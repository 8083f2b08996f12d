import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { auditRows, withAuditDatabase } from '../helpers/audit.js';
import { createUser } from '../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../helpers/secrets.js';
import { rawCall } from '../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../helpers/start-server.js';

/**
 * The web console's files at /console/ (server/console-assets.ts, the build of src/console/ in dist/console/:
 * `npm run build` makes it) and Coffer's VerifyAuditChain, the one endpoint the console needed that no AWS API has.
 */

/** A GET with the path sent byte for byte (fetch would normalize `..` and `%2e%2e` away before sending). */
function rawGet(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = request({ hostname, port, path, method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

const VERIFY_TARGET = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.VerifyAuditChain';

describe('the console files at /console/', () => {
  let server: TestServer;
  let index: string;

  before(async () => {
    server = await startTestServer();
    index = (await rawGet(server.url, '/console/')).body.toString('utf8');
  });
  after(async () => server?.cleanup());

  it('serves the page with a strict CSP, no framing, nosniff, no referrer, and revalidation', async () => {
    const page = await rawGet(server.url, '/console/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
      assert.ok(csp.split('; ').includes(directive), `CSP has ${directive}: ${csp}`);
    }
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['cache-control'], 'no-cache');
    // Nothing inline for the CSP to refuse: the script and the stylesheet are files.
    assert.match(index, /<script type="module" crossorigin src="\/console\/assets\/index-[\w-]+\.js"><\/script>/);
    assert.doesNotMatch(index, /<script>|<style|style="/);
  });

  it('/console redirects to /console/ (the page resolves its files under it)', async () => {
    const answer = await rawGet(server.url, '/console');
    assert.equal(answer.status, 308);
    assert.equal(answer.headers.location, '/console/');
  });

  it('serves hashed assets with their content types, cached as immutable', async () => {
    const assets = [...index.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    assert.ok(assets.some((path) => path.endsWith('.js')) && assets.some((path) => path.endsWith('.css')), `assets in the page: ${assets.join(', ')}`);
    for (const path of assets) {
      const asset = await rawGet(server.url, path);
      assert.equal(asset.status, 200, path);
      assert.equal(asset.headers['content-type'], path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8', path);
      assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable', path);
      assert.equal(asset.headers['x-content-type-options'], 'nosniff', path);
      assert.ok(asset.body.length > 1000, path);
    }
    const head = await rawGet(server.url, assets[0]!, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('no directory traversal: paths outside the build answer 404, never a file of the checkout', async () => {
    for (const path of [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/%2E%2E%2Fpackage.json',
      '/console/assets/../../../package.json',
      '/console/assets/..%2f..%2f..%2fpackage.json',
      '/console/..%5c..%5cpackage.json',
      '/console//etc/passwd',
      '/console/assets/',
      '/console/index.html%00.js',
      '/console/vite.config.ts',
      '/console/main.tsx',
    ]) {
      const answer = await rawGet(server.url, path);
      assert.equal(answer.status, 404, path);
      assert.doesNotMatch(answer.body.toString('utf8'), /"name": "coffer"|root:x:0/, path);
    }
  });

  it('only GET and HEAD: a POST to the console is 405, and goes to no API', async () => {
    const answer = await rawGet(server.url, '/console/', 'POST');
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.allow, 'GET, HEAD');
  });
});

describe('VerifyAuditChain', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    const sm = secretsClient(server);
    await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('console-chain'), SecretString: 'chain test value' }));
    sm.destroy();
  });
  after(async () => server?.cleanup());

  const verify = (credentials = server.admin) => rawCall(server.url, { target: VERIFY_TARGET, service: 'cloudtrail', credentials, body: '{}' });

  it('answers an intact chain with its size and head, and is itself audited as a read', async () => {
    const answer = await verify();
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json!.Intact, true);
    assert.ok((answer.json!.EventsVerified as number) >= 1);
    assert.equal(answer.json!.HeadSequence, answer.json!.EventsVerified);
    const again = await verify();
    assert.ok((again.json!.EventsVerified as number) > (answer.json!.EventsVerified as number), 'the first VerifyAuditChain call is an event of the chain');
  });

  it("the JavaScript SDK's CloudTrail client is answered (it sends X-Amz-Target CloudTrail_20131101.LookupEvents)", async () => {
    const cloudTrail = new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials: server.admin, maxAttempts: 1 });
    try {
      const answer = await cloudTrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateSecret' }] }));
      assert.equal(answer.Events?.length, 1);
      assert.equal(answer.Events![0]!.EventName, 'CreateSecret');
    } finally {
      cloudTrail.destroy();
    }
  });

  it('names the first changed event once a stored event is altered', async () => {
    // The stored body is compressed (store/audit-codec.ts): the changed event is written back as text, which the store reads too.
    const created = auditRows(server.dataDir).find((row) => row.event_name === 'CreateSecret')!;
    withAuditDatabase(server.dataDir, (db) =>
      db.prepare('UPDATE audit_events SET body = ? WHERE sequence = ?').run(created.body.replace('CreateSecret', 'DeleteSecret'), created.sequence),
    );
    const answer = await verify();
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json!.Intact, false);
    assert.equal(typeof answer.json!.BrokenSequence, 'number');
    assert.match(String(answer.json!.Reason), /changed|canonical|differs/);
  });

  it('is authorized like any action: a user without cloudtrail:VerifyAuditChain is refused; extra members are refused', async () => {
    const { keys } = await createUser(server, server.admin, 'console-chain-reader', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'cloudtrail:LookupEvents', Resource: '*' }] },
    });
    const refused = await verify(keys);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json!.__type, 'AccessDeniedException');
    const extra = await rawCall(server.url, { target: VERIFY_TARGET, service: 'cloudtrail', credentials: server.admin, body: '{"Secret":1}' });
    assert.equal(extra.json!.__type, 'ValidationException', extra.text);
  });
});
