import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEvent, isReadOnly } from '../../../src/audit/index.js';

const time = new Date('2026-12-06T09:00:00.000Z');
const identityOf = (arn: string, invokedBy?: string) =>
  buildEvent({ requestId: 'r', time, service: 'secretsmanager', operation: 'DescribeSecret', principal: { arn, accountId: '111122223333', accessKeyId: 'AKID' }, invokedBy }).userIdentity;

describe('audit event fields read from the call', () => {
  it('marks reads as CloudTrail does, the same on every call and past the remembered names', () => {
    for (let round = 0; round < 2; round++) {
      assert.equal(isReadOnly('GetSecretValue'), true);
      assert.equal(isReadOnly('Decrypt'), true);
      assert.equal(isReadOnly('ReEncrypt'), true);
      assert.equal(isReadOnly('PutSecretValue'), false);
      assert.equal(isReadOnly('CreateKey'), false);
    }
    for (let index = 0; index < 3000; index++) assert.equal(isReadOnly(`Get${index}`), true);
    assert.equal(isReadOnly('DeleteSecret'), false);
  });

  it('names the identity type and user name from the principal ARN, the same on every call', () => {
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(
        [identityOf('arn:aws:iam::111122223333:root'), identityOf('arn:aws:sts::111122223333:assumed-role/deploy/session-1'), identityOf('arn:aws:iam::111122223333:user/team/alice'), identityOf('arn:aws:iam::111122223333:group/x')].map(
          ({ type, userName }) => [type, userName],
        ),
        [['Root', 'root'], ['AssumedRole', 'session-1'], ['IAMUser', 'alice'], ['Unknown', 'x']],
      );
      assert.equal(identityOf('arn:aws:iam::111122223333:user/alice', 'secretsmanager.amazonaws.com').type, 'AWSService');
    }
    for (let index = 0; index < 3000; index++) assert.equal(identityOf(`arn:aws:sts::111122223333:assumed-role/r/s${index}`).userName, `s${index}`);
    assert.equal(identityOf('arn:aws:iam::111122223333:root').type, 'Root');
  });
});
