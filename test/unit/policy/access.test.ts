/**
 * checkAccess: identity policies, resource and key policies, the root user and grants combined as AWS does.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessDeniedMessage, checkAccess, compilePolicyText, createAuthorizer, type AccessRequest, type CompiledPolicy, type PrincipalPolicies } from '../../../src/policy/index.js';

const ALICE = 'arn:aws:iam::111111111111:user/alice';
const SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/myapp/db-AbCdEf';
const OTHER_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/db-AbCdEf';
const KEY = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const facts = { currentTime: new Date('2026-11-28T12:00:00Z'), sourceIp: '10.0.0.7' };

function policy(statement: object | object[]): CompiledPolicy {
  const result = compilePolicyText(JSON.stringify({ Version: '2012-10-17', Statement: statement }));
  assert.ok(result.policy, JSON.stringify(result.findings));
  return result.policy;
}

function user(arn: string, policies: CompiledPolicy[], tags: Record<string, string> = {}): PrincipalPolicies {
  return { principal: { arn, accountId: arn.split(':')[4]! }, unrestricted: false, policies, tags };
}

function root(accountId: string): PrincipalPolicies {
  return { principal: { arn: `arn:aws:iam::${accountId}:root`, accountId }, unrestricted: true, policies: [], tags: {} };
}

const readProd = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:prod/myapp/*' });

function secretRequest(resource: string, extra: Partial<AccessRequest> = {}): AccessRequest {
  return { action: 'secretsmanager:GetSecretValue', resource, resourceAccount: resource.split(':')[4]!, ...extra };
}

describe('checkAccess within one account', () => {
  it('an identity policy allows only the resources it names', () => {
    assert.deepEqual(checkAccess(user(ALICE, [readProd]), secretRequest(SECRET), facts), { allowed: true });
    assert.deepEqual(checkAccess(user(ALICE, [readProd]), secretRequest(OTHER_SECRET), facts), {
      allowed: false,
      reason: 'ImplicitDeny',
      deniedBy: 'identity-based',
    });
  });

  it('a resource policy naming the user allows without an identity policy', () => {
    const resourcePolicy = policy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    assert.equal(checkAccess(user(ALICE, []), secretRequest(OTHER_SECRET, { resourcePolicy }), facts).allowed, true);
  });

  it('an explicit deny in a resource policy stops the account root', () => {
    const resourcePolicy = policy({ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*' });
    assert.equal(checkAccess(root('111111111111'), secretRequest(SECRET), facts).allowed, true);
    assert.deepEqual(checkAccess(root('111111111111'), secretRequest(SECRET, { resourcePolicy }), facts), {
      allowed: false,
      reason: 'ExplicitDeny',
      deniedBy: 'resource-based',
    });
  });

  it('an explicit deny in an identity policy beats an allow anywhere', () => {
    const deny = policy({ Effect: 'Deny', Action: 'secretsmanager:*', Resource: '*' });
    const resourcePolicy = policy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: '*', Resource: '*' });
    const decision = checkAccess(user(ALICE, [readProd, deny]), secretRequest(SECRET, { resourcePolicy }), facts);
    assert.deepEqual(decision, { allowed: false, reason: 'ExplicitDeny', deniedBy: 'identity-based' });
  });

  it('conditions see the principal tags, source IP and the request context', () => {
    const tagged = policy({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalTag/team': 'payments', 'secretsmanager:VersionStage': 'AWSCURRENT' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
    });
    const context = { 'secretsmanager:VersionStage': 'AWSCURRENT' };
    assert.equal(checkAccess(user(ALICE, [tagged], { team: 'payments' }), secretRequest(SECRET, { context }), facts).allowed, true);
    assert.equal(checkAccess(user(ALICE, [tagged], { team: 'search' }), secretRequest(SECRET, { context }), facts).allowed, false);
    assert.equal(checkAccess(user(ALICE, [tagged], { team: 'payments' }), secretRequest(SECRET, { context: { 'secretsmanager:VersionStage': 'AWSPREVIOUS' } }), facts).allowed, false);
    assert.equal(checkAccess(user(ALICE, [tagged], { team: 'payments' }), secretRequest(SECRET, { context }), { ...facts, sourceIp: '192.168.1.1' }).allowed, false);
  });
});

describe('checkAccess across accounts', () => {
  const bob = 'arn:aws:iam::222222222222:user/bob';
  const bobReads = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET });
  const sharedWithBob = policy({ Effect: 'Allow', Principal: { AWS: bob }, Action: 'secretsmanager:GetSecretValue', Resource: '*' });

  it('needs both the resource policy and the caller’s own identity policy', () => {
    assert.equal(checkAccess(user(bob, [bobReads]), secretRequest(SECRET, { resourcePolicy: sharedWithBob }), facts).allowed, true);
    assert.equal(checkAccess(user(bob, []), secretRequest(SECRET, { resourcePolicy: sharedWithBob }), facts).allowed, false);
    assert.deepEqual(checkAccess(user(bob, [bobReads]), secretRequest(SECRET), facts), { allowed: false, reason: 'ImplicitDeny', deniedBy: 'resource-based' });
  });

  it('the root of another account has no rights on this account’s resources', () => {
    assert.equal(checkAccess(root('222222222222'), secretRequest(SECRET), facts).allowed, false);
  });
});

describe('checkAccess for KMS keys', () => {
  const keyRequest = (extra: Partial<AccessRequest> = {}): AccessRequest => ({
    action: 'kms:Decrypt',
    resource: KEY,
    resourceAccount: '111111111111',
    resourceKind: 'key-policy',
    ...extra,
  });
  const defaultPolicy = policy({ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' });
  const aliceMayDecrypt = policy({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' });

  it('the default key policy delegates to IAM: the identity policy decides', () => {
    assert.equal(checkAccess(user(ALICE, [aliceMayDecrypt]), keyRequest({ resourcePolicy: defaultPolicy }), facts).allowed, true);
    assert.equal(checkAccess(user(ALICE, []), keyRequest({ resourcePolicy: defaultPolicy }), facts).allowed, false);
    assert.equal(checkAccess(root('111111111111'), keyRequest({ resourcePolicy: defaultPolicy }), facts).allowed, true);
  });

  it('a key policy that names neither the account nor the caller refuses even IAM-allowed callers', () => {
    const onlyCarol = policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:user/carol' }, Action: 'kms:*', Resource: '*' });
    assert.deepEqual(checkAccess(user(ALICE, [aliceMayDecrypt]), keyRequest({ resourcePolicy: onlyCarol }), facts), {
      allowed: false,
      reason: 'ImplicitDeny',
      deniedBy: 'resource-based',
    });
    assert.equal(checkAccess(root('111111111111'), keyRequest({ resourcePolicy: onlyCarol }), facts).allowed, false);
  });

  it('a grant allows on its own, but never past an explicit deny', () => {
    const onlyCarol = policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:user/carol' }, Action: 'kms:*', Resource: '*' });
    assert.equal(checkAccess(user(ALICE, []), keyRequest({ resourcePolicy: onlyCarol, allowedByGrant: true }), facts).allowed, true);
    const denyAlice = policy({ Effect: 'Deny', Principal: { AWS: ALICE }, Action: 'kms:*', Resource: '*' });
    assert.equal(checkAccess(user(ALICE, []), keyRequest({ resourcePolicy: denyAlice, allowedByGrant: true }), facts).allowed, false);
  });

  it('kms:ViaService and kms:CallerAccount come from the request facts', () => {
    const managed = policy({
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': '111111111111', 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
    });
    const via = { ...facts, viaService: 'secretsmanager.us-east-1.amazonaws.com' };
    assert.equal(checkAccess(user(ALICE, []), keyRequest({ resourcePolicy: managed }), via).allowed, true);
    assert.equal(checkAccess(user(ALICE, []), keyRequest({ resourcePolicy: managed }), facts).allowed, false);
    const outsider = user('arn:aws:iam::222222222222:user/bob', [aliceMayDecrypt]);
    assert.equal(checkAccess(outsider, keyRequest({ resourcePolicy: managed }), via).allowed, false);
  });
});

describe('accessDeniedMessage', () => {
  it('names the principal, action and resource in AWS’s words', () => {
    const request = secretRequest(OTHER_SECRET);
    assert.equal(
      accessDeniedMessage(ALICE, request, { allowed: false, reason: 'ImplicitDeny', deniedBy: 'identity-based' }),
      `User: ${ALICE} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${OTHER_SECRET} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    assert.equal(
      accessDeniedMessage(ALICE, request, { allowed: false, reason: 'ExplicitDeny', deniedBy: 'resource-based' }),
      `User: ${ALICE} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${OTHER_SECRET} with an explicit deny in a resource-based policy`,
    );
  });
});

describe('createAuthorizer and costly condition keys', () => {
  const ctx = (arn: string) => ({
    requestId: 'r-1',
    principal: { accountId: arn.split(':')[4]!, arn, accessKeyId: 'AKIAEXAMPLE' },
    region: 'us-east-1',
    clock: { now: () => facts.currentTime },
    access: { checks: 0 },
  });
  const tagged = (loads: { count: number }, tags: Record<string, string>) => ({
    keyPrefixes: ['aws:resourcetag/'],
    load: async () => {
      loads.count += 1;
      return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
    },
  });

  it('loads them only when a policy tests one of them, and decides with them', async () => {
    const byTag = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } });
    const identities = new Map<string, PrincipalPolicies>([
      [ALICE, user(ALICE, [readProd])],
      ['arn:aws:iam::111111111111:user/tagged', user('arn:aws:iam::111111111111:user/tagged', [byTag])],
    ]);
    const authorizer = createAuthorizer({ policiesFor: async ({ arn }) => identities.get(arn)! });

    const loads = { count: 0 };
    await authorizer.authorize(ctx(ALICE), { ...secretRequest(SECRET), costlyContext: tagged(loads, { env: 'prod' }) });
    assert.equal(loads.count, 0, 'a policy without conditions needs no tags');

    const taggedUser = 'arn:aws:iam::111111111111:user/tagged';
    await authorizer.authorize(ctx(taggedUser), { ...secretRequest(OTHER_SECRET), costlyContext: tagged(loads, { env: 'prod' }) });
    assert.equal(loads.count, 1);
    await assert.rejects(
      authorizer.authorize(ctx(taggedUser), { ...secretRequest(OTHER_SECRET), costlyContext: tagged(loads, { env: 'dev' }) }),
      (error: Error & { code?: string }) => error.message.includes('is not authorized to perform: secretsmanager:GetSecretValue'),
    );
    assert.equal(loads.count, 2);
  });
});

/** A call of ALICE's with its own access ledger (the identity the authorizer keeps shows on it). */
const callWithLedger = () => ({
  requestId: 'r-1',
  principal: { accountId: '111111111111', arn: ALICE, accessKeyId: 'AKIAEXAMPLE' },
  region: 'us-east-1',
  clock: { now: () => facts.currentTime },
  access: { checks: 0 } as { checks: number; identity?: unknown },
});

