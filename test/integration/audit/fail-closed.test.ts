import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { auditRows, withAuditDatabase } from '../../helpers/audit.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** A trigger that makes the audit table refuse every insert: the audit log "can't be written". */
function breakAuditLog(dataDir: string): void {
  withAuditDatabase(dataDir, (db) =>
    db.exec("CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit log is read-only'); END;"),
  );
}

function repairAuditLog(dataDir: string): void {
  withAuditDatabase(dataDir, (db) => db.exec('DROP TRIGGER audit_read_only'));
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; $metadata: { httpStatusCode?: number }; $fault?: string }> {
  return promise.then(
    () => assert.fail('expected the request to be refused'),
    (error: unknown) => error as { name: string; $metadata: { httpStatusCode?: number }; $fault?: string },
  );
}

describe('when the audit log cannot be written', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const server of servers) await server.cleanup();
  });

  async function setUp(auditFailClosed: boolean): Promise<{ server: TestServer; sm: SecretsManagerClient; name: string }> {
    const server = await startTestServer({ auditFailClosed });
    servers.push(server);
    const sm = secretsClient(server);
    const name = uniqueSecretName('fail-closed');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'kept' }));
    return { server, sm, name };
  }

  it('fail-closed (--audit-fail-closed) refuses reads and mutations with an AWS-shaped 500, and runs no mutation', async () => {
    const { server, sm, name } = await setUp(true);
    const before = auditRows(server.dataDir).length;
    breakAuditLog(server.dataDir);

    const read = await errorOf(sm.send(new GetSecretValueCommand({ SecretId: name })));
    assert.equal(read.name, 'InternalServiceError');
    assert.equal(read.$metadata.httpStatusCode, 500);
    assert.equal(read.$fault, 'server');

    const newName = uniqueSecretName('never-created');
    const write = await errorOf(sm.send(new CreateSecretCommand({ Name: newName, SecretString: 'never' })));
    assert.equal(write.name, 'InternalServiceError');
    assert.equal(write.$metadata.httpStatusCode, 500);

    const kmsError = await errorOf(server.kms().send(new (await import('@aws-sdk/client-kms')).ListKeysCommand({})));
    assert.equal(kmsError.name, 'KMSInternalException');

    repairAuditLog(server.dataDir);
    // The refused mutation never ran; nothing was recorded while the log was broken.
    const missing = await errorOf(sm.send(new DescribeSecretCommand({ SecretId: newName })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'kept');
    assert.equal(auditRows(server.dataDir).length, before + 2);
  });

  it('fail-open (the default) serves the requests and logs the failure', async () => {
    const { server, sm, name } = await setUp(false);
    const before = auditRows(server.dataDir).length;
    breakAuditLog(server.dataDir);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'kept');
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('served'), SecretString: 'x' }));
    assert.ok(created.ARN);
    repairAuditLog(server.dataDir);
    assert.equal(auditRows(server.dataDir).length, before);
  });
});
