import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import type { RotationLease, RotationRepository, RotationRunRecord, SecretRecord, SecretsRepository } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';
import { newSecret, newVersion } from '../sample-records.js';

/** Runs name their secret, and a completed run moves the secret's schedule: the suite creates and reads secrets too. */
type RotationSuiteStore = RotationRepository & Pick<SecretsRepository, 'createSecret' | 'getSecretByArn' | 'setSecretRotation' | 'markSecretDeleted'>;

const LEASE_MS = 60_000;
const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:888888888888:function:f';

/**
 * The conformance suite of RotationRepository, which every backend passes: one unfinished run per secret,
 * leases with a fencing token (the epoch), the holder's fenced writes, and the schedule a completed run moves.
 * The suite's tests share one database, so each ends its runs (completed or cancelled): a run left due would
 * be claimed by the next test.
 */
export function runRotationRepositorySuite(backend: string, open: OpenRepositories<RotationSuiteStore>): void {
  describeRepository<RotationSuiteStore>('RotationRepository', backend, open, (opened) => {
    let store: RotationSuiteStore;
    beforeEach(() => {
      store = opened();
    });

    /** A secret with a running rotation due at `now`. */
    async function startedRun(name: string, now: Date): Promise<{ secret: SecretRecord; run: RotationRunRecord }> {
      const secret = newSecret('888888888888', name);
      await store.createSecret(secret, [], newVersion(secret.arn));
      const run: RotationRunRecord = { secretArn: secret.arn, token: randomUUID(), status: 'running', step: 'createSecret', attempts: 0, startedAt: now, updatedAt: now, nextAttemptAt: now, leaseEpoch: 0 };
      assert.deepEqual(await store.startRotationRun(run), { started: true });
      return { secret, run };
    }

    async function claim(now: Date, owner: string): Promise<{ claimed: RotationRunRecord; lease: RotationLease }> {
      const claimed = await store.claimRotationRun(now, owner, LEASE_MS);
      assert.ok(claimed, `${owner} claims the run`);
      return { claimed, lease: { owner, epoch: claimed.leaseEpoch } };
    }

    const later = (date: Date, ms: number) => new Date(date.getTime() + ms);

    it('keeps one unfinished rotation per secret, leased to one claimant at a time', async () => {
      const now = new Date(1_700_000_000_000);
      const { secret, run } = await startedRun('rotating', now);
      const second = await store.startRotationRun({ ...run, token: randomUUID() });
      assert.equal(second.started, false);
      assert.equal(second.started === false && second.existing.token, run.token);

      const claims = await Promise.all(['a', 'b', 'c'].map((owner) => store.claimRotationRun(now, owner, LEASE_MS)));
      const winners = claims.filter((claimed) => claimed !== undefined);
      assert.equal(winners.length, 1, 'one claimant wins the lease');
      const lease = { owner: winners[0]!.leaseOwner!, epoch: winners[0]!.leaseEpoch };
      assert.equal(await store.updateRotationRun(secret.arn, run.token, { owner: 'someone-else', epoch: lease.epoch }, { attempts: 9 }), false);
      const retryAt = later(now, 30_000);
      assert.equal(await store.updateRotationRun(secret.arn, run.token, lease, { attempts: 1, step: 'setSecret', nextAttemptAt: retryAt, lastError: 'boom' }), true);
      assert.equal(await store.claimRotationRun(now, 'a', LEASE_MS), undefined, 'not due before its next attempt');
      const reclaimed = await claim(retryAt, 'a');
      assert.equal(reclaimed.claimed.step, 'setSecret');
      assert.equal(reclaimed.claimed.lastError, 'boom');

      assert.equal(await store.completeRotationRun(secret.arn, run.token, reclaimed.lease, retryAt, { rotationEnabled: true, rotationLambdaArn: LAMBDA_ARN, lastRotatedDate: retryAt }), true);
      assert.equal(await store.getOpenRotationRun(secret.arn), undefined);
      assert.deepEqual((await store.getSecretByArn(secret.arn))?.lastRotatedDate, retryAt);
      const next = await store.startRotationRun({ ...run, token: randomUUID(), nextAttemptAt: later(now, 365 * 86_400_000) });
      assert.deepEqual(next, { started: true }, 'a finished rotation frees the secret');
      await store.cancelRotationRun(secret.arn, (await store.getOpenRotationRun(secret.arn))!.token, retryAt);
    });

    it('rotationLag counts the secrets with rotation on whose window closed, and the earliest window start among them', async () => {
      const now = new Date(1_900_000_000_000);
      const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
      const before = await store.rotationLag(now);
      const scheduled = async (name: string, rotation: { rotationEnabled: boolean; nextRotationDate: Date; nextRotationWindowEnd?: Date }) => {
        const secret = newSecret('888888888888', name);
        await store.createSecret(secret, [], newVersion(secret.arn));
        await store.setSecretRotation(secret.arn, { rotationLambdaArn: LAMBDA_ARN, ...rotation });
        return secret;
      };
      await scheduled('lag-window-closed', { rotationEnabled: true, nextRotationDate: hoursAgo(3), nextRotationWindowEnd: hoursAgo(1) });
      // Earlier than any other date of the suite: it is the oldest, whatever the other tests left.
      const oldest = new Date(1_000);
      await scheduled('lag-no-window-end', { rotationEnabled: true, nextRotationDate: oldest });
      await scheduled('lag-window-open', { rotationEnabled: true, nextRotationDate: hoursAgo(1), nextRotationWindowEnd: new Date(now.getTime() + 3_600_000) });
      await scheduled('lag-rotation-off', { rotationEnabled: false, nextRotationDate: hoursAgo(5) });
      const deleted = await scheduled('lag-deleted', { rotationEnabled: true, nextRotationDate: hoursAgo(5) });
      await store.markSecretDeleted(deleted.arn, now, new Date(now.getTime() + 7 * 86_400_000));

      const after = await store.rotationLag(now);
      assert.equal(after.overdueSecrets - before.overdueSecrets, 2, 'the closed window and the passed date without a window end');
      assert.deepEqual(after.oldestDueDate, oldest);
      assert.deepEqual(await store.rotationLag(new Date(0)), { overdueSecrets: 0 }, 'nothing is overdue before every window');
    });

    it('every claim raises the run epoch (the fencing token), and only an expired lease can be claimed again', async () => {
      const now = new Date(1_700_100_000_000);
      const { secret, run } = await startedRun('epochs', now);
      assert.equal((await store.getOpenRotationRun(secret.arn))?.leaseEpoch, 0, 'never claimed');

      const first = await claim(now, 'node-a');
      assert.equal(first.claimed.leaseEpoch, 1);
      assert.deepEqual(first.claimed.leaseExpiresAt, later(now, LEASE_MS));
      assert.equal(await store.claimRotationRun(later(now, LEASE_MS - 1), 'node-b', LEASE_MS), undefined, 'the lease has not expired');

      const second = await claim(later(now, LEASE_MS), 'node-b');
      assert.equal(second.claimed.leaseEpoch, 2, 'an expired lease is claimed, with a new epoch');
      assert.equal(second.claimed.leaseOwner, 'node-b');

      // The same owner claiming again (after releasing) is a new lease too: its old epoch no longer writes.
      assert.equal(await store.updateRotationRun(secret.arn, run.token, second.lease, { nextAttemptAt: later(now, LEASE_MS) }), true);
      const third = await claim(later(now, LEASE_MS), 'node-b');
      assert.equal(third.claimed.leaseEpoch, 3);
      assert.equal(await store.renewRotationLease(secret.arn, run.token, second.lease, later(now, 10 * LEASE_MS)), false);
      assert.equal((await store.getOpenRotationRun(secret.arn))?.leaseEpoch, 3);
      await store.cancelRotationRun(secret.arn, run.token, now);
    });

    it('refuses every write of a holder whose lease another node has claimed, and leaves the secret as it was', async () => {
      const now = new Date(1_700_200_000_000);
      const { secret, run } = await startedRun('stale-holder', now);
      const stale = await claim(now, 'node-a');
      const takeoverAt = later(now, LEASE_MS + 1);
      const current = await claim(takeoverAt, 'node-b');
      assert.equal(current.claimed.leaseEpoch, stale.lease.epoch + 1);

      const finishedAt = later(takeoverAt, 1000);
      assert.equal(await store.renewRotationLease(secret.arn, run.token, stale.lease, later(takeoverAt, 10 * LEASE_MS)), false, 'renew');
      assert.equal(await store.recordRotationProgress(secret.arn, run.token, stale.lease, 'testSecret', finishedAt), false, 'progress');
      assert.equal(await store.updateRotationRun(secret.arn, run.token, stale.lease, { attempts: 1, lastError: 'stale' }), false, 'failure record');
      const schedule = { rotationEnabled: true, rotationLambdaArn: LAMBDA_ARN, lastRotatedDate: finishedAt, nextRotationDate: later(finishedAt, 86_400_000) };
      assert.equal(await store.completeRotationRun(secret.arn, run.token, stale.lease, finishedAt, schedule), false, 'complete');

      const open = await store.getOpenRotationRun(secret.arn);
      assert.equal(open?.status, 'running');
      assert.equal(open?.step, 'createSecret');
      assert.equal(open?.attempts, 0);
      assert.equal(open?.leaseOwner, 'node-b');
      assert.deepEqual(open?.leaseExpiresAt, later(takeoverAt, LEASE_MS));
      const untouched = await store.getSecretByArn(secret.arn);
      assert.equal(untouched?.lastRotatedDate, undefined, 'a refused completion moves no date');
      assert.equal(untouched?.nextRotationDate, undefined);

      assert.equal(await store.completeRotationRun(secret.arn, run.token, current.lease, finishedAt, schedule), true, 'the current holder completes');
      assert.equal(await store.getOpenRotationRun(secret.arn), undefined);
      const rotated = await store.getSecretByArn(secret.arn);
      assert.deepEqual(rotated?.lastRotatedDate, finishedAt);
      assert.deepEqual(rotated?.nextRotationDate, schedule.nextRotationDate);
      assert.equal(await store.renewRotationLease(secret.arn, run.token, current.lease, later(finishedAt, LEASE_MS)), false, 'a completed run holds no lease');
    });

    it('records the holder progress and renewal under its lease, so a node taking over continues from the next step', async () => {
      const now = new Date(1_700_300_000_000);
      const { secret, run } = await startedRun('progress', now);
      const holder = await claim(now, 'node-a');
      const stepDoneAt = later(now, 5000);
      assert.equal(await store.recordRotationProgress(secret.arn, run.token, holder.lease, 'setSecret', stepDoneAt), true);
      const renewedUntil = later(now, 2 * LEASE_MS);
      assert.equal(await store.renewRotationLease(secret.arn, run.token, holder.lease, renewedUntil), true);

      const held = await store.getOpenRotationRun(secret.arn);
      assert.equal(held?.step, 'setSecret');
      assert.deepEqual(held?.updatedAt, stepDoneAt);
      assert.equal(held?.leaseOwner, 'node-a', 'progress keeps the lease');
      assert.equal(held?.leaseEpoch, holder.lease.epoch);
      assert.deepEqual(held?.leaseExpiresAt, renewedUntil);
      assert.equal(await store.claimRotationRun(later(now, LEASE_MS), 'node-b', LEASE_MS), undefined, 'a renewed lease is not claimed at its first expiry');

      // The holder dies: its renewed lease runs out, and the next node continues from the recorded step.
      const takeover = await claim(renewedUntil, 'node-b');
      assert.equal(takeover.claimed.step, 'setSecret');
      assert.equal(takeover.claimed.attempts, 0, 'a takeover is no failed attempt');
      await store.cancelRotationRun(secret.arn, run.token, renewedUntil);
    });

    it('refuses the holder writes once the run is cancelled', async () => {
      const now = new Date(1_700_400_000_000);
      const { secret, run } = await startedRun('cancelled', now);
      const holder = await claim(now, 'node-a');
      await store.cancelRotationRun(secret.arn, run.token, now);
      assert.equal(await store.recordRotationProgress(secret.arn, run.token, holder.lease, 'setSecret', now), false);
      assert.equal(await store.completeRotationRun(secret.arn, run.token, holder.lease, now, { rotationEnabled: true, rotationLambdaArn: LAMBDA_ARN, lastRotatedDate: now }), false);
      assert.equal((await store.getSecretByArn(secret.arn))?.lastRotatedDate, undefined);
    });
  });
}
