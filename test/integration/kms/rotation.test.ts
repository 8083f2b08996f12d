import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  DecryptCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
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

async function encrypt(key: KeyMetadata, text: string): Promise<Buffer> {
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from(text) }));
  return Buffer.from(CiphertextBlob!);
}

async function decryptText(blob: Buffer): Promise<string> {
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
  return Buffer.from(Plaintext!).toString();
}

/** Bytes 17..33 of a Coffer blob name the backing key (the rotation) that sealed it. */
function backingKeyOf(blob: Buffer): string {
  return blob.subarray(17, 33).toString('hex');
}

async function rotationStatus(key: KeyMetadata) {
  return kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
}

async function rotations(key: KeyMetadata) {
  return (await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations ?? [];
}

describe('EnableKeyRotation and GetKeyRotationStatus', () => {
  it('a new key does not rotate', async () => {
    const key = await createKey(kms);
    const status = await rotationStatus(key);
    assert.equal(status.KeyRotationEnabled, false);
    assert.equal(status.KeyId, key.Arn);
    assert.equal(status.RotationPeriodInDays, undefined);
    assert.equal(status.NextRotationDate, undefined);
  });

  it('enables rotation every 365 days by default; NextRotationDate = now + 365 days', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }));
    const status = await rotationStatus(key);
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.KeyId, key.Arn);
    assert.equal(status.RotationPeriodInDays, 365);
    assert.equal(status.NextRotationDate?.getTime(), clock.now().getTime() + 365 * DAY_MS);
  });

  for (const days of [90, 2560]) {
    it(`accepts RotationPeriodInDays ${days}`, async () => {
      const key = await createKey(kms);
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.Arn, RotationPeriodInDays: days }));
      const status = await rotationStatus(key);
      assert.equal(status.RotationPeriodInDays, days);
      assert.equal(status.NextRotationDate?.getTime(), clock.now().getTime() + days * DAY_MS);
    });
  }

  for (const days of [89, 2561]) {
    it(`refuses RotationPeriodInDays ${days} with ValidationException`, async () => {
      const key = await createKey(kms);
      const error = await rejectsWith(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: days })), 'ValidationException');
      assert.match(error.message, /rotationPeriodInDays/);
      assert.equal((await rotationStatus(key)).KeyRotationEnabled, false);
    });
  }

  it('takes a key id or key ARN but not an alias: NotFoundException', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('rotate');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await rejectsWith(kms.send(new EnableKeyRotationCommand({ KeyId: aliasName })), 'NotFoundException');
    await rejectsWith(kms.send(new GetKeyRotationStatusCommand({ KeyId: aliasName })), 'NotFoundException');
  });
});

describe('DisableKeyRotation', () => {
  it('turns rotation off and clears the schedule', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 180 }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: key.KeyId }));
    const status = await rotationStatus(key);
    assert.equal(status.KeyRotationEnabled, false);
    assert.equal(status.NextRotationDate, undefined);
  });
});

describe('rotation and key states', () => {
  it('a disabled key refuses rotation changes with DisabledException, and keeps its status', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId })), 'DisabledException');
    await rejectsWith(kms.send(new DisableKeyRotationCommand({ KeyId: key.KeyId })), 'DisabledException');
    await rejectsWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })), 'DisabledException');
    assert.equal((await rotationStatus(key)).KeyRotationEnabled, true);
  });

  it('a key pending deletion refuses EnableKeyRotation with KMSInvalidStateException', async () => {
    const key = await createKey(kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
  });

  it('a key pending deletion reports rotation off; cancelling the deletion restores it', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 100 }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    assert.equal((await rotationStatus(key)).KeyRotationEnabled, false);

    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    const restored = await rotationStatus(key);
    assert.equal(restored.KeyRotationEnabled, true);
    assert.equal(restored.RotationPeriodInDays, 100);
  });
});