describe('createAuthorizer: the identity answered with or without a promise', () => {
  it('decides alike, loads the identity once per call and keeps it on the ledger, either way', async () => {
    for (const answer of ['plain', 'promise'] as const) {
      let loads = 0;
      const alice = user(ALICE, [readProd]);
      const authorizer = createAuthorizer({
        policiesFor: () => {
          loads += 1;
          return answer === 'plain' ? alice : Promise.resolve(alice);
        },
      });
      const call = callWithLedger();
      await authorizer.authorize(call, secretRequest(SECRET));
      assert.equal(call.access.identity, alice, answer);
      await assert.rejects(authorizer.authorize(call, secretRequest(OTHER_SECRET)), /is not authorized to perform/, answer);
      assert.equal(loads, 1, answer);
      assert.equal(call.access.checks, 2, answer);
    }
  });
});

describe('createAuthorizer: every answer is a promise', () => {
  const byTag = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } });

  it('a check decided at once is counted before authorize returns, and its refusal is a rejection, never a throw', async () => {
    const authorizer = createAuthorizer({ policiesFor: () => user(ALICE, [readProd]) });
    const call = callWithLedger();
    const allowed = authorizer.authorize(call, secretRequest(SECRET));
    assert.ok(allowed instanceof Promise);
    assert.equal(call.access.checks, 1, 'decided in the call, as the async function did before its first await');
    await allowed;
    let refused: Promise<void> | undefined;
    assert.doesNotThrow(() => (refused = authorizer.authorize(call, secretRequest(OTHER_SECRET))));
    await assert.rejects(refused!, /is not authorized to perform: secretsmanager:GetSecretValue/);
    assert.equal(call.access.checks, 2);
  });

  it('an identity source that throws, and costly keys of a known identity, are answered as promises too', async () => {
    const failing = createAuthorizer({
      policiesFor: () => {
        throw new Error('identity store down');
      },
    });
    let answer: Promise<void> | undefined;
    assert.doesNotThrow(() => (answer = failing.authorize(callWithLedger(), secretRequest(SECRET))));
    await assert.rejects(answer!, /identity store down/);

    const tagged = createAuthorizer({ policiesFor: () => user(ALICE, [byTag]) });
    const loads = { count: 0 };
    const costlyContext = { keyPrefixes: ['aws:resourcetag/'], load: async () => ((loads.count += 1), { 'aws:ResourceTag/env': 'prod' }) };
    await tagged.authorize(callWithLedger(), { ...secretRequest(OTHER_SECRET), costlyContext });
    assert.equal(loads.count, 1, 'the tags were loaded and allowed the call');
    const devTags = { ...costlyContext, load: async () => ({ 'aws:ResourceTag/env': 'dev' }) };
    await assert.rejects(tagged.authorize(callWithLedger(), { ...secretRequest(OTHER_SECRET), costlyContext: devTags }), /is not authorized to perform/);
  });
});

