/**
 * The request context as conditions read it (normalizeContext): read per key on demand, with the same answers the
 * eagerly built Map gave — key names case-insensitive, values as strings, lists marked multivalued, the caller's
 * aws:PrincipalArn / aws:PrincipalAccount filled in when absent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeContext } from '../../../src/policy/context-keys.js';
import type { AuthorizationRequest } from '../../../src/policy/types.js';

const USER = { arn: 'arn:aws:iam::111111111111:user/alice', accountId: '111111111111' };

function request(context: AuthorizationRequest['context'], principal: AuthorizationRequest['principal'] = USER): AuthorizationRequest {
  return { principal, action: 'kms:Decrypt', resource: '*', context };
}

describe('normalizeContext', () => {
  it('finds a key whatever the case it was given in, and gives its values as strings', () => {
    const context = normalizeContext(request({ 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com', 'aws:EpochTime': 1700000000, 'aws:SecureTransport': false }));
    assert.deepEqual(context.get('kms:viaservice'), ['secretsmanager.us-east-1.amazonaws.com']);
    assert.deepEqual(context.get('aws:epochtime'), ['1700000000']);
    assert.deepEqual(context.get('aws:securetransport'), ['false']);
    assert.equal(context.has('kms:viaservice'), true);
  });

  it('leaves out keys that are absent or undefined', () => {
    const context = normalizeContext(request({ 'aws:SourceIp': undefined }));
    assert.equal(context.get('aws:sourceip'), undefined);
    assert.equal(context.has('aws:sourceip'), false);
    assert.equal(context.has('aws:nosuchkey'), false);
  });

  it('marks lists as multivalued, single values not', () => {
    const context = normalizeContext(request({ 'kms:EncryptionContextKeys': ['SecretARN'], 'aws:CalledViaFirst': 'secretsmanager.amazonaws.com' }));
    assert.deepEqual(context.get('kms:encryptioncontextkeys'), ['SecretARN']);
    assert.equal(context.multivalued.has('kms:encryptioncontextkeys'), true);
    assert.equal(context.multivalued.has('aws:calledviafirst'), false);
    assert.equal(context.multivalued.has('aws:absent'), false);
  });

  it('takes the later of two names that differ only in case, skipping an undefined one', () => {
    assert.deepEqual(normalizeContext(request({ 'aws:ResourceTag/Team': 'a', 'aws:resourcetag/team': 'b' })).get('aws:resourcetag/team'), ['b']);
    assert.deepEqual(normalizeContext(request({ 'aws:ResourceTag/Team': 'a', 'aws:resourcetag/team': undefined })).get('aws:resourcetag/team'), ['a']);
  });

  it("fills aws:PrincipalArn (a role session's role) and aws:PrincipalAccount from the principal when the context has none", () => {
    const session = { arn: 'arn:aws:sts::111111111111:assumed-role/reader/s1', accountId: '111111111111', roleArn: 'arn:aws:iam::111111111111:role/reader' };
    const context = normalizeContext(request({}, session));
    assert.deepEqual(context.get('aws:principalarn'), ['arn:aws:iam::111111111111:role/reader']);
    assert.deepEqual(context.get('aws:principalaccount'), ['111111111111']);
    assert.deepEqual(normalizeContext(request({ 'aws:PrincipalArn': 'given' })).get('aws:principalarn'), ['given']);
    assert.equal(normalizeContext(request({}, { ...USER, service: 'secretsmanager.amazonaws.com' })).has('aws:principalarn'), false);
  });

  it('reads the context once however often a key is asked for', () => {
    let reads = 0;
    const values = { 'kms:CallerAccount': '111111111111' };
    const context = normalizeContext({ principal: USER, action: 'kms:Decrypt', resource: '*', get context() { reads += 1; return values; } });
    for (let i = 0; i < 5; i++) assert.deepEqual(context.get('kms:calleraccount'), ['111111111111']);
    assert.equal(reads, 1);
  });
});