describe('RotateKeyOnDemand', () => {
  it('adds an ON_DEMAND rotation; old ciphertexts still decrypt and new ones use the new backing key', async () => {
    const key = await createKey(kms);
    assert.deepEqual(await rotations(key), []);
    const before = await encrypt(key, 'sealed before rotation');

    const rotated = await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    assert.equal(rotated.KeyId, key.KeyId, 'RotateKeyOnDemand answers the key id, as AWS does');

    const listed = await rotations(key);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.RotationType, 'ON_DEMAND');
    assert.equal(listed[0]?.RotationDate?.getTime(), clock.now().getTime());

    const after = await encrypt(key, 'sealed after rotation');
    const afterAgain = await encrypt(key, 'sealed after rotation, again');
    assert.equal(before.subarray(1, 17).toString('hex'), after.subarray(1, 17).toString('hex'), 'same KMS key');
    assert.notEqual(backingKeyOf(before), backingKeyOf(after), 'new backing key after rotation');
    assert.equal(backingKeyOf(after), backingKeyOf(afterAgain), 'the new backing key stays current');

    assert.equal(await decryptText(before), 'sealed before rotation');
    assert.equal(await decryptText(after), 'sealed after rotation');
  });

  it('leaves the automatic schedule as it was', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    const scheduled = (await rotationStatus(key)).NextRotationDate?.getTime();
    clock.advanceDays(10);
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    assert.equal((await rotationStatus(key)).NextRotationDate?.getTime(), scheduled);
  });

  it('works whether or not automatic rotation is enabled, and pages in ListKeyRotations', async () => {
    const key = await createKey(kms);
    for (let i = 0; i < 3; i += 1) {
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
      clock.advanceMs(1000);
    }
    const first = await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, Limit: 2 }));
    assert.equal(first.Rotations?.length, 2);
    assert.equal(first.Truncated, true);
    const second = await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, Limit: 2, Marker: first.NextMarker }));
    assert.equal(second.Rotations?.length, 1);
    assert.equal(second.Truncated, false);
    const dates = [...first.Rotations!, ...second.Rotations!].map((rotation) => rotation.RotationDate!.getTime());
    assert.equal(new Set(dates).size, 3, 'each rotation is listed once');
    await rejectsWith(kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, Marker: 'bogus' })), 'InvalidMarkerException');
  });

  it('refuses more than 25 on-demand rotations of one key with LimitExceededException', async () => {
    const key = await createKey(kms);
    for (let i = 0; i < 25; i += 1) await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })), 'LimitExceededException');
    assert.equal((await rotations(key)).length, 25);
  });
});

describe('automatic rotation', () => {
  it('the maintenance run rotates a key whose NextRotationDate has come, and schedules the next one', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    const before = await encrypt(key, 'sealed before automatic rotation');
    const due = (await rotationStatus(key)).NextRotationDate!;

    clock.advanceMs(due.getTime() - clock.now().getTime());
    await server.server.coffer.runMaintenance();

    const listed = await rotations(key);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.RotationType, 'AUTOMATIC');
    assert.equal(listed[0]?.RotationDate?.getTime(), clock.now().getTime());
    const status = await rotationStatus(key);
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.NextRotationDate?.getTime(), clock.now().getTime() + 90 * DAY_MS);

    const after = await encrypt(key, 'sealed after automatic rotation');
    assert.notEqual(backingKeyOf(before), backingKeyOf(after));
    assert.equal(await decryptText(before), 'sealed before automatic rotation');
    assert.equal(await decryptText(after), 'sealed after automatic rotation');
  });

  it('a second maintenance run at the same time does not rotate again', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    clock.advanceDays(91);
    await server.server.coffer.runMaintenance();
    await server.server.coffer.runMaintenance();
    assert.equal((await rotations(key)).length, 1);
  });

  it('does not rotate before NextRotationDate', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    clock.advanceDays(89);
    await server.server.coffer.runMaintenance();
    assert.deepEqual(await rotations(key), []);
  });

  it('does not rotate a disabled key, and rotates it once it is enabled again', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    clock.advanceDays(91);
    await server.server.coffer.runMaintenance();
    assert.deepEqual(await rotations(key), []);

    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    await server.server.coffer.runMaintenance();
    assert.equal((await rotations(key)).length, 1);
  });

  it('does not rotate a key whose rotation was disabled', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: key.KeyId }));
    clock.advanceDays(91);
    await server.server.coffer.runMaintenance();
    assert.deepEqual(await rotations(key), []);
  });
});
