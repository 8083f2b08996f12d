import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateGrantCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListGrantsCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { shellOk } from '../../helpers/aws-cli.js';
import { ManualClock } from '../../helpers/clock.js';
import { createKey, DAY_MS, rejectsWith, roundSecondNow } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ACCOUNT_ID = '000000000000';
const ROOT = `arn:aws:iam::${ACCOUNT_ID}:root`;
const RETIRER = `arn:aws:iam::${ACCOUNT_ID}:role/retirer`;

/**
 * A key whose policy lets the account root manage it but not use it for cryptography: the root (the only
 * principal before IAM users exist) can then use it only through a grant, which makes grants observable.
 */
const managementOnlyPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'manage-but-not-use',
      Effect: 'Allow',
      Principal: { AWS: ROOT },
      NotAction: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: '*',
    },
  ],
});

let server: TestServer;
let kms: KMSClient;
let clock: ManualClock;

before(async () => {
  clock = new ManualClock(roundSecondNow());
  server = await startTestServer({ clock });
  kms = server.kms();
});
after(async () => server.cleanup());

async function managementOnlyKey() {
  return createKey(kms, { Policy: managementOnlyPolicy });
}

function encrypt(keyId: string, context?: Record<string, string>, grantTokens?: string[]) {
  return kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('grant-protected'), EncryptionContext: context, GrantTokens: grantTokens }));
}