describe('createAuthorizer: costly condition keys follow the policies in play', () => {
  const TAGGED = 'arn:aws:iam::111111111111:user/tagged';
  const PREFIXES = ['aws:resourcetag/'];
  const byTag = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } });

  function counted(now: Date) {
    const reads = { clock: 0, tags: 0 };
    const ctx = (arn: string) => ({
      requestId: 'r-1',
      principal: { accountId: '111111111111', arn, accessKeyId: 'AKIAEXAMPLE' },
      region: 'us-east-1',
      clock: { now: () => ((reads.clock += 1), now) },
      access: { checks: 0 },
    });
    const costlyContext = {
      keyPrefixes: PREFIXES,
      load: async () => ((reads.tags += 1), { 'aws:ResourceTag/env': 'prod' }),
    };
    return { reads, ctx, costlyContext };
  }

  it('follows a change of the policies in play at once: the costly keys are loaded exactly while a policy tests them', async () => {
    const identities = new Map<string, PrincipalPolicies>([[TAGGED, user(TAGGED, [readProd])]]);
    const authorizer = createAuthorizer({ policiesFor: async ({ arn }) => identities.get(arn)! });
    const check = async (extra: Partial<AccessRequest> = {}, keyPrefixes = PREFIXES) => {
      const call = counted(facts.currentTime);
      const costlyContext = { ...call.costlyContext, keyPrefixes };
      await authorizer.authorize(call.ctx(TAGGED), { ...secretRequest(OTHER_SECRET), costlyContext, ...extra }).catch(() => undefined);
      return call.reads.tags;
    };
    assert.equal(await check(), 0);
    identities.set(TAGGED, user(TAGGED, [readProd, byTag]));
    assert.equal(await check(), 1, 'an identity policy now tests a tag');
    identities.set(TAGGED, user(TAGGED, [readProd]));
    assert.equal(await check(), 0, 'and no longer does');
    assert.equal(await check({ resourcePolicy: byTag }), 1, 'a resource policy that tests one');
    identities.set(TAGGED, { ...user(TAGGED, [readProd]), permissionsBoundary: [byTag] });
    assert.equal(await check(), 1, 'a permissions boundary that tests one');
    identities.set(TAGGED, { ...user(TAGGED, [readProd]), sessionPolicies: [byTag] });
    assert.equal(await check(), 1, 'a session policy that tests one');
    assert.equal(await check({}, ['secretsmanager:resourcetag/']), 0, 'keys of another prefix are not loaded for it');
  });
});

