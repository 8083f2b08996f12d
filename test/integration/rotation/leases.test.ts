import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RotationRunRecord } from '../../../src/store/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { ManualClock } from '../../helpers/clock.js';
import { lambdaClient, uniqueFunctionName } from '../../helpers/lambda.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Rotation leases at the runner: the server drives a rotation through a rotation function of the test's (an
 * HTTP function) that can hold a step as long as the test wants, while a second node, a store opened on the
 * same database, tries to claim the run. The lease is measured on the server's injected clock, which the test
 * moves; the holder renews it every third of its 30 s in real time.
 */
const LEASE_MS = 30_000;
const RENEWAL_WAIT_MS = 20_000;

type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
type StepEvent = { SecretId: string; ClientRequestToken: string; Step: RotationStep };

/**
 * A rotation function of the user's, served over HTTP: the four steps as AWS's templates write them (each
 * idempotent by ClientRequestToken), the value being a text of the token. `hold(step)` makes the next call
 * of that step wait until released.
 */
async function startRotationFunction(sm: () => SecretsManagerClient) {
  const calls: StepEvent[] = [];
  let holding: { step: RotationStep; reached: () => void; released: Promise<void> } | undefined;

  async function runStep(event: StepEvent): Promise<void> {
    if (event.Step === 'createSecret') {
      await sm().send(new PutSecretValueCommand({ SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: `rotated-${event.ClientRequestToken}`, VersionStages: ['AWSPENDING'] }));
    } else if (event.Step === 'finishSecret') {
      const stages = (await sm().send(new DescribeSecretCommand({ SecretId: event.SecretId }))).VersionIdsToStages ?? {};
      const current = Object.keys(stages).find((versionId) => stages[versionId]!.includes('AWSCURRENT'));
      if (current === event.ClientRequestToken) return;
      await sm().send(new UpdateSecretVersionStageCommand({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, RemoveFromVersionId: current }));
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StepEvent;
      calls.push(event);
      try {
        const hold = holding?.step === event.Step ? holding : undefined;
        if (hold) {
          holding = undefined;
          hold.reached();
          await hold.released;
        }
        await runStep(event);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errorType: 'StepFailed', errorMessage: String(error) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    /** Holds the next call of `step`: `reached` resolves when it arrives; it answers after `release()`. */
    hold(step: RotationStep): { reached: Promise<void>; release: () => void } {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const reached = new Promise<void>((resolve) => (holding = { step, reached: resolve, released }));
      return { reached, release };
    },
    stepsOf: (token: string) => calls.filter((call) => call.ClientRequestToken === token).map((call) => call.Step),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('rotation leases at the runner', () => {
  const clock = new ManualClock(new Date('2026-06-01T10:00:00Z'));
  let server: TestServer;
  let sm: SecretsManagerClient;
  let rotationFunction: Awaited<ReturnType<typeof startRotationFunction>>;
  let functionArn: string;
  /** A second node: another connection to the server's database, claiming runs as another node's runner would. */
  let otherNode: SqliteStore;

  before(async () => {
    server = await startTestServer({ clock });
    sm = secretsClient(server);
    rotationFunction = await startRotationFunction(() => sm);
    const lambda = lambdaClient(server);
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: uniqueFunctionName('lease-rotator'),
        Runtime: 'coffer-http' as never,
        Role: undefined,
        Code: {},
        Timeout: 120,
        Environment: { Variables: { COFFER_FUNCTION_URL: rotationFunction.url } },
      }),
    );
    lambda.destroy();
    functionArn = created.FunctionArn!;
    otherNode = new SqliteStore(join(server.dataDir, 'coffer.db'));
  });
  after(async () => {
    await otherNode?.close();
    await rotationFunction?.close();
    sm?.destroy();
    await server?.cleanup();
  });

  const openRun = async (secretArn: string): Promise<RotationRunRecord> => {
    const run = await otherNode.getOpenRotationRun(secretArn);
    assert.ok(run, 'the rotation is unfinished');
    return run;
  };

  async function startRotation(label: string): Promise<{ arn: string; token: string }> {
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName(label), SecretString: 'first' }));
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: created.ARN!, RotationLambdaARN: functionArn }));
    return { arn: created.ARN!, token: rotated.VersionId! };
  }

  async function currentVersion(secretArn: string): Promise<string | undefined> {
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: secretArn }))).VersionIdsToStages ?? {};
    return Object.keys(stages).find((versionId) => stages[versionId]!.includes('AWSCURRENT'));
  }

  it('the holder renews its lease while a step outlasts it, so no other node claims the run', async (t) => {
    const held = rotationFunction.hold('createSecret');
    t.after(held.release); // a failed assertion must not leave the function waiting
    const claimedAt = clock.now().getTime();
    const { arn, token } = await startRotation('renewed');
    await held.reached;
    const claimed = await openRun(arn);
    assert.deepEqual(claimed.leaseExpiresAt, new Date(claimedAt + LEASE_MS), 'a short lease');

    clock.advanceMs(LEASE_MS - 5000);
    const deadline = Date.now() + RENEWAL_WAIT_MS;
    while ((await openRun(arn)).leaseExpiresAt!.getTime() <= claimedAt + LEASE_MS) {
      assert.ok(Date.now() < deadline, 'the holder renews its lease within a third of it');
      await sleep(200);
    }
    const renewed = await openRun(arn);
    assert.equal(renewed.leaseEpoch, claimed.leaseEpoch, 'a renewal is the same lease');
    clock.advanceMs(10_000); // past the first expiry, within the renewed one
    assert.equal(await otherNode.claimRotationRun(clock.now(), 'other-node', LEASE_MS), undefined, 'the run is not claimed twice');

    held.release();
    await server.server.coffer.rotation.idle();
    assert.deepEqual(rotationFunction.stepsOf(token), ['createSecret', 'setSecret', 'testSecret', 'finishSecret'], 'each step ran once');
    assert.equal(await currentVersion(arn), token);
    assert.equal(await otherNode.getOpenRotationRun(arn), undefined, 'completed');
  });

  it('a holder whose lease another node took writes nothing more, and the run continues from the first unfinished step', async (t) => {
    const held = rotationFunction.hold('setSecret');
    t.after(held.release);
    const { arn, token } = await startRotation('taken-over');
    await held.reached;
    const first = await openRun(arn);
    assert.equal(first.step, 'setSecret', 'createSecret is recorded as done');

    // The holder is stuck (as if dead) past its lease, before it renews: another node takes the run over.
    clock.advanceMs(LEASE_MS + 1000);
    const takeover = await otherNode.claimRotationRun(clock.now(), 'other-node', LEASE_MS);
    assert.ok(takeover, 'the other node claims the expired lease');
    assert.equal(takeover.leaseEpoch, first.leaseEpoch + 1, 'with a new epoch');
    assert.equal(takeover.step, 'setSecret', 'and continues from the first unfinished step');

    held.release();
    await server.server.coffer.rotation.idle();
    assert.deepEqual(rotationFunction.stepsOf(token), ['createSecret', 'setSecret'], 'the old holder stopped after its step');
    const afterStale = await openRun(arn);
    assert.equal(afterStale.leaseOwner, 'other-node');
    assert.equal(afterStale.leaseEpoch, takeover.leaseEpoch);
    assert.equal(afterStale.step, 'setSecret');
    assert.equal(afterStale.attempts, 0, 'no failure recorded by the old holder');
    assert.notEqual(await currentVersion(arn), token);

    // The other node hands the run back (as its runner would after a failed step); the server's runner
    // claims it anew and finishes from setSecret, repeating the interrupted step (idempotent by token).
    assert.equal(await otherNode.updateRotationRun(arn, token, { owner: 'other-node', epoch: takeover.leaseEpoch }, {}), true);
    await server.server.coffer.runMaintenance();
    assert.deepEqual(rotationFunction.stepsOf(token), ['createSecret', 'setSecret', 'setSecret', 'testSecret', 'finishSecret']);
    assert.equal(await currentVersion(arn), token);
    assert.equal(await otherNode.getOpenRotationRun(arn), undefined, 'completed');
  });
});
