/**
 * A check reads its global condition keys one by one (requestContextView) instead of building the whole record
 * (requestContext) and normalizing it: for every key, spelling and kind of caller, both must answer alike, or a
 * policy condition would decide differently in a check than in simulation and refusal messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestContext, requestContextView, type AccessRequest, type PrincipalPolicies, type RequestFacts } from '../../../src/policy/access.js';
import { normalizeContext } from '../../../src/policy/context-keys.js';

const ACCOUNT = '111111111111';

function identity(principal: PrincipalPolicies['principal'], extra: Partial<PrincipalPolicies> = {}): PrincipalPolicies {
  return { principal, unrestricted: false, policies: [], tags: {}, ...extra };
}

const IDENTITIES: PrincipalPolicies[] = [
  identity({ arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT }, { unrestricted: true, principalType: 'Account', userId: ACCOUNT }),
  identity({ arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT }, { principalType: 'User', userId: 'AIDAALICE', userName: 'alice', tags: { Team: 'payments', team: 'search', Env: 'prod' } }),
  identity(
    { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/reader/s1`, accountId: ACCOUNT, roleArn: `arn:aws:iam::${ACCOUNT}:role/reader` },
    { principalType: 'AssumedRole', userId: 'AROAREADER:s1', sourceIdentity: 'carol', tags: { Project: 'x' } },
  ),
  identity({ arn: 'secretsmanager.amazonaws.com', accountId: ACCOUNT, service: 'secretsmanager.amazonaws.com' }),
];

const FACTS: RequestFacts[] = [
  { currentTime: new Date('2026-12-06T07:00:00.123Z'), sourceIp: '10.0.0.7', region: 'us-east-1', secureTransport: false },
  {
    currentTime: new Date('2026-12-06T07:00:01Z'),
    viaService: 'secretsmanager.eu-west-1.amazonaws.com',
    region: 'eu-west-1',
    tokenIssuedAt: new Date('2026-12-06T06:00:00Z'),
  },
];

const REQUESTS: AccessRequest[] = [
  { action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:a-AbCdEf', resourceAccount: ACCOUNT, context: { 'secretsmanager:SecretId': 'a', 'secretsmanager:VersionStage': 'AWSCURRENT' } },
  {
    action: 'kms:Decrypt',
    resource: 'arn:aws:kms:us-east-1:222222222222:key/k',
    resourceAccount: '222222222222',
    context: { 'kms:EncryptionContext:SecretARN': 'arn', 'kms:EncryptionContextKeys': ['SecretARN'], 'kms:RequestAlias': undefined, 'kms:MultiRegion': false },
  },
  { action: 'kms:Encrypt', resource: '*', resourceAccount: ACCOUNT },
  // The service's own keys over global ones: a defined value in another case wins; an undefined one of exactly
  // a global key's spelling hides it; an undefined one in another case does not.
  {
    action: 'kms:Decrypt',
    resource: '*',
    resourceAccount: ACCOUNT,
    context: { 'AWS:SourceIp': '192.168.0.1', 'aws:RequestedRegion': undefined, 'AWS:SECURETRANSPORT': undefined, 'kms:ViaService': undefined, 'aws:PrincipalTag/team': undefined, 'aws:PrincipalArn': undefined },
  },
];

const KEYS = [
  'aws:CurrentTime', 'aws:EpochTime', 'aws:SourceIp', 'aws:SecureTransport', 'aws:RequestedRegion', 'aws:ResourceAccount',
  'aws:PrincipalIsAWSService', 'aws:PrincipalServiceName', 'aws:PrincipalArn', 'aws:PrincipalAccount', 'aws:PrincipalType',
  'aws:userid', 'aws:username', 'aws:TokenIssueTime', 'aws:MultiFactorAuthPresent', 'aws:SourceIdentity', 'aws:ViaAWSService',
  'aws:CalledVia', 'aws:CalledViaFirst', 'aws:CalledViaLast', 'aws:PrincipalTag/Team', 'aws:PrincipalTag/Env', 'aws:PrincipalTag/Project',
  'aws:PrincipalTag/none', 'kms:CallerAccount', 'kms:ViaService', 'kms:EncryptionContext:SecretARN', 'kms:EncryptionContextKeys',
  'kms:RequestAlias', 'kms:MultiRegion', 'secretsmanager:SecretId', 'secretsmanager:VersionStage', 'aws:ResourceTag/x', 'aws:NoSuchKey',
].map((key) => key.toLowerCase());

describe('requestContextView (the global keys of a check, read per key)', () => {
  it('answers every key exactly as the whole record normalized does, for every kind of caller, request and fact', () => {
    let compared = 0;
    let defined = 0;
    for (const who of IDENTITIES) {
      for (const facts of FACTS) {
        for (const request of REQUESTS) {
          const record = normalizeContext({ principal: who.principal, action: request.action, resource: request.resource, context: requestContext(who, request, facts) });
          const view = requestContextView(who, request, facts);
          for (const key of KEYS) {
            const where = `${who.principal.arn} ${request.action} ${key} via=${facts.viaService}`;
            assert.deepEqual(view.get(key), record.get(key), where);
            assert.equal(view.has(key), record.has(key), where);
            assert.equal(view.multivalued.has(key), record.multivalued.has(key), where);
            compared += 1;
            if (record.has(key)) defined += 1;
          }
        }
      }
    }
    assert.equal(compared, IDENTITIES.length * FACTS.length * REQUESTS.length * KEYS.length);
    assert.ok(defined > compared / 3, `${defined} of ${compared} keys defined: the comparison must cover present keys`);
  });

  it('gives the values a condition sees: the later principal tag of two spellings, the caller account on kms: actions only, the service principal', () => {
    const [, alice, session] = IDENTITIES;
    const [direct, viaSecrets] = FACTS;
    const decrypt = REQUESTS[1]!;
    const view = requestContextView(alice!, decrypt, viaSecrets!);
    assert.deepEqual(view.get('aws:principaltag/team'), ['search']);
    assert.deepEqual(view.get('kms:calleraccount'), [ACCOUNT]);
    assert.deepEqual(view.get('kms:viaservice'), ['secretsmanager.eu-west-1.amazonaws.com']);
    assert.deepEqual(view.get('aws:calledvia'), ['secretsmanager.amazonaws.com']);
    assert.equal(view.multivalued.has('aws:calledvia'), true);
    assert.equal(requestContextView(alice!, REQUESTS[0]!, direct!).has('kms:calleraccount'), false);
    assert.deepEqual(requestContextView(session!, REQUESTS[0]!, direct!).get('aws:principalarn'), [`arn:aws:iam::${ACCOUNT}:role/reader`]);
    // A service's own undefined key of exactly a global's spelling hides it; the caller's ARN is still filled in.
    const hiding = requestContextView(alice!, REQUESTS[3]!, direct!);
    assert.equal(hiding.has('aws:requestedregion'), false);
    assert.deepEqual(hiding.get('aws:sourceip'), ['192.168.0.1']);
    assert.deepEqual(hiding.get('aws:securetransport'), ['false']);
    assert.deepEqual(hiding.get('aws:principaltag/team'), ['payments']);
    assert.deepEqual(hiding.get('aws:principalarn'), [`arn:aws:iam::${ACCOUNT}:user/alice`]);
  });
});
