import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEvent, redact } from '../../../src/audit/index.js';
import { sensitive } from '../../../src/core/index.js';

describe('audit redaction', () => {
  it('drops secret values, plaintexts, passwords, zip files and ciphertext blobs by member name', () => {
    const input = {
      SecretId: 'prod/db',
      SecretString: 'hunter2',
      SecretBinary: 'aHVudGVyMg==',
      Plaintext: 'cGxhaW4=',
      CiphertextBlob: 'Y2lwaGVy',
      RandomPassword: 'abc',
      Code: { ZipFile: 'UEsDBA==' },
      MasterUserPassword: 'pw',
      PrivateKeyPlaintext: 'k',
      EncryptionContext: { purpose: 'test' },
    };
    assert.deepEqual(redact(input), { SecretId: 'prod/db', Code: {}, EncryptionContext: { purpose: 'test' } });
  });

  it("drops a parameter's Value (SSM) but keeps a tag's, and drops a reference's SourceResult", () => {
    const input = { Name: '/app/db', Type: 'SecureString', Value: 'hunter2', Tags: [{ Key: 'team', Value: 'core' }] };
    assert.deepEqual(redact(input), { Name: '/app/db', Type: 'SecureString', Tags: [{ Key: 'team', Value: 'core' }] });
    assert.deepEqual(redact({ Parameter: { Name: 'n', Value: 'v', SourceResult: '{"SecretString":"v"}' } }), { Parameter: { Name: 'n' } });
  });

  it('drops them at any depth, inside arrays too', () => {
    const output = { SecretValues: [{ ARN: 'arn:1', Name: 'a', SecretString: 's1' }, { ARN: 'arn:2', SecretBinary: Buffer.from('s2') }] };
    assert.deepEqual(redact(output), { SecretValues: [{ ARN: 'arn:1', Name: 'a' }, { ARN: 'arn:2' }] });
  });

  it('never serializes a Sensitive value and drops every blob', () => {
    const output = { KeyId: 'k', Plain: sensitive(Buffer.from('secret')), Wrapped: sensitive('secret'), Blob: Buffer.from('x'), Bytes: new Uint8Array([1]) };
    assert.deepEqual(redact(output), { KeyId: 'k' });
  });

  it('keeps Lambda environment variable names and drops their values', () => {
    assert.deepEqual(redact({ Environment: { Variables: { DB_PASSWORD: 'pw', HOST: 'h' } } }), { Environment: { Variables: { DB_PASSWORD: '***', HOST: '***' } } });
  });

  it('turns dates into ISO strings and cuts off hostile nesting', () => {
    assert.deepEqual(redact({ CreatedDate: new Date(0) }), { CreatedDate: '1970-01-01T00:00:00.000Z' });
    let deep: unknown = 'leaf';
    for (let index = 0; index < 10_000; index++) deep = [deep];
    assert.doesNotThrow(() => JSON.stringify(redact({ deep })));
  });

  it('builds an event without the value and with the call fields', () => {
    const event = buildEvent(
      {
        requestId: 'r1',
        time: new Date('2026-01-02T03:04:05Z'),
        service: 'secretsmanager',
        operation: 'GetSecretValue',
        principal: { accountId: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', accessKeyId: 'AKIAALICE' },
        region: 'eu-west-1',
        sourceIp: '10.0.0.1',
        userAgent: 'aws-cli/2',
        input: { SecretId: 'prod/db' },
        output: { ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf', SecretString: sensitive('x') },
      },
      'e1',
    );
    assert.equal(event.eventID, 'e1');
    assert.equal(event.eventTime, '2026-01-02T03:04:05.000Z');
    assert.equal(event.eventSource, 'secretsmanager.amazonaws.com');
    assert.equal(event.readOnly, true);
    assert.deepEqual(event.userIdentity, { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', accessKeyId: 'AKIAALICE', userName: 'alice', invokedBy: undefined });
    // A read records no response (CloudTrail), yet the ARN it resolved still names the resource.
    assert.equal(event.responseElements, null);
    assert.doesNotMatch(JSON.stringify(event), /"x"/);
    assert.deepEqual(event.resources.map((resource) => resource.ARN), ['prod/db', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf']);
  });

  it('records the redacted response of a call that changes something', () => {
    const event = buildEvent(
      {
        requestId: 'r2',
        time: new Date('2026-01-02T03:04:05Z'),
        service: 'secretsmanager',
        operation: 'CreateSecret',
        principal: { accountId: '111122223333', arn: 'arn:aws:iam::111122223333:root', accessKeyId: 'AKIAROOT' },
        input: { Name: 'prod/db', SecretString: sensitive('x') },
        output: { ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf', Name: 'prod/db', VersionId: 'v1' },
      },
      'e2',
    );
    assert.equal(event.readOnly, false);
    assert.deepEqual(event.responseElements, { ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf', Name: 'prod/db', VersionId: 'v1' });
    assert.equal((event.requestParameters as Record<string, unknown>).SecretString, undefined);
  });
});
