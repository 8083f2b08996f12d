import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DisableKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../helpers/clock.js';
import { lambdaClient } from '../../helpers/lambda.js';
import { parseMetrics, sampleValue, scrape, scrapeParsed } from '../../helpers/metrics.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const IDLE_ROTATOR = 'arn:aws:lambda:us-east-1:000000000000:function:metrics-idle-rotator';

/**
 * GET /metrics on the API port of a server on loopback (no token needed there), read with Python's
 * prometheus_client parser: the counters and gauges move with the calls, and no secret's name or value, no key
 * id, and no ARN is ever in the page.
 */
describe('GET /metrics', () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let metricsUrl: string;
  let idleFunction: Server;
  const clock = new ManualClock(new Date('2026-03-01T00:00:00Z'));

  before(async () => {
    server = await startTestServer({ clock, metrics: { processMetrics: true } });
    sm = secretsClient(server);
    metricsUrl = server.server.metricsUrl!;
    // A rotation function that answers every step without doing anything: its rotations fail the finishSecret check.
    idleFunction = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end('null'));
    });
    await new Promise<void>((resolve) => idleFunction.listen(0, '127.0.0.1', resolve));
    const lambda = lambdaClient(server);
    const url = `http://127.0.0.1:${(idleFunction.address() as AddressInfo).port}/`;
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'metrics-idle-rotator', Runtime: 'coffer-http' as never, Role: undefined, Code: {}, Timeout: 30, Environment: { Variables: { COFFER_FUNCTION_URL: url } } }));
    lambda.destroy();
  });
  after(async () => {
    sm?.destroy();
    idleFunction?.closeAllConnections();
    await new Promise((resolve) => idleFunction?.close(resolve));
    await server?.cleanup();
  });

  it('is Prometheus text that prometheus_client parses, with every family the issue names', async () => {
    const scraped = await scrape(metricsUrl);
    assert.equal(scraped.status, 200);
    assert.match(scraped.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    const families = await parseMetrics(scraped.text);
    const names = new Set(families.map((family) => family.name));
    for (const name of [
      'coffer_requests',
      'coffer_request_duration_seconds',
      'coffer_rotations',
      'coffer_rotation_overdue_secrets',
      'coffer_rotation_lag_seconds',
      'coffer_kms_keys',
      'coffer_store_read_cache_requests',
      'coffer_store_operation_duration_seconds',
      'coffer_audit_write_duration_seconds',
      'coffer_audit_backlog_events',
      'process_cpu_seconds_total'.replace(/_total$/, ''),
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.ok(names.has(name), `${name} is on the page`);
    }
    assert.equal(families.find((family) => family.name === 'coffer_request_duration_seconds')?.type, 'histogram');
    assert.equal(families.find((family) => family.name === 'coffer_requests')?.type, 'counter');
  });

  it('counts calls by service, operation and outcome, with their latency, store and audit timings and read-cache hits', async () => {
    const secret = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('metrics-count'), SecretString: 'counted value' }));
    const before = await scrapeParsed(metricsUrl);
    for (let index = 0; index < 3; index++) await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN }));
    await assert.rejects(sm.send(new GetSecretValueCommand({ SecretId: uniqueSecretName('metrics-missing') })), { name: 'ResourceNotFoundException' });
    const unsigned = await fetch(server.url, { method: 'POST', headers: { 'x-amz-target': 'secretsmanager.NoSuchOperation', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    assert.equal(unsigned.status, 400);
    const afterCalls = await scrapeParsed(metricsUrl);

    const delta = (name: string, labels: Record<string, string> = {}) => sampleValue(afterCalls, name, labels) - sampleValue(before, name, labels);
    const call = { service: 'secretsmanager', operation: 'GetSecretValue' };
    assert.equal(delta('coffer_requests_total', { ...call, outcome: 'success' }), 3);
    assert.equal(delta('coffer_requests_total', { ...call, outcome: 'client_error' }), 1);
    assert.equal(delta('coffer_requests_total', { ...call, outcome: 'server_error' }), 0);
    assert.equal(delta('coffer_requests_total', { service: 'unknown', operation: 'unknown', outcome: 'client_error' }), 1, 'an unknown operation is counted without its name');
    assert.equal(delta('coffer_request_duration_seconds_count', call), 4);
    assert.ok(delta('coffer_request_duration_seconds_sum', call) > 0);
    assert.equal(delta('coffer_request_duration_seconds_bucket', { ...call, le: '+Inf' }), 4);
    assert.ok(delta('coffer_store_operation_duration_seconds_count', { method: 'getSecretVersionByStage' }) >= 3, 'store reads are timed by method');
    assert.ok(delta('coffer_store_operation_duration_seconds_count', { method: 'appendAuditEvents' }) >= 1, 'audit appends are timed as store calls');
    assert.ok(delta('coffer_audit_write_duration_seconds_count') >= 4, 'every call waits for its audit event');
    assert.ok(delta('coffer_audit_events_total', { outcome: 'written' }) >= 4);
    assert.ok(delta('coffer_store_read_cache_requests_total', { result: 'hit' }) >= 2, 'repeated reads of one secret come from the read cache');
    assert.equal(sampleValue(afterCalls, 'coffer_audit_backlog_events'), 0, 'nothing waits for the audit log between calls');
    assert.equal(sampleValue(afterCalls, 'coffer_workers'), 1);
  });

  it('shows keys by state from the store', async () => {
    const kms = server.kms();
    const before = await scrapeParsed(metricsUrl);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    await kms.send(new CreateKeyCommand({}));
    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata!.KeyId }));
    const afterKeys = await scrapeParsed(metricsUrl);
    const delta = (state: string) => sampleValue(afterKeys, 'coffer_kms_keys', { state }) - sampleValue(before, 'coffer_kms_keys', { state });
    assert.equal(delta('Enabled'), 1);
    assert.equal(delta('Disabled'), 1);
    assert.equal(sampleValue(afterKeys, 'coffer_kms_keys', { state: 'PendingDeletion' }), 0, 'every state is shown, at 0 when no key is in it');
    kms.destroy();
  });

  it('counts rotations by outcome and failed step, and shows secrets overdue for rotation and the lag', async () => {
    const before = await scrapeParsed(metricsUrl);
    const failing = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('metrics-rotate'), SecretString: 'before rotation' }));
    await sm.send(new RotateSecretCommand({ SecretId: failing.ARN, RotationLambdaARN: IDLE_ROTATOR, RotationRules: { AutomaticallyAfterDays: 30 } }));
    await server.server.coffer.rotation.idle();
    const scheduled = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('metrics-schedule'), SecretString: 'on a schedule' }));
    await sm.send(new RotateSecretCommand({ SecretId: scheduled.ARN, RotationLambdaARN: IDLE_ROTATOR, RotationRules: { AutomaticallyAfterDays: 1 }, RotateImmediately: false }));
    const onTime = await scrapeParsed(metricsUrl);
    const delta = (labels: Record<string, string>) => sampleValue(onTime, 'coffer_rotations_total', labels) - sampleValue(before, 'coffer_rotations_total', labels);
    assert.equal(delta({ outcome: 'started', step: '' }), 1);
    assert.equal(delta({ outcome: 'failed', step: 'finishSecret' }), 1, 'the idle function never moves AWSCURRENT');
    assert.equal(delta({ outcome: 'succeeded', step: '' }), 0);
    assert.equal(sampleValue(onTime, 'coffer_rotation_overdue_secrets'), 0);
    assert.equal(sampleValue(onTime, 'coffer_rotation_lag_seconds'), 0);

    // Three days on (the maintenance timer is off in tests): the 1-day schedule's window has closed unrotated.
    clock.advanceDays(3);
    const late = await scrapeParsed(metricsUrl);
    assert.ok(sampleValue(late, 'coffer_rotation_overdue_secrets') >= 1);
    assert.ok(sampleValue(late, 'coffer_rotation_lag_seconds') > 86_400, 'overdue by more than a day');
  });

  it('never shows a secret name or value, an ARN, a key id or an account in the page', async () => {
    const name = uniqueSecretName('metrics-scan-ZQX');
    const value = 'scan-value-7f3e9b2a';
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    await sm.send(new GetSecretValueCommand({ SecretId: name }));
    await assert.rejects(sm.send(new GetSecretValueCommand({ SecretId: `${name}-absent` })));
    const kms = server.kms();
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'metrics scan key' }));
    await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from(value) }));
    kms.destroy();

    const { text } = await scrape(metricsUrl);
    for (const forbidden of [name, value, Buffer.from(value).toString('base64'), created.ARN!, created.VersionId!, KeyMetadata!.KeyId!, 'arn:aws', '000000000000', 'metrics scan key']) {
      assert.ok(!text.includes(forbidden), `the page does not hold ${forbidden}`);
    }
    // Every label value of Coffer's families is an identifier from a fixed vocabulary: none is a value a caller chose.
    const families = (await parseMetrics(text)).filter((family) => family.name.startsWith('coffer_'));
    const labelValues = new Set(families.flatMap((family) => family.samples.flatMap((sample) => Object.entries(sample.labels).filter(([key]) => key !== 'le' && key !== 'quantile').map(([, labelValue]) => labelValue))));
    for (const labelValue of labelValues) {
      assert.match(labelValue, /^(?:[A-Za-z][A-Za-z0-9_.-]*|)$/, `label value ${labelValue} is an identifier`);
      assert.ok(!labelValue.includes('ZQX') && !labelValue.includes('scan'), `label value ${labelValue} names nothing of the caller's`);
    }
  });
});