describe('createAuthorizer and a resource named by the request', () => {
  const BOB = 'arn:aws:iam::111111111111:user/bob';
  const named = { resource: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/myapp/db', resourceAccount: '111111111111', shownAs: 'prod/myapp/db' };
  const denyAll = policy({ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*' });
  const identities = new Map<string, PrincipalPolicies>([
    [ALICE, user(ALICE, [readProd])],
    [BOB, user(BOB, [])],
  ]);
  const authorizer = createAuthorizer({ policiesFor: async ({ arn }) => identities.get(arn)! });
  const ctx = (arn: string) => ({
    requestId: 'r-1',
    principal: { accountId: '111111111111', arn, accessKeyId: 'AKIAEXAMPLE' },
    region: 'us-east-1',
    clock: { now: () => facts.currentTime },
    access: { checks: 0 } as { checks: number; resources?: Array<{ arn: string; accountId: string }> },
  });
  const refusal = async (arn: string, request: AccessRequest) => {
    const call = ctx(arn);
    const error = await authorizer.authorize(call, request).then(() => undefined, (thrown: Error) => thrown);
    return { message: error?.message, resources: call.access.resources };
  };

  it('refuses a caller whose policies do not cover the name exactly as a resource that is not there', async () => {
    const existing = await refusal(BOB, { ...secretRequest(SECRET), resourcePolicy: denyAll, named });
    const missing = await refusal(BOB, { action: 'secretsmanager:GetSecretValue', resource: named.resource, resourceAccount: named.resourceAccount, named });
    assert.equal(existing.message, missing.message);
    assert.equal(
      existing.message,
      `User: ${BOB} is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/myapp/db because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    // The audit names the refused resource by the ARN formed from the request, never the resolved one.
    assert.deepEqual(existing.resources, [{ arn: named.resource, accountId: '111111111111' }]);
  });

  it("tells a caller allowed on the name the resource's own reason, still naming it as given", async () => {
    const { message } = await refusal(ALICE, { ...secretRequest(SECRET), resourcePolicy: denyAll, named });
    assert.equal(message, `User: ${ALICE} is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/myapp/db with an explicit deny in a resource-based policy`);
  });
});

describe('checkAccess for a role session with session policies', () => {
  const ROLE = 'arn:aws:iam::111111111111:role/app';
  const SESSION = 'arn:aws:sts::111111111111:assumed-role/app/job';
  const readAll = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' });

  function session(policies: CompiledPolicy[], sessionPolicies?: CompiledPolicy[]): PrincipalPolicies {
    return { principal: { arn: SESSION, accountId: '111111111111', roleArn: ROLE }, unrestricted: false, policies, tags: {}, ...(sessionPolicies ? { sessionPolicies } : {}) };
  }
  const grantTo = (principal: string) => policy({ Effect: 'Allow', Principal: { AWS: principal }, Action: 'secretsmanager:GetSecretValue', Resource: '*' });

  it('allow only what both the role’s policies and the session policies allow', () => {
    assert.equal(checkAccess(session([readAll], [readProd]), secretRequest(SECRET), facts).allowed, true);
    assert.deepEqual(checkAccess(session([readAll], [readProd]), secretRequest(OTHER_SECRET), facts), { allowed: false, reason: 'ImplicitDeny', deniedBy: 'session' });
    // A session policy grants nothing by itself.
    assert.deepEqual(checkAccess(session([], [readAll]), secretRequest(SECRET), facts), { allowed: false, reason: 'ImplicitDeny', deniedBy: 'identity-based' });
    // An empty list (a managed session policy that cannot be read) allows nothing.
    assert.equal(checkAccess(session([readAll], []), secretRequest(SECRET), facts).allowed, false);
  });

  it('an explicit Deny in a session policy denies, named as such', () => {
    const denyProd = policy([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:prod/*' },
    ]);
    const decision = checkAccess(session([readAll], [denyProd]), secretRequest(SECRET), facts);
    assert.deepEqual(decision, { allowed: false, reason: 'ExplicitDeny', deniedBy: 'session' });
    assert.match(accessDeniedMessage(SESSION, secretRequest(SECRET), decision), /with an explicit deny in a session policy$/);
  });

  it('a resource policy naming the session ARN is not limited by them; one naming the role, its account or * is', () => {
    const limited = session([], [readProd]);
    assert.equal(checkAccess(limited, secretRequest(OTHER_SECRET, { resourcePolicy: grantTo(SESSION) }), facts).allowed, true);
    for (const principal of [ROLE, '111111111111', '*']) {
      assert.deepEqual(checkAccess(limited, secretRequest(OTHER_SECRET, { resourcePolicy: grantTo(principal) }), facts), {
        allowed: false,
        reason: 'ImplicitDeny',
        deniedBy: 'session',
      }, principal);
      // Without session policies the same resource policy allows (through the account only with an identity policy).
      assert.equal(checkAccess(session([readAll]), secretRequest(OTHER_SECRET, { resourcePolicy: grantTo(principal) }), facts).allowed, true, principal);
    }
  });

  it('a key policy met on the session’s behalf by a service is not limited by them; a grant is', () => {
    const keyPolicy = policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' });
    const request: AccessRequest = { action: 'kms:Decrypt', resource: KEY, resourceAccount: '111111111111', resourcePolicy: keyPolicy, resourceKind: 'key-policy' };
    const limited = session([], [readProd]);
    assert.equal(checkAccess(limited, request, { ...facts, viaService: 'secretsmanager.us-east-1.amazonaws.com' }).allowed, true);
    assert.equal(checkAccess(limited, request, facts).allowed, false);
    assert.equal(checkAccess(limited, { ...request, resourcePolicy: undefined, allowedByGrant: true }, facts).allowed, false);
    assert.equal(checkAccess(session([]), { ...request, resourcePolicy: undefined, allowedByGrant: true }, facts).allowed, true);
  });

  it('aws:SourceIdentity is the session’s source identity, absent without one', () => {
    const denyMallory = policy([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': 'mallory' } } },
    ]);
    assert.equal(checkAccess({ ...session([denyMallory]), sourceIdentity: 'mallory' }, secretRequest(SECRET), facts).allowed, false);
    assert.equal(checkAccess({ ...session([denyMallory]), sourceIdentity: 'alice' }, secretRequest(SECRET), facts).allowed, true);
    assert.equal(checkAccess(session([denyMallory]), secretRequest(SECRET), facts).allowed, true);
  });
});
