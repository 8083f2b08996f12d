import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultAuditSpoolDir, parseSpool } from '../../../src/server/index.js';
import { auditRows, coffer, withAuditDatabase } from '../../helpers/audit.js';
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

  it('fail-open (the default) serves the requests once their events are in the spool, and appends them to the chain at the next start, once', async () => {
    const { server, sm, name } = await setUp(false);
    const before = auditRows(server.dataDir).length;
    breakAuditLog(server.dataDir);
    const read = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    assert.equal(read.SecretString, 'kept');
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('served'), SecretString: 'x' }));
    assert.ok(created.ARN);
    const requestIds = [read.$metadata.requestId!, created.$metadata.requestId!];

    // Answered only once durable: both events are in the spool beside the data dir (0600), with no value.
    const spooled = spooledEvents(server.dataDir);
    assert.deepEqual(spooled.map((event) => event.requestID).sort(), [...requestIds].sort());
    assert.ok(!JSON.stringify(spooled).includes('kept'));
    for (const file of spoolFiles(server.dataDir)) assert.equal(statSync(file).mode & 0o777, 0o600);

    // The server goes away while the log is still broken; the next start appends the spooled events first.
    await server.stop();
    repairAuditLog(server.dataDir);
    assert.equal(auditRows(server.dataDir).length, before);
    const again = await startTestServer({ dataDir: server.dataDir });
    servers.push(again);
    const rows = auditRows(server.dataDir);
    assert.equal(rows.length, before + 2);
    assert.deepEqual(rows.slice(before).map((row) => (JSON.parse(row.body) as { requestID: string }).requestID), requestIds);
    assert.deepEqual(spoolFiles(server.dataDir), []);
    await again.stop();
    const verify = await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /chain intact/);
  });

  it('fail-open appends spooled events in the background once the audit log can be written again', async () => {
    const { server, sm, name } = await setUp(false);
    breakAuditLog(server.dataDir);
    const read = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    assert.equal(spooledEvents(server.dataDir).length, 1);
    repairAuditLog(server.dataDir);
    const deadline = Date.now() + 10_000;
    const withRequestId = () => auditRows(server.dataDir).filter((row) => (JSON.parse(row.body) as { requestID: string }).requestID === read.$metadata.requestId);
    while (withRequestId().length === 0 && Date.now() < deadline) await sleep(100);
    assert.equal(withRequestId().length, 1);
    while (spoolFiles(server.dataDir).length > 0 && Date.now() < deadline) await sleep(100);
    assert.deepEqual(spoolFiles(server.dataDir), []);
    // Served directly again, and the spooled event is still in the chain exactly once.
    await sm.send(new GetSecretValueCommand({ SecretId: name }));
    assert.equal(withRequestId().length, 1);
  });
});

function spoolFiles(dataDir: string): string[] {
  const dir = defaultAuditSpoolDir(dataDir);
  return existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : [];
}

function spooledEvents(dataDir: string): Array<{ requestID: string }> {
  return spoolFiles(dataDir).flatMap((file) => parseSpool(readFileSync(file, 'utf8')).drafts.map((draft) => JSON.parse(draft.body) as { requestID: string }));
}
