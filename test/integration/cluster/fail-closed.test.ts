import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { auditRows, withAuditDatabase } from '../../helpers/audit.js';
import { killChildServers, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { uniqueSecretName } from '../../helpers/secrets.js';

/**
 * Fail-closed auditing with `--workers 2`: the workers' probe before a mutation and their appends both go to
 * the primary's writer; when audit.db refuses inserts, every worker refuses calls (5xx) and runs no mutation.
 */
describe('coffer server --workers 2 --audit-fail-closed', () => {
  let dataDir: string;
  let server: ChildServer;
  let clients: SecretsManagerClient[];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'coffer-cluster-closed-'));
    server = await startChildServer({ dataDir, args: ['--workers', '2', '--audit-fail-closed'] });
    // Several clients, so both workers get connections.
    clients = Array.from({ length: 6 }, () => new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: server.printedAdmin!, maxAttempts: 1 }));
  });
  after(async () => {
    await killChildServers();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  });

  it('refuses reads and mutations while audit.db cannot be written, runs none of the mutations, and recovers', async () => {
    const name = uniqueSecretName('kept');
    await clients[0]!.send(new CreateSecretCommand({ Name: name, SecretString: 'kept' }));
    const before = auditRows(dataDir).length;
    withAuditDatabase(dataDir, (db) => db.exec("CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit log is read-only'); END;"));

    const refusedNames = clients.map(() => uniqueSecretName('never'));
    const outcomes = await Promise.allSettled(
      clients.flatMap((client, index) => [
        client.send(new CreateSecretCommand({ Name: refusedNames[index], SecretString: 'never' })),
        client.send(new GetSecretValueCommand({ SecretId: name })),
      ]),
    );
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      const error = (outcome as PromiseRejectedResult).reason as { name: string; $metadata: { httpStatusCode?: number } };
      assert.equal(error.name, 'InternalServiceError');
      assert.equal(error.$metadata.httpStatusCode, 500);
    }

    withAuditDatabase(dataDir, (db) => db.exec('DROP TRIGGER audit_read_only'));
    for (const refused of refusedNames) {
      await assert.rejects(clients[0]!.send(new DescribeSecretCommand({ SecretId: refused })), { name: 'ResourceNotFoundException' });
    }
    assert.equal((await clients[1]!.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'kept');
    assert.equal(auditRows(dataDir).length, before + refusedNames.length + 1);
    const exit = await server.stop('SIGTERM');
    assert.equal(exit.code, 0, server.stderr());
    const served = [...server.stderr().matchAll(/worker pid \d+ stopped after serving (\d+) requests/g)].map((match) => Number(match[1]));
    assert.equal(served.length, 2);
    assert.ok(served.every((requests) => requests > 0), server.stderr());
  });
});
