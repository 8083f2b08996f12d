import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import type { IamGroupRecord, IamRepository, IamRoleRecord, IamUserRecord, ManagedPolicyRecord } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';

const ACCOUNT = '111111111111';

function user(name: string, userId = `AIDA${randomBytes(8).toString('hex').toUpperCase()}`): IamUserRecord {
  return { accountId: ACCOUNT, userName: name, userId, arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, path: '/', createdAt: new Date(1_700_000_000_000), tags: [] };
}

function role(name: string): IamRoleRecord {
  return {
    accountId: ACCOUNT,
    roleName: name,
    roleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}`,
    arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    path: '/',
    assumeRolePolicyDocument: '{"Statement":[]}',
    maxSessionDurationSeconds: 3600,
    createdAt: new Date(1_700_000_000_000),
    tags: [{ Key: 'a', Value: '1' }],
  };
}

function managedPolicy(name: string, accountId = ACCOUNT): ManagedPolicyRecord {
  return {
    accountId,
    policyName: name,
    policyId: `ANPA${randomBytes(8).toString('hex').toUpperCase()}`,
    arn: `arn:aws:iam::${accountId}:policy/${name}`,
    path: '/',
    createdAt: new Date(1_700_000_000_000),
    updatedAt: new Date(1_700_000_000_000),
    defaultVersionId: 'v1',
    tags: [],
  };
}

function group(name: string, path = '/'): IamGroupRecord {
  return {
    accountId: ACCOUNT,
    groupName: name,
    groupId: `AGPA${randomBytes(8).toString('hex').toUpperCase()}`,
    arn: `arn:aws:iam::${ACCOUNT}:group${path}${name}`,
    path,
    createdAt: new Date(1_700_000_000_000),
  };
}

function userKey(userId: string, accessKeyId: string) {
  return { accessKeyId, accountId: ACCOUNT, principalArn: 'arn:any', userId, sealedSecret: randomBytes(40), createdAt: new Date(1_700_000_000_000) };
}

/**
 * The conformance suite of IamRepository, which every backend passes: access keys (insert-or-nothing, expiry),
 * uniqueness of accounts and names, conflicts on delete, key limits, and what goes with a user.
 */
export function runIamRepositorySuite(backend: string, open: OpenRepositories<IamRepository>): void {
  describeRepository<IamRepository>('IamRepository', backend, open, (opened) => {
    let store: IamRepository;
    beforeEach(() => {
      store = opened();
    });

    it('insertAccessKey is insert-or-nothing', async () => {
      const record = { accessKeyId: 'AKIATEST', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root', sealedSecret: randomBytes(40), createdAt: new Date(1_700_000_000_000), expiresAt: undefined };
      assert.equal(await store.insertAccessKey(record), true);
      assert.equal(await store.insertAccessKey({ ...record, accountId: '222222222222' }), false);
      assert.deepEqual(await store.getAccessKey('AKIATEST'), { ...record, status: 'Active', userId: undefined, sessionTokenHash: undefined, session: undefined });
      assert.equal(await store.getAccessKey('AKIAOTHER'), undefined);
    });

    it('a session key keeps its session attributes (policies, tags, source identity, web identity) as given', async () => {
      const session = {
        policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}',
        policyArns: ['arn:aws:iam::111111111111:policy/narrow'],
        tags: [{ Key: 'team', Value: 'blue ünïcode' }, { Key: 'Project', Value: '' }],
        transitiveTagKeys: ['team'],
        sourceIdentity: 'alice@example.com',
        webIdentity: { providerArn: 'arn:aws:iam::111111111111:oidc-provider/issuer.example', subject: 's', audience: 'a', issuer: 'https://issuer.example', amr: ['x'] },
      };
      const record = {
        accessKeyId: 'ASIASESSION',
        accountId: ACCOUNT,
        principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/s`,
        sealedSecret: randomBytes(40),
        createdAt: new Date(1_700_000_000_000),
        expiresAt: new Date(1_700_000_900_000),
        sessionTokenHash: 'ab'.repeat(32),
        session,
      };
      assert.equal(await store.insertAccessKey(record), true);
      assert.deepEqual((await store.getAccessKey('ASIASESSION'))?.session, session);
      // A session without attributes (GetSessionToken) reads back without them.
      assert.equal(await store.insertAccessKey({ ...record, accessKeyId: 'ASIAPLAIN', session: undefined }), true);
      assert.equal((await store.getAccessKey('ASIAPLAIN'))?.session, undefined);
    });

    it('deleteExpiredAccessKeys removes only keys past their expiry', async () => {
      const base = { accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root', sealedSecret: randomBytes(40), createdAt: new Date(1_700_000_000_000) };
      await store.insertAccessKey({ ...base, accessKeyId: 'AKIAEXPIRING', expiresAt: new Date(1_700_000_060_000) });
      await store.insertAccessKey({ ...base, accessKeyId: 'AKIALASTING' });
      assert.equal(await store.deleteExpiredAccessKeys(new Date(1_700_000_059_999)), 0);
      assert.equal(await store.deleteExpiredAccessKeys(new Date(1_700_000_060_000)), 1);
      assert.equal(await store.getAccessKey('AKIAEXPIRING'), undefined);
      assert.ok(await store.getAccessKey('AKIALASTING'));
    });

    it('accounts and user names are unique (names case-insensitively, per account)', async () => {
      assert.equal(await store.createAccount('123412341234', new Date()), true);
      assert.equal(await store.createAccount('123412341234', new Date()), false);
      assert.equal(await store.createIamUser(user('Bob')), true);
      assert.equal(await store.createIamUser(user('BOB')), false);
      assert.equal(await store.createIamUser({ ...user('bob'), accountId: '222222222222' }), true);
      assert.equal((await store.getIamUser(ACCOUNT, 'bob'))?.userName, 'Bob');
    });

    it('a user key limit holds, and DeleteUser conflicts while keys or policies remain', async () => {
      const carol = user('carol');
      await store.createIamUser(carol);
      assert.equal(await store.insertUserAccessKey(userKey(carol.userId, 'AKIACAROL1'), 2), 'created');
      assert.equal(await store.insertUserAccessKey(userKey(carol.userId, 'AKIACAROL2'), 2), 'created');
      assert.equal(await store.insertUserAccessKey(userKey(carol.userId, 'AKIACAROL3'), 2), 'limit-exceeded');
      assert.equal(await store.insertUserAccessKey(userKey('AIDANOBODY', 'AKIANOBODY'), 2), 'no-such-user');
      assert.equal(await store.updateUserAccessKeyStatus(carol.userId, 'AKIACAROL1', 'Inactive'), true);
      assert.equal((await store.getAccessKey('AKIACAROL1'))?.status, 'Inactive');

      assert.equal(await store.putInlinePolicy(ACCOUNT, 'user', 'carol', { policyName: 'p', document: '{}' }), true);
      assert.equal(await store.deleteIamUser(ACCOUNT, 'carol'), 'has-access-keys');
      await store.deleteUserAccessKey(carol.userId, 'AKIACAROL1');
      await store.deleteUserAccessKey(carol.userId, 'AKIACAROL2');
      assert.equal(await store.deleteIamUser(ACCOUNT, 'carol'), 'has-policies');
      assert.equal(await store.deleteInlinePolicy(ACCOUNT, 'user', 'carol', 'P'), 'deleted');
      assert.equal(await store.deleteIamUser(ACCOUNT, 'carol'), 'deleted');
      assert.equal(await store.deleteIamUser(ACCOUNT, 'carol'), 'absent');
    });

    it('root keys are limited per account and deleted only as root keys', async () => {
      const rootKey = (id: string) => ({ accessKeyId: id, accountId: '333333333333', principalArn: 'arn:aws:iam::333333333333:root', sealedSecret: randomBytes(40), createdAt: new Date() });
      assert.equal(await store.insertRootAccessKey(rootKey('AKIAROOT1'), 2), true);
      assert.equal(await store.insertRootAccessKey(rootKey('AKIAROOT2'), 2), true);
      assert.equal(await store.insertRootAccessKey(rootKey('AKIAROOT3'), 2), false);
      assert.deepEqual((await store.listRootAccessKeys('333333333333')).map((key) => key.accessKeyId).sort(), ['AKIAROOT1', 'AKIAROOT2']);
      assert.equal(await store.deleteRootAccessKey('444444444444', 'AKIAROOT1'), false);
      assert.equal(await store.deleteRootAccessKey('333333333333', 'AKIAROOT1'), true);
    });

    it('inline policies replace by name and feed the identity record with the tags', async () => {
      const runner = role('runner');
      await store.createIamRole(runner);
      assert.equal(await store.putInlinePolicy(ACCOUNT, 'role', 'runner', { policyName: 'one', document: '{"v":1}' }), true);
      assert.equal(await store.putInlinePolicy(ACCOUNT, 'role', 'runner', { policyName: 'one', document: '{"v":2}' }), true);
      assert.equal(await store.putInlinePolicy(ACCOUNT, 'role', 'absent', { policyName: 'one', document: '{}' }), false);
      assert.deepEqual(await store.listInlinePolicyNames(ACCOUNT, 'role', 'runner'), ['one']);
      assert.deepEqual(await store.getIamIdentity(ACCOUNT, 'role', 'runner'), {
        id: runner.roleId,
        arn: `arn:aws:iam::${ACCOUNT}:role/runner`,
        policyDocuments: ['{"v":2}'],
        tags: { a: '1' },
        policyNames: ['one'],
        policyOwners: ['principal'],
        managedPolicies: [],
      });
      assert.equal(await store.getIamIdentity(ACCOUNT, 'user', 'runner'), undefined);
      assert.equal(await store.tagIamPrincipal(ACCOUNT, 'role', 'runner', [{ Key: 'b', Value: '2' }], 2), 'tagged');
      assert.equal(await store.tagIamPrincipal(ACCOUNT, 'role', 'runner', [{ Key: 'c', Value: '3' }], 2), 'limit-exceeded');
      assert.equal(await store.deleteIamRole(ACCOUNT, 'runner'), 'has-policies');
    });

    it('updateIamRole changes only what it is given and answers the role as updated', async () => {
      const changing = role('changing');
      await store.createIamRole({ ...changing, description: 'first' });
      const longer = await store.updateIamRole(ACCOUNT, 'CHANGING', { maxSessionDurationSeconds: 7200 });
      assert.equal(longer?.maxSessionDurationSeconds, 7200);
      assert.equal(longer?.description, 'first');
      const described = await store.updateIamRole(ACCOUNT, 'changing', { description: 'second' });
      assert.deepEqual(described, { ...changing, description: 'second', maxSessionDurationSeconds: 7200 });
      assert.deepEqual(await store.getIamRole(ACCOUNT, 'changing'), described);
      assert.equal(await store.updateIamRole(ACCOUNT, 'absent', { description: 'x' }), undefined);
    });

    it('renameIamUser moves name, path and ARN together; keys and policies follow; a taken name refuses', async () => {
      const mover = user('mover');
      await store.createIamUser(mover);
      await store.createIamUser(user('Taken'));
      await store.insertUserAccessKey({ ...userKey(mover.userId, 'AKIAMOVER'), principalArn: mover.arn }, 2);
      await store.putInlinePolicy(ACCOUNT, 'user', 'mover', { policyName: 'p', document: '{"v":1}' });
      const next = { userName: 'moved', path: '/team/', arn: `arn:aws:iam::${ACCOUNT}:user/team/moved` };
      assert.equal(await store.renameIamUser(ACCOUNT, 'mover', { ...next, userName: 'taken' }), 'name-taken');
      assert.equal(await store.renameIamUser(ACCOUNT, 'absent', next), 'absent');
      assert.equal(await store.renameIamUser(ACCOUNT, 'mover', next), 'updated');
      assert.equal(await store.getIamUser(ACCOUNT, 'mover'), undefined);
      assert.deepEqual(await store.getIamUser(ACCOUNT, 'moved'), { ...mover, ...next });
      assert.equal((await store.getAccessKey('AKIAMOVER'))?.principalArn, next.arn);
      assert.deepEqual(await store.listInlinePolicyNames(ACCOUNT, 'user', 'moved'), ['p']);
      // A change of case only is a rename onto itself, not a conflict.
      assert.equal(await store.renameIamUser(ACCOUNT, 'moved', { ...next, userName: 'Moved' }), 'updated');
    });

    it('managed policies: names unique per account, versions numbered and never reused, the 5-version limit, defaults', async () => {
      const policy = managedPolicy('Readers');
      assert.equal(await store.createManagedPolicy(policy, '{"v":1}'), true);
      assert.equal(await store.createManagedPolicy({ ...managedPolicy('READERS'), arn: `arn:aws:iam::${ACCOUNT}:policy/x/READERS` }, '{}'), false);
      assert.equal(await store.createManagedPolicy(managedPolicy('Readers', '999999999999'), '{}'), true);
      assert.deepEqual(await store.getManagedPolicy(policy.arn), { ...policy, description: undefined });
      assert.equal(await store.getManagedPolicyDocument(policy.arn), '{"v":1}');
      for (const n of [2, 3, 4, 5]) {
        assert.deepEqual(await store.createManagedPolicyVersion(policy.arn, `{"v":${n}}`, n === 3, new Date(1_700_000_000_000 + n), 5), { outcome: 'created', versionId: `v${n}` });
      }
      assert.deepEqual(await store.createManagedPolicyVersion(policy.arn, '{}', false, new Date(), 5), { outcome: 'limit-exceeded' });
      assert.equal(await store.getManagedPolicyDocument(policy.arn), '{"v":3}');
      assert.equal((await store.getManagedPolicy(policy.arn))?.updatedAt.getTime(), 1_700_000_000_003);
      assert.equal(await store.deleteManagedPolicyVersion(policy.arn, 'v3'), 'is-default');
      assert.equal(await store.deleteManagedPolicyVersion(policy.arn, 'v9'), 'no-version');
      assert.equal(await store.deleteManagedPolicyVersion(policy.arn, 'v5'), 'deleted');
      assert.deepEqual(await store.createManagedPolicyVersion(policy.arn, '{"v":6}', false, new Date(1_700_000_000_006), 5), { outcome: 'created', versionId: 'v6' });
      const versions = await store.listManagedPolicyVersions(policy.arn);
      assert.deepEqual(versions?.map((version) => [version.versionId, version.isDefaultVersion]), [['v6', false], ['v4', false], ['v3', true], ['v2', false], ['v1', false]]);
      assert.equal((await store.getManagedPolicyVersion(policy.arn, 'v2'))?.version?.document, '{"v":2}');
      assert.deepEqual(await store.getManagedPolicyVersion(policy.arn, 'v5'), { version: undefined });
      assert.equal(await store.getManagedPolicyVersion(`${policy.arn}x`, 'v1'), undefined);
      assert.equal(await store.setDefaultManagedPolicyVersion(policy.arn, 'v5', new Date()), 'no-version');
      assert.equal(await store.setDefaultManagedPolicyVersion(policy.arn, 'v6', new Date()), 'set');
      assert.equal(await store.getManagedPolicyDocument(policy.arn), '{"v":6}');
      assert.equal(await store.deleteManagedPolicy(policy.arn), 'has-versions');
      for (const version of ['v1', 'v2', 'v3', 'v4']) assert.equal(await store.deleteManagedPolicyVersion(policy.arn, version), 'deleted');
      assert.equal(await store.tagManagedPolicy(policy.arn, [{ Key: 'team', Value: 'a' }], 1), 'tagged');
      assert.equal(await store.tagManagedPolicy(policy.arn, [{ Key: 'other', Value: 'b' }], 1), 'limit-exceeded');
      assert.equal(await store.untagManagedPolicy(policy.arn, ['team']), true);
      assert.deepEqual((await store.listManagedPolicies(ACCOUNT, '/')).map((listed) => listed.policyName), ['Readers']);
      assert.equal(await store.deleteManagedPolicy(policy.arn), 'deleted');
      assert.equal(await store.getManagedPolicy(policy.arn), undefined);
      assert.equal(await store.deleteManagedPolicy(policy.arn), 'absent');
    });

    it('attachments and boundaries feed the identity record; attached policies block deletes', async () => {
      const reader = user('reader');
      await store.createIamUser({ ...reader, permissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/Bound` });
      assert.equal((await store.getIamUser(ACCOUNT, 'reader'))?.permissionsBoundary, `arn:aws:iam::${ACCOUNT}:policy/Bound`);
      const bound = managedPolicy('Bound');
      await store.createManagedPolicy(bound, '{"bound":1}');
      const attached = managedPolicy('Attached');
      await store.createManagedPolicy(attached, '{"attached":1}');
      const awsArn = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite';
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'reader', `arn:aws:iam::${ACCOUNT}:policy/Missing`, 10, true), 'no-policy');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'nobody', attached.arn, 10, true), 'no-entity');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'reader', attached.arn, 10, true), 'attached');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'reader', attached.arn, 1, true), 'attached');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'reader', awsArn, 1, false), 'limit-exceeded');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'reader', awsArn, 2, false), 'attached');
      assert.deepEqual(await store.listAttachedManagedPolicies(ACCOUNT, 'user', 'reader'), [awsArn, attached.arn].sort());
      assert.deepEqual(await store.getIamIdentity(ACCOUNT, 'user', 'reader'), {
        id: reader.userId,
        arn: reader.arn,
        policyDocuments: [],
        tags: {},
        policyNames: [],
        policyOwners: [],
        managedPolicies: [{ arn: awsArn }, { arn: attached.arn, document: '{"attached":1}' }].sort((a, b) => (a.arn < b.arn ? -1 : 1)),
        permissionsBoundary: { arn: bound.arn, document: '{"bound":1}' },
      });
      assert.deepEqual(await store.listPolicyEntities(ACCOUNT, attached.arn), [{ kind: 'user', name: 'reader', id: reader.userId, path: '/', usage: 'PermissionsPolicy' }]);
      assert.deepEqual(await store.listPolicyEntities(ACCOUNT, bound.arn), [{ kind: 'user', name: 'reader', id: reader.userId, path: '/', usage: 'PermissionsBoundary' }]);
      assert.deepEqual(
        (await store.listManagedPolicyUsage(ACCOUNT)).filter((usage) => [attached.arn, bound.arn].includes(usage.policyArn)),
        [
          { policyArn: attached.arn, attachmentCount: 1, permissionsBoundaryUsageCount: 0 },
          { policyArn: bound.arn, attachmentCount: 0, permissionsBoundaryUsageCount: 1 },
        ].sort((a, b) => (a.policyArn < b.policyArn ? -1 : 1)),
      );
      assert.equal(await store.deleteManagedPolicy(attached.arn), 'attached');
      assert.equal(await store.deleteIamUser(ACCOUNT, 'reader'), 'has-attached-policies');
      assert.equal(await store.detachManagedPolicy(ACCOUNT, 'user', 'reader', attached.arn), 'detached');
      assert.equal(await store.detachManagedPolicy(ACCOUNT, 'user', 'reader', attached.arn), 'not-attached');
      assert.equal(await store.detachManagedPolicy(ACCOUNT, 'user', 'reader', awsArn), 'detached');
      assert.equal(await store.setPermissionsBoundary(ACCOUNT, 'user', 'reader', undefined), true);
      assert.equal((await store.getIamUser(ACCOUNT, 'reader'))?.permissionsBoundary, undefined);
      assert.equal(await store.setPermissionsBoundary(ACCOUNT, 'role', 'nobody', bound.arn), false);
      assert.equal(await store.deleteIamUser(ACCOUNT, 'reader'), 'deleted');
      // A boundary whose policy is gone still names its ARN, without a document (it allows nothing).
      const bounded = role('bounded');
      await store.createIamRole({ ...bounded, permissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/Gone` });
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'role', 'bounded'))?.permissionsBoundary, { arn: `arn:aws:iam::${ACCOUNT}:policy/Gone` });
    });

    it('group names are unique case-insensitively per account, and the account limit holds', async () => {
      const admins = group('Admins', '/ops/');
      assert.equal(await store.createIamGroup(admins, 3), 'created');
      assert.equal(await store.createIamGroup(group('ADMINS'), 3), 'exists');
      assert.equal(await store.createIamGroup({ ...group('admins'), accountId: '222222222222', arn: 'arn:aws:iam::222222222222:group/admins' }, 3), 'created');
      assert.deepEqual(await store.getIamGroup(ACCOUNT, 'admins'), admins);
      assert.equal(await store.createIamGroup(group('Readers'), 3), 'created');
      assert.equal(await store.createIamGroup(group('Writers'), 3), 'created');
      assert.equal(await store.createIamGroup(group('Fourth'), 3), 'limit-exceeded');
      assert.equal(await store.getIamGroup(ACCOUNT, 'Fourth'), undefined);
      assert.deepEqual((await store.listIamGroups(ACCOUNT, '/')).map((found) => found.groupName), ['Admins', 'Readers', 'Writers']);
      assert.deepEqual((await store.listIamGroups(ACCOUNT, '/ops/')).map((found) => found.groupName), ['Admins']);
    });

    it("membership: add is idempotent, a user's group limit holds, remove says what was missing", async () => {
      await store.createIamUser(user('dave'));
      for (const name of ['g1', 'g2', 'g3']) await store.createIamGroup(group(name), 300);
      assert.equal(await store.addUserToGroup(ACCOUNT, 'g1', 'DAVE', 2), 'added');
      assert.equal(await store.addUserToGroup(ACCOUNT, 'g1', 'dave', 2), 'added');
      assert.equal(await store.addUserToGroup(ACCOUNT, 'g2', 'dave', 2), 'added');
      assert.equal(await store.addUserToGroup(ACCOUNT, 'g3', 'dave', 2), 'limit-exceeded');
      assert.equal(await store.addUserToGroup(ACCOUNT, 'nogroup', 'dave', 2), 'no-group');
      assert.equal(await store.addUserToGroup(ACCOUNT, 'g3', 'nobody', 2), 'no-user');
      assert.deepEqual((await store.listIamGroupsForUser(ACCOUNT, 'dave'))?.map((found) => found.groupName), ['g1', 'g2']);
      assert.equal(await store.listIamGroupsForUser(ACCOUNT, 'nobody'), undefined);
      assert.deepEqual((await store.getIamGroupWithMembers(ACCOUNT, 'G1'))?.members.map((member) => member.userName), ['dave']);
      assert.equal(await store.getIamGroupWithMembers(ACCOUNT, 'nogroup'), undefined);

      assert.equal(await store.deleteIamUser(ACCOUNT, 'dave'), 'in-groups');
      assert.equal(await store.deleteIamGroup(ACCOUNT, 'g1'), 'has-members');
      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'g3', 'dave'), 'not-member');
      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'nogroup', 'dave'), 'no-group');
      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'g1', 'nobody'), 'no-user');
      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'g1', 'dave'), 'removed');
      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'g2', 'dave'), 'removed');
      assert.equal(await store.deleteIamUser(ACCOUNT, 'dave'), 'deleted');
      assert.equal(await store.deleteIamGroup(ACCOUNT, 'g1'), 'deleted');
      assert.equal(await store.deleteIamGroup(ACCOUNT, 'g1'), 'absent');
    });

    it("a group's inline policies join its members' identity records, never a role's, and block DeleteGroup", async () => {
      const erin = user('erin');
      await store.createIamUser(erin);
      await store.createIamRole(role('erin'));
      await store.createIamGroup(group('devs'), 300);
      assert.equal(await store.putInlinePolicy(ACCOUNT, 'user', 'erin', { policyName: 'own', document: '{"own":1}' }), true);
      assert.equal(await store.putInlinePolicy(ACCOUNT, 'group', 'devs', { policyName: 'shared', document: '{"group":1}' }), true);
      assert.equal(await store.putInlinePolicy(ACCOUNT, 'group', 'absent', { policyName: 'shared', document: '{}' }), false);
      assert.deepEqual(await store.listInlinePolicyNames(ACCOUNT, 'group', 'DEVS'), ['shared']);
      assert.deepEqual(await store.getInlinePolicy(ACCOUNT, 'group', 'devs', 'SHARED'), { policy: { policyName: 'shared', document: '{"group":1}' } });

      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'erin'))?.policyDocuments, ['{"own":1}']);
      await store.addUserToGroup(ACCOUNT, 'devs', 'erin', 10);
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'erin'))?.policyDocuments, ['{"own":1}', '{"group":1}']);
      // Each text says whose it is (policy simulation labels a group's as SourcePolicyType group).
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'erin'))?.policyOwners, ['principal', 'group']);
      assert.deepEqual(await store.listAttachedManagedPolicies(ACCOUNT, 'group', 'devs'), []);
      assert.equal(await store.listAttachedManagedPolicies(ACCOUNT, 'group', 'absent'), undefined);
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'role', 'erin'))?.policyDocuments, []);

      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'devs', 'erin'), 'removed');
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'erin'))?.policyDocuments, ['{"own":1}']);
      assert.equal(await store.deleteIamGroup(ACCOUNT, 'devs'), 'has-policies');
      assert.equal(await store.deleteInlinePolicy(ACCOUNT, 'group', 'devs', 'shared'), 'deleted');
      assert.equal(await store.deleteInlinePolicy(ACCOUNT, 'group', 'devs', 'shared'), 'no-policy');
      assert.equal(await store.deleteIamGroup(ACCOUNT, 'devs'), 'deleted');
    });

    it("managed policies attached to a group join its members' identity records (once each), never a role's, and block DeleteGroup", async () => {
      const gina = user('gina');
      await store.createIamUser(gina);
      await store.createIamRole(role('gina'));
      await store.createIamGroup(group('team-a'), 300);
      const teamB = group('team-b');
      await store.createIamGroup(teamB, 300);
      const shared = managedPolicy('Shared');
      await store.createManagedPolicy(shared, '{"shared":1}');
      const own = managedPolicy('Own');
      await store.createManagedPolicy(own, '{"own":1}');
      const awsArn = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite';

      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'group', 'nogroup', shared.arn, 10, true), 'no-entity');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'group', 'TEAM-A', shared.arn, 10, true), 'attached');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'group', 'team-a', awsArn, 1, false), 'limit-exceeded');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'group', 'team-a', awsArn, 2, false), 'attached');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'group', 'team-b', shared.arn, 10, true), 'attached');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'gina', own.arn, 10, true), 'attached');
      assert.equal(await store.attachManagedPolicy(ACCOUNT, 'user', 'gina', shared.arn, 10, true), 'attached');
      assert.deepEqual(await store.listAttachedManagedPolicies(ACCOUNT, 'group', 'team-a'), [awsArn, shared.arn].sort());
      assert.equal(await store.listAttachedManagedPolicies(ACCOUNT, 'group', 'nogroup'), undefined);

      const ownOnly = [{ arn: own.arn, document: '{"own":1}' }, { arn: shared.arn, document: '{"shared":1}' }].sort((a, b) => (a.arn < b.arn ? -1 : 1));
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'gina'))?.managedPolicies, ownOnly);
      await store.addUserToGroup(ACCOUNT, 'team-a', 'gina', 10);
      await store.addUserToGroup(ACCOUNT, 'team-b', 'gina', 10);
      // The user's own attachments first, then its groups' (AWS managed without a document); Shared, attached to the
      // user and both groups, is listed once.
      assert.deepEqual(await store.getIamIdentity(ACCOUNT, 'user', 'gina'), {
        id: gina.userId,
        arn: gina.arn,
        policyDocuments: [],
        tags: {},
        policyNames: [],
        policyOwners: [],
        managedPolicies: [...ownOnly, { arn: awsArn }],
      });
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'role', 'gina'))?.managedPolicies, []);
      assert.equal(await store.detachManagedPolicy(ACCOUNT, 'user', 'gina', shared.arn), 'detached');
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'gina'))?.managedPolicies.map((managed) => managed.arn).sort(), [awsArn, own.arn, shared.arn].sort());

      assert.deepEqual(
        (await store.listPolicyEntities(ACCOUNT, shared.arn)).filter((entity) => entity.kind === 'group').map((entity) => [entity.name, entity.id, entity.usage]),
        [['team-a', (await store.getIamGroup(ACCOUNT, 'team-a'))!.groupId, 'PermissionsPolicy'], ['team-b', teamB.groupId, 'PermissionsPolicy']],
      );
      assert.equal((await store.listManagedPolicyUsage(ACCOUNT)).find((usage) => usage.policyArn === shared.arn)?.attachmentCount, 2);

      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'team-a', 'gina'), 'removed');
      assert.equal(await store.removeUserFromGroup(ACCOUNT, 'team-b', 'gina'), 'removed');
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'gina'))?.managedPolicies, [{ arn: own.arn, document: '{"own":1}' }]);
      assert.equal(await store.deleteIamGroup(ACCOUNT, 'team-b'), 'has-attached-policies');
      assert.equal(await store.detachManagedPolicy(ACCOUNT, 'group', 'team-b', shared.arn), 'detached');
      assert.equal(await store.detachManagedPolicy(ACCOUNT, 'group', 'team-b', shared.arn), 'not-attached');
      assert.equal(await store.detachManagedPolicy(ACCOUNT, 'group', 'nogroup', shared.arn), 'no-entity');
      assert.equal(await store.deleteIamGroup(ACCOUNT, 'team-b'), 'deleted');
    });

    it('updateIamGroup renames and moves a group, keeping its id, members and policies', async () => {
      const ops = group('ops');
      await store.createIamGroup(ops, 300);
      await store.createIamGroup(group('other'), 300);
      await store.createIamUser(user('frank'));
      await store.addUserToGroup(ACCOUNT, 'ops', 'frank', 10);
      await store.putInlinePolicy(ACCOUNT, 'group', 'ops', { policyName: 'p', document: '{"p":1}' });

      assert.deepEqual(await store.updateIamGroup(ACCOUNT, 'ops', { newName: 'OTHER' }), { outcome: 'name-taken' });
      assert.deepEqual(await store.updateIamGroup(ACCOUNT, 'absent', { newName: 'x' }), { outcome: 'absent' });
      const renamed = await store.updateIamGroup(ACCOUNT, 'ops', { newName: 'platform', newPath: '/eng/' });
      const expected = { ...ops, groupName: 'platform', path: '/eng/', arn: `arn:aws:iam::${ACCOUNT}:group/eng/platform` };
      assert.deepEqual(renamed, { outcome: 'updated', group: expected });
      assert.deepEqual(await store.getIamGroup(ACCOUNT, 'platform'), expected);
      assert.equal(await store.getIamGroup(ACCOUNT, 'ops'), undefined);
      assert.deepEqual((await store.getIamGroupWithMembers(ACCOUNT, 'platform'))?.members.map((member) => member.userName), ['frank']);
      assert.deepEqual((await store.getIamIdentity(ACCOUNT, 'user', 'frank'))?.policyDocuments, ['{"p":1}']);
      // A change of case only is a rename to the group's own name.
      assert.equal((await store.updateIamGroup(ACCOUNT, 'platform', { newName: 'Platform' })).outcome, 'updated');
      assert.equal((await store.getIamGroup(ACCOUNT, 'platform'))?.arn, `arn:aws:iam::${ACCOUNT}:group/eng/Platform`);
    });
  });
}
