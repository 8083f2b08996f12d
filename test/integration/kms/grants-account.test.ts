import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateGrantCommand, CreateKeyCommand, DecryptCommand, EncryptCommand, RetireGrantCommand, type KMSClient } from '@aws-sdk/client-kms';
import { rejectsWith } from '../../helpers/kms.js';
import { assumeRole, createAccount, createRole, createUser, type Keys } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Grants whose GranteePrincipal or RetiringPrincipal is an account (its root ARN, which CreateGrant accepts:
 * "Valid principals include Amazon Web Services accounts"). Coffer reads such a grant as a key policy statement
 * naming the account: the root user is named directly; the account's users and role sessions use the grant when
 * their own IAM policies allow the operation on the key.
 */
describe('grants to an account', () => {
  let server: TestServer;
  let owner: { accountId: string; root: Keys };
  let keyAdmin: { arn: string; keys: Keys };
  let keyArn: string;

  const ALLOW = (actions: string[], resource = '*') => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] });
  const kmsAs = (keys: Keys): KMSClient => server.kms({ credentials: keys });
  const encrypt = (keys: Keys, keyId = keyArn) => kmsAs(keys).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('payload') }));

  /** A key whose policy names only its administrator, so no IAM policy of the account reaches it: only grants can. */
  async function keyOnlyItsAdminUses(): Promise<string> {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'admin-only', Effect: 'Allow', Principal: { AWS: keyAdmin.arn }, Action: 'kms:*', Resource: '*' }],
    };
    const created = await kmsAs(keyAdmin.keys).send(new CreateKeyCommand({ Policy: JSON.stringify(policy) }));
    return created.KeyMetadata!.Arn!;
  }

  before(async () => {
    server = await startTestServer({ devMode: false });
    owner = await createAccount(server);
    keyAdmin = await createUser(server, owner.root, 'key-admin', { policy: ALLOW(['kms:CreateKey']) });
    keyArn = await keyOnlyItsAdminUses();
  });
  after(async () => server.cleanup());

  it("a grant to the key's own account serves the root directly and users and role sessions with IAM permission", async () => {
    const app = await createUser(server, owner.root, 'app', { policy: ALLOW(['kms:Encrypt', 'kms:Decrypt']) });
    const bystander = await createUser(server, owner.root, 'bystander');
    const denier = await createUser(server, owner.root, 'denier', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }, { Effect: 'Deny', Action: 'kms:Encrypt', Resource: keyArn }] },
    });
    const role = await createRole(
      server,
      owner.root,
      'grant-account-role',
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${owner.accountId}:root` }, Action: 'sts:AssumeRole' }] },
      ALLOW(['kms:Encrypt']),
    );
    const session = await assumeRole(server, owner.root, role.arn, 'grant-account');

    // The key policy names only its administrator: IAM permission alone does not reach the key.
    await rejectsWith(encrypt(app.keys), 'AccessDeniedException');
    await rejectsWith(encrypt(owner.root), 'AccessDeniedException');

    await kmsAs(keyAdmin.keys).send(new CreateGrantCommand({ KeyId: keyArn, GranteePrincipal: `arn:aws:iam::${owner.accountId}:root`, Operations: ['Encrypt', 'Decrypt'] }));
    const sealed = await encrypt(app.keys);
    const opened = await kmsAs(app.keys).send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.equal(Buffer.from(opened.Plaintext!).toString(), 'payload');
    await encrypt(session);
    await encrypt(owner.root);
    // A principal of the account without IAM permission is not served; an explicit deny still wins.
    const refused = await rejectsWith(encrypt(bystander.keys), 'AccessDeniedException');
    assert.match(refused.message, new RegExp(`^User: ${bystander.arn} is not authorized to perform: kms:Encrypt`));
    await rejectsWith(encrypt(denier.keys), 'AccessDeniedException');
    // The grant's operations bound it: the role's IAM policy allows Encrypt only, the grant nothing else.
    await rejectsWith(kmsAs(session).send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })), 'AccessDeniedException');
  });

  it('a grant to another account serves its root and its users with IAM permission on the key', async () => {
    const partner = await createAccount(server);
    const partnerApp = await createUser(server, partner.root, 'partner-app', { policy: ALLOW(['kms:Encrypt'], keyArn) });
    const partnerOther = await createUser(server, partner.root, 'partner-other', { policy: ALLOW(['kms:Encrypt'], 'arn:aws:kms:*:*:key/not-this-one') });
    await rejectsWith(encrypt(partnerApp.keys), 'AccessDeniedException');

    await kmsAs(keyAdmin.keys).send(new CreateGrantCommand({ KeyId: keyArn, GranteePrincipal: `arn:aws:iam::${partner.accountId}:root`, Operations: ['Encrypt'] }));
    await encrypt(partnerApp.keys);
    await encrypt(partner.root);
    await rejectsWith(encrypt(partnerOther.keys), 'AccessDeniedException');
    // A grant to one account serves nobody of a third.
    const third = await createAccount(server);
    const thirdApp = await createUser(server, third.root, 'third-app', { policy: ALLOW(['kms:Encrypt']) });
    await rejectsWith(encrypt(thirdApp.keys), 'AccessDeniedException');
  });

  it('RetiringPrincipal an account: its users with kms:RetireGrant in their IAM policies retire the grant, others cannot', async () => {
    const retiree = await createUser(server, owner.root, 'grantee-of-retirable', { policy: ALLOW(['kms:Encrypt']) });
    const retirer = await createUser(server, owner.root, 'retirer', { policy: ALLOW(['kms:RetireGrant']) });
    const nobody = await createUser(server, owner.root, 'not-a-retirer');
    const otherKey = await keyOnlyItsAdminUses();
    const { GrantId } = await kmsAs(keyAdmin.keys).send(
      new CreateGrantCommand({ KeyId: otherKey, GranteePrincipal: retiree.arn, RetiringPrincipal: `arn:aws:iam::${owner.accountId}:root`, Operations: ['Encrypt'] }),
    );
    await encrypt(retiree.keys, otherKey);
    await rejectsWith(kmsAs(nobody.keys).send(new RetireGrantCommand({ KeyId: otherKey, GrantId })), 'AccessDeniedException');
    await kmsAs(retirer.keys).send(new RetireGrantCommand({ KeyId: otherKey, GrantId }));
    await rejectsWith(encrypt(retiree.keys, otherKey), 'AccessDeniedException');
  });
});
