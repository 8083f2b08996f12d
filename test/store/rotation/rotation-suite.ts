import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import type { RotationRepository, SecretsRepository } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';
import { newSecret, newVersion } from '../sample-records.js';

/** Runs name their secret, and a completed run moves the secret's schedule: the suite creates and reads secrets too. */
type RotationSuiteStore = RotationRepository & Pick<SecretsRepository, 'createSecret' | 'getSecretByArn'>;

/**
 * The conformance suite of RotationRepository, which every backend passes: one unfinished run per secret,
 * leases, and the schedule a completed run moves.
 */
export function runRotationRepositorySuite(backend: string, open: OpenRepositories<RotationSuiteStore>): void {
  describeRepository<RotationSuiteStore>('RotationRepository', backend, open, (opened) => {
    let store: RotationSuiteStore;
    beforeEach(() => {
      store = opened();
    });

    it('keeps one unfinished rotation per secret, leased to one claimant at a time', async () => {
      const secret = newSecret('888888888888', 'rotating');
      await store.createSecret(secret, [], newVersion(secret.arn));
      const now = new Date(1_700_000_000_000);
      const run = { secretArn: secret.arn, token: randomUUID(), status: 'running' as const, step: 'createSecret' as const, attempts: 0, startedAt: now, updatedAt: now, nextAttemptAt: now };
      assert.deepEqual(await store.startRotationRun(run), { started: true });
      const second = await store.startRotationRun({ ...run, token: randomUUID() });
      assert.equal(second.started, false);
      assert.equal(second.started === false && second.existing.token, run.token);

      const claims = await Promise.all(['a', 'b', 'c'].map((owner) => store.claimRotationRun(now, owner, 60_000)));
      const winners = claims.filter(Boolean);
      assert.equal(winners.length, 1, 'one claimant wins the lease');
      const owner = winners[0]!.leaseOwner!;
      assert.equal(await store.updateRotationRun(secret.arn, run.token, 'someone-else', { attempts: 9 }), false);
      const retryAt = new Date(now.getTime() + 30_000);
      assert.equal(await store.updateRotationRun(secret.arn, run.token, owner, { attempts: 1, step: 'setSecret', nextAttemptAt: retryAt, lastError: 'boom' }), true);
      assert.equal(await store.claimRotationRun(now, 'a', 60_000), undefined, 'not due before its next attempt');
      const reclaimed = await store.claimRotationRun(retryAt, 'a', 60_000);
      assert.equal(reclaimed?.step, 'setSecret');
      assert.equal(reclaimed?.lastError, 'boom');

      await store.completeRotationRun(secret.arn, run.token, retryAt, { rotationEnabled: true, rotationLambdaArn: 'arn:aws:lambda:us-east-1:888888888888:function:f', lastRotatedDate: retryAt });
      assert.equal(await store.getOpenRotationRun(secret.arn), undefined);
      assert.deepEqual((await store.getSecretByArn(secret.arn))?.lastRotatedDate, retryAt);
      assert.deepEqual(await store.startRotationRun({ ...run, token: randomUUID() }), { started: true }, 'a finished rotation frees the secret');
    });
  });
}