describe('CreateGrant', () => {
  it('lets the grantee use the key for the granted operations only', async () => {
    const key = await managementOnlyKey();
    await rejectsWith(encrypt(key.KeyId!), 'AccessDeniedException');
    const { GrantId, GrantToken } = await kms.send(
      new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt'] }),
    );
    assert.match(GrantId!, /^[0-9a-f]{64}$/);
    assert.ok(GrantToken && GrantToken.length > 20);
    const { CiphertextBlob } = await encrypt(key.KeyId!);
    // Decrypt was not granted.
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'AccessDeniedException');
  });

  it('a grant token is usable at once in GrantTokens; a malformed token is InvalidGrantTokenException', async () => {
    const key = await managementOnlyKey();
    const { GrantToken } = await kms.send(new CreateGrantCommand({ KeyId: key.Arn, GranteePrincipal: ROOT, Operations: ['Encrypt', 'Decrypt'] }));
    const { CiphertextBlob } = await encrypt(key.KeyId!, undefined, [GrantToken!]);
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob, GrantTokens: [GrantToken!] }));
    assert.equal(Buffer.from(Plaintext!).toString(), 'grant-protected');
    await rejectsWith(encrypt(key.KeyId!, undefined, ['not-a-grant-token']), 'InvalidGrantTokenException');
  });

  it('EncryptionContextSubset: the grantee may decrypt only when the request context includes the pairs', async () => {
    const key = await managementOnlyKey();
    await kms.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: ROOT,
        Operations: ['Encrypt', 'Decrypt', 'GenerateDataKey'],
        Constraints: { EncryptionContextSubset: { purpose: 'payroll' } },
      }),
    );
    const context = { purpose: 'payroll', run: '2026-11' };
    const { CiphertextBlob } = await encrypt(key.KeyId!, context);
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }));
    assert.equal(Buffer.from(Plaintext!).toString(), 'grant-protected');
    await rejectsWith(encrypt(key.KeyId!, { purpose: 'marketing' }), 'AccessDeniedException');
    await rejectsWith(encrypt(key.KeyId!), 'AccessDeniedException');
    await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: { purpose: 'payroll' } }));
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })), 'AccessDeniedException');
  });

  it('EncryptionContextEquals: the request context must be exactly the constraint', async () => {
    const key = await managementOnlyKey();
    await kms.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: ROOT,
        Operations: ['Encrypt'],
        Constraints: { EncryptionContextEquals: { purpose: 'payroll' } },
      }),
    );
    await encrypt(key.KeyId!, { purpose: 'payroll' });
    await rejectsWith(encrypt(key.KeyId!, { purpose: 'payroll', extra: 'pair' }), 'AccessDeniedException');
  });

  it('never overrides an explicit deny in the key policy', async () => {
    const key = await createKey(kms, {
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'root', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' },
          { Sid: 'no-encrypt', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*' },
        ],
      }),
    });
    await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt'] }));
    const denied = await rejectsWith(encrypt(key.KeyId!), 'AccessDeniedException');
    assert.match(denied.message, /explicit deny/);
  });

  it('with the same Name and parameters returns the same GrantId and a new token; other parameters make another grant', async () => {
    const key = await managementOnlyKey();
    const request = { KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Decrypt' as const, 'Encrypt' as const], Name: 'retry-safe' };
    const first = await kms.send(new CreateGrantCommand(request));
    const retry = await kms.send(new CreateGrantCommand({ ...request, Operations: ['Encrypt', 'Decrypt'] }));
    assert.equal(retry.GrantId, first.GrantId);
    assert.notEqual(retry.GrantToken, first.GrantToken);
    const other = await kms.send(new CreateGrantCommand({ ...request, Operations: ['Encrypt'] }));
    assert.notEqual(other.GrantId, first.GrantId);
    const unnamed = { KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt' as const] };
    const a = await kms.send(new CreateGrantCommand(unnamed));
    const b = await kms.send(new CreateGrantCommand(unnamed));
    assert.notEqual(a.GrantId, b.GrantId);
    const { Grants } = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }));
    assert.equal(Grants?.length, 4);
  });

  it('a grantee with CreateGrant in its grant may hand on no more than the grant holds', async () => {
    const key = await managementOnlyKey();
    await kms.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: ROOT,
        Operations: ['CreateGrant', 'Encrypt'],
        Constraints: { EncryptionContextSubset: { tenant: 'a' } },
      }),
    );
    // From now on the key policy no longer allows CreateGrant: only the grant does.
    const noGrantRights = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'manage-but-not-use-nor-grant',
          Effect: 'Allow',
          Principal: { AWS: ROOT },
          NotAction: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:CreateGrant'],
          Resource: '*',
        },
      ],
    });
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: noGrantRights }));

    const child = (operations: Array<'Encrypt' | 'Decrypt'>, constraints?: { EncryptionContextSubset?: Record<string, string> }) =>
      kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:role/child`, Operations: operations, Constraints: constraints }));
    await child(['Encrypt'], { EncryptionContextSubset: { tenant: 'a', region: 'eu' } });
    await rejectsWith(child(['Encrypt']), 'AccessDeniedException');
    await rejectsWith(child(['Encrypt', 'Decrypt'], { EncryptionContextSubset: { tenant: 'a' } }), 'AccessDeniedException');
    await rejectsWith(child(['Encrypt'], { EncryptionContextSubset: { tenant: 'b' } }), 'AccessDeniedException');
  });

  it('refuses operations a symmetric encryption key does not support with ValidationException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Sign'] })), 'ValidationException');
  });

  it('DryRun checks the request without creating the grant', async () => {
    const key = await createKey(kms);
    await rejectsWith(
      kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt'], DryRun: true })),
      'DryRunOperationException',
      412,
    );
    const { Grants } = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }));
    assert.deepEqual(Grants, []);
  });
});

describe('ListGrants and ListRetirableGrants', () => {
  it('list grants with the AWS GrantListEntry shape, filtered and paged', async () => {
    const key = await createKey(kms);
    const created = await kms.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: ROOT,
        RetiringPrincipal: RETIRER,
        Operations: ['Decrypt'],
        Constraints: { EncryptionContextSubset: { app: 'billing' } },
        Name: 'billing-decrypt',
      }),
    );
    await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:role/other`, Operations: ['Encrypt'] }));

    const { Grants, Truncated } = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId: created.GrantId }));
    assert.equal(Truncated, false);
    assert.equal(Grants?.length, 1);
    const [grant] = Grants!;
    assert.equal(grant!.KeyId, key.Arn);
    assert.equal(grant!.GrantId, created.GrantId);
    assert.equal(grant!.Name, 'billing-decrypt');
    assert.equal(grant!.GranteePrincipal, ROOT);
    assert.equal(grant!.RetiringPrincipal, RETIRER);
    assert.equal(grant!.IssuingAccount, ROOT);
    assert.deepEqual(grant!.Operations, ['Decrypt']);
    assert.deepEqual(grant!.Constraints, { EncryptionContextSubset: { app: 'billing' } });
    assert.equal(grant!.CreationDate?.getTime(), clock.now().getTime());

    const byGrantee = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:role/other` }));
    assert.deepEqual(byGrantee.Grants?.map((entry) => entry.Operations), [['Encrypt']]);

    const first = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, Limit: 1 }));
    assert.equal(first.Truncated, true);
    const second = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId, Limit: 1, Marker: first.NextMarker }));
    assert.equal(second.Truncated, false);
    assert.notEqual(first.Grants![0]!.GrantId, second.Grants![0]!.GrantId);

    const retirable = await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: RETIRER }));
    assert.ok(retirable.Grants?.some((entry) => entry.GrantId === created.GrantId));
    assert.ok(retirable.Grants?.every((entry) => entry.RetiringPrincipal === RETIRER));
  });

  it('answers InvalidGrantIdException and InvalidMarkerException for malformed ids and markers', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId: 'not-a-grant-id' })), 'InvalidGrantIdException');
    await rejectsWith(kms.send(new ListGrantsCommand({ KeyId: key.KeyId, Marker: 'garbage' })), 'InvalidMarkerException');
  });
});

describe('RetireGrant and RevokeGrant end the access a grant gave', () => {
  it('RetireGrant by grant token', async () => {
    const key = await managementOnlyKey();
    const { GrantToken } = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt'] }));
    await encrypt(key.KeyId!);
    // The account that owns the key may retire any of its grants.
    await kms.send(new RetireGrantCommand({ GrantToken }));
    await rejectsWith(encrypt(key.KeyId!), 'AccessDeniedException');
    await rejectsWith(kms.send(new RetireGrantCommand({ GrantToken })), 'NotFoundException');
  });

  it('RetireGrant by KeyId and GrantId, by the grantee whose grant allows RetireGrant', async () => {
    const key = await managementOnlyKey();
    const { GrantId } = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt', 'RetireGrant'] }));
    await kms.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId }));
    await rejectsWith(encrypt(key.KeyId!), 'AccessDeniedException');
    const { Grants } = await kms.send(new ListGrantsCommand({ KeyId: key.KeyId }));
    assert.deepEqual(Grants, []);
  });

  it('RetireGrant refuses a malformed token or grant id, and a request naming neither', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new RetireGrantCommand({ GrantToken: 'bm90IGEgdG9rZW4=' })), 'InvalidGrantTokenException');
    await rejectsWith(kms.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: 'short' })), 'InvalidGrantIdException');
    await rejectsWith(kms.send(new RetireGrantCommand({ KeyId: key.Arn })), 'ValidationException');
  });

  it('RevokeGrant', async () => {
    const key = await managementOnlyKey();
    const { GrantId, GrantToken } = await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt'] }));
    await encrypt(key.KeyId!, undefined, [GrantToken!]);
    await rejectsWith(kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId, DryRun: true })), 'DryRunOperationException', 412);
    await encrypt(key.KeyId!);
    await kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId }));
    await rejectsWith(encrypt(key.KeyId!, undefined, [GrantToken!]), 'AccessDeniedException');
    await rejectsWith(kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId })), 'NotFoundException');
    await rejectsWith(kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: 'xyz' })), 'InvalidGrantIdException');
  });

  it('grants die with their key', async () => {
    const retirer = `arn:aws:iam::${ACCOUNT_ID}:role/dies-with-key`;
    const key = await createKey(kms);
    await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, RetiringPrincipal: retirer, Operations: ['Encrypt'] }));
    assert.equal((await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: retirer }))).Grants?.length, 1);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await rejectsWith(kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: ROOT, Operations: ['Encrypt'] })), 'KMSInvalidStateException');
    clock.advanceMs(7 * DAY_MS);
    await server.server.coffer.runMaintenance();
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');
    assert.deepEqual((await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: retirer }))).Grants, []);
  });
});

describe('grants with the AWS CLI', () => {
  it('aws kms create-grant --constraints …, list-grants, revoke-grant', async () => {
    const key = await managementOnlyKey();
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-grants-'));
    const run = (command: string) =>
      shellOk(command, { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } });
    try {
      const created = JSON.parse(
        await run(`aws kms create-grant --key-id ${key.KeyId} --grantee-principal ${ROOT} \\
  --operations Encrypt Decrypt --constraints EncryptionContextSubset={Department=IT} \\
  --name cli-grant --endpoint-url "$COFFER_URL"`),
      ) as { GrantId: string; GrantToken: string };
      assert.match(created.GrantId, /^[0-9a-f]{64}$/);
      await encrypt(key.KeyId!, { Department: 'IT' });
      await rejectsWith(encrypt(key.KeyId!, { Department: 'HR' }), 'AccessDeniedException');

      const listed = JSON.parse(await run(`aws kms list-grants --key-id ${key.KeyId} --endpoint-url "$COFFER_URL"`)) as {
        Grants: Array<{ GrantId: string; Name: string; Operations: string[]; Constraints: unknown }>;
      };
      assert.equal(listed.Grants.length, 1);
      assert.equal(listed.Grants[0]!.Name, 'cli-grant');
      assert.deepEqual(listed.Grants[0]!.Operations, ['Encrypt', 'Decrypt']);
      assert.deepEqual(listed.Grants[0]!.Constraints, { EncryptionContextSubset: { Department: 'IT' } });

      await run(`aws kms revoke-grant --key-id ${key.KeyId} --grant-id ${created.GrantId} --endpoint-url "$COFFER_URL"`);
      await rejectsWith(encrypt(key.KeyId!, { Department: 'IT' }), 'AccessDeniedException');
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
