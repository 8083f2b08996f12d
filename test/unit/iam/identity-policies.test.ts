/**
 * The identity source with a session's attributes: session tags stand in for the role's tags of the same key,
 * session policies are compiled (managed ones read through the optional port, failing closed), and the source
 * identity is carried for aws:SourceIdentity. Works the same for any session, whichever call made it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIdentityPolicySource, type StoredIdentity } from '../../../src/iam/index.js';
import { CompiledPolicyCache } from '../../../src/policy/index.js';

const ACCOUNT = '111111111111';
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/app/job`;
const MANAGED = `arn:aws:iam::${ACCOUNT}:policy/narrow`;
const document = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });
const role: StoredIdentity = { id: 'AROAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:role/app`, policyDocuments: [document('*')], tags: { Team: 'red', env: 'prod' } };
const lookup = async (_account: string, kind: 'user' | 'role') => (kind === 'role' ? role : undefined);

describe('identity source: session attributes', () => {
  it('session tags replace the role’s tag of the same key, compared case-insensitively; other role tags stay', async () => {
    const source = createIdentityPolicySource(lookup, new CompiledPolicyCache());
    const identity = await source.policiesFor({ arn: SESSION, accountId: ACCOUNT, session: { tags: [{ Key: 'team', Value: 'blue' }, { Key: 'cost', Value: '7' }] } });
    assert.deepEqual(identity.tags, { env: 'prod', team: 'blue', cost: '7' });
    assert.equal(identity.sessionPolicies, undefined);
    assert.equal((await source.policiesFor({ arn: SESSION, accountId: ACCOUNT })).tags, role.tags);
  });

  it('session policies: inline and managed through the port; without the port or the policy, nothing is allowed', async () => {
    const withPort = createIdentityPolicySource(lookup, new CompiledPolicyCache(), {
      managedPolicyDocument: async (arn) => (arn === MANAGED ? document('secretsmanager:GetSecretValue') : undefined),
    });
    const both = await withPort.policiesFor({ arn: SESSION, accountId: ACCOUNT, session: { policy: document('kms:Decrypt'), policyArns: [MANAGED], sourceIdentity: 'alice' } });
    assert.equal(both.sessionPolicies?.length, 2);
    assert.equal(both.sourceIdentity, 'alice');
    const gone = await withPort.policiesFor({ arn: SESSION, accountId: ACCOUNT, session: { policy: document('kms:Decrypt'), policyArns: [`${MANAGED}-deleted`] } });
    assert.deepEqual(gone.sessionPolicies, []);
    const withoutPort = createIdentityPolicySource(lookup, new CompiledPolicyCache());
    assert.deepEqual((await withoutPort.policiesFor({ arn: SESSION, accountId: ACCOUNT, session: { policyArns: [MANAGED] } })).sessionPolicies, []);
  });
});

describe('identity source: policy labels for simulation', () => {
  it("a user's own inline policies are labelled user, its groups' group, attached ones by who manages them", async () => {
    const user: StoredIdentity = {
      id: 'AIDAEXAMPLE',
      arn: `arn:aws:iam::${ACCOUNT}:user/ann`,
      policyDocuments: [document('kms:Decrypt'), document('kms:Encrypt')],
      policyNames: ['own', 'shared'],
      policyOwners: ['principal', 'group'],
      managedPolicies: [{ arn: MANAGED, document: document('kms:Sign') }, { arn: 'arn:aws:iam::aws:policy/AdministratorAccess' }],
      tags: {},
    };
    const source = createIdentityPolicySource(async (_account, kind) => (kind === 'user' ? user : undefined), new CompiledPolicyCache());
    const identity = await source.policiesFor({ arn: user.arn, accountId: ACCOUNT });
    assert.deepEqual(
      identity.sources?.map((labelled) => [labelled.id, labelled.type]),
      [
        ['own', 'user'],
        ['shared', 'group'],
        [MANAGED, 'user-managed'],
        ['arn:aws:iam::aws:policy/AdministratorAccess', 'aws-managed'],
      ],
    );
  });
});

describe('identity source: what needs no read', () => {
  const USER = `arn:aws:iam::${ACCOUNT}:user/alice`;
  const ROOT = `arn:aws:iam::${ACCOUNT}:root`;

  it('answers the account root without a promise and without a lookup, unrestricted in its own account', () => {
    let lookups = 0;
    const source = createIdentityPolicySource(async () => {
      lookups += 1;
      return undefined;
    }, new CompiledPolicyCache());
    const root = source.policiesFor({ arn: ROOT, accountId: ACCOUNT });
    assert.equal(root instanceof Promise, false);
    assert.deepEqual(root, { principal: { arn: ROOT, accountId: ACCOUNT }, unrestricted: true, policies: [], tags: {}, principalType: 'Account', userId: ACCOUNT });
    assert.equal(lookups, 0);
    // Another account's root ARN is not this account's root: no policies, nothing unrestricted.
    const other = source.policiesFor({ arn: 'arn:aws:iam::222222222222:root', accountId: ACCOUNT });
    assert.equal((other as { unrestricted: boolean }).unrestricted, false);
  });

  it('reads a user or a role session from the store (a promise), and a root session through its attributes', async () => {
    const source = createIdentityPolicySource(lookup, new CompiledPolicyCache());
    const user = source.policiesFor({ arn: USER, accountId: ACCOUNT });
    assert.equal(user instanceof Promise, true);
    assert.equal((await user).principalType, 'User');
    const session = source.policiesFor({ arn: SESSION, accountId: ACCOUNT });
    assert.equal(session instanceof Promise, true);
    assert.equal((await session).userId, 'AROAEXAMPLE:job');
    const rootWithSession = await source.policiesFor({ arn: ROOT, accountId: ACCOUNT, session: { sourceIdentity: 'ops' } });
    assert.equal(rootWithSession.sourceIdentity, 'ops');
    assert.equal(rootWithSession.unrestricted, true);
  });
});
