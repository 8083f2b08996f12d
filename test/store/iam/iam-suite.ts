import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import type { IamRepository, IamRoleRecord, IamUserRecord } from '../../../src/store/index.js';
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
      });
      assert.equal(await store.getIamIdentity(ACCOUNT, 'user', 'runner'), undefined);
      assert.equal(await store.tagIamPrincipal(ACCOUNT, 'role', 'runner', [{ Key: 'b', Value: '2' }], 2), 'tagged');
      assert.equal(await store.tagIamPrincipal(ACCOUNT, 'role', 'runner', [{ Key: 'c', Value: '3' }], 2), 'limit-exceeded');
      assert.equal(await store.deleteIamRole(ACCOUNT, 'runner'), 'has-policies');
    });
  });
}
