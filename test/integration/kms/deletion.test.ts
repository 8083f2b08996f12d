import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { ManualClock } from '../../helpers/clock.js';
import { createKey, DAY_MS, rejectsWith, roundSecondNow, uniqueAliasName } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let clock: ManualClock;
let kms: KMSClient;

before(async () => {
  clock = new ManualClock(roundSecondNow());
  server = await startTestServer({ clock });
  kms = server.kms();
});
after(async () => server.cleanup());

const plaintext = Buffer.from('to be shredded');

describe('ScheduleKeyDeletion', () => {
  it('schedules deletion 30 days from now by default', async () => {
    const key = await createKey(kms);
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    assert.equal(scheduled.KeyId, key.Arn);
    assert.equal(scheduled.KeyState, 'PendingDeletion');
    assert.equal(scheduled.PendingWindowInDays, 30);
    assert.equal(scheduled.DeletionDate?.getTime(), clock.now().getTime() + 30 * DAY_MS);

    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.KeyState, 'PendingDeletion');
    assert.equal(KeyMetadata?.Enabled, false);
    assert.equal(KeyMetadata?.DeletionDate?.getTime(), clock.now().getTime() + 30 * DAY_MS);
    assert.equal(KeyMetadata?.PendingDeletionWindowInDays, 30);
  });

  for (const days of [7, 30]) {
    it(`accepts a window of ${days} days and sets DeletionDate = now + ${days} days`, async () => {
      const key = await createKey(kms);
      const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: days }));
      assert.equal(scheduled.PendingWindowInDays, days);
      assert.equal(scheduled.DeletionDate?.getTime(), clock.now().getTime() + days * DAY_MS);
    });
  }

  for (const days of [6, 31]) {
    it(`refuses a window of ${days} days with ValidationException and leaves the key enabled`, async () => {
      const key = await createKey(kms);
      const error = await rejectsWith(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: days })), 'ValidationException');
      assert.match(error.message, /pendingWindowInDays/);
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
      assert.equal(KeyMetadata?.KeyState, 'Enabled');
    });
  }

  it('makes the key unusable at once: KMSInvalidStateException for Encrypt, Decrypt and GenerateDataKey', async () => {
    const key = await createKey(kms);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));

    const error = await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext })), 'KMSInvalidStateException');
    assert.match(error.message, /pending deletion/);
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })), 'KMSInvalidStateException');
  });

  it('refuses management of a key pending deletion with KMSInvalidStateException', async () => {
    const key = await createKey(kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new EnableKeyCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new DisableKeyCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'x' })), 'KMSInvalidStateException');
  });

  it('refuses to schedule a key that is already pending deletion with KMSInvalidStateException', async () => {
    const key = await createKey(kms);
    const first = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 10 }));
    await rejectsWith(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 20 })), 'KMSInvalidStateException');
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.DeletionDate?.getTime(), first.DeletionDate?.getTime(), 'the first schedule stands');
  });

  it('schedules a disabled key too', async () => {
    const key = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    assert.equal(scheduled.KeyState, 'PendingDeletion');
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    await rejectsWith(kms.send(new ScheduleKeyDeletionCommand({ KeyId: randomUUID() })), 'NotFoundException');
  });
});

describe('CancelKeyDeletion', () => {
  it('leaves the key Disabled, with no deletion date, until it is enabled', async () => {
    const key = await createKey(kms);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));

    const cancelled = await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    assert.equal(cancelled.KeyId, key.Arn);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.KeyState, 'Disabled');
    assert.equal(KeyMetadata?.Enabled, false);
    assert.equal(KeyMetadata?.DeletionDate, undefined);
    assert.equal(KeyMetadata?.PendingDeletionWindowInDays, undefined);
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext })), 'DisabledException');

    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob }));
    assert.deepEqual(Buffer.from(decrypted.Plaintext!), plaintext);
  });

  it('refuses a key that is not pending deletion with KMSInvalidStateException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
  });

  it('still works one millisecond before the deletion date', async () => {
    const key = await createKey(kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    clock.advanceMs(7 * DAY_MS - 1);
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.KeyState, 'Disabled');
  });
});

describe('the end of the deletion window', () => {
  /** A fresh key with two aliases, scheduled for deletion in 7 days. */
  async function keyScheduledForDeletion() {
    const key = await createKey(kms);
    const aliasNames = [uniqueAliasName('doomed'), uniqueAliasName('doomed')];
    for (const aliasName of aliasNames) await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    return { key, aliasNames };
  }

  async function listedKeyIds(): Promise<string[]> {
    return (await kms.send(new ListKeysCommand({ Limit: 1000 }))).Keys!.map((entry) => entry.KeyId!);
  }

  async function listedAliasNames(): Promise<string[]> {
    return (await kms.send(new ListAliasesCommand({ Limit: 100 }))).Aliases!.map((alias) => alias.AliasName!);
  }

  it('the key is gone the moment the window ends, from ListAliases, ListKeys and DescribeKey, before any sweep', async () => {
    const { key, aliasNames } = await keyScheduledForDeletion();
    assert.ok((await listedKeyIds()).includes(key.KeyId!));
    clock.advanceDays(7);

    // Listings first: nothing has looked the key up yet, so nothing has destroyed it on the way.
    const aliasesAfter = await listedAliasNames();
    for (const aliasName of aliasNames) assert.ok(!aliasesAfter.includes(aliasName), `${aliasName} is still listed`);
    assert.ok(!(await listedKeyIds()).includes(key.KeyId!));
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: aliasNames[0] })), 'NotFoundException');
    await rejectsWith(kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId })), 'NotFoundException');
  });

  it('ciphertexts of a deleted key no longer decrypt', async () => {
    const key = await createKey(kms);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    clock.advanceDays(8);
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'NotFoundException');
  });

  it('the sweeper (runMaintenance) destroys the key with its aliases', async () => {
    const { key, aliasNames } = await keyScheduledForDeletion();
    clock.advanceDays(7);
    await server.server.coffer.runMaintenance();

    assert.ok(!(await listedKeyIds()).includes(key.KeyId!));
    const aliasesAfter = await listedAliasNames();
    for (const aliasName of aliasNames) assert.ok(!aliasesAfter.includes(aliasName), `${aliasName} is still listed`);
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');

    // Moving the clock back shows the key was really destroyed, not just hidden by the date.
    clock.advanceMs(-DAY_MS);
    try {
      await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');
      assert.ok(!(await listedKeyIds()).includes(key.KeyId!));
    } finally {
      clock.advanceMs(DAY_MS);
    }
  });

  it('the sweeper leaves keys whose window has not ended, and keys not pending deletion', async () => {
    const pending = await createKey(kms);
    const active = await createKey(kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: pending.KeyId, PendingWindowInDays: 7 }));
    clock.advanceDays(6);
    await server.server.coffer.runMaintenance();
    const pendingNow = await kms.send(new DescribeKeyCommand({ KeyId: pending.KeyId }));
    assert.equal(pendingNow.KeyMetadata?.KeyState, 'PendingDeletion');
    const activeNow = await kms.send(new DescribeKeyCommand({ KeyId: active.KeyId }));
    assert.equal(activeNow.KeyMetadata?.KeyState, 'Enabled');
  });
});
