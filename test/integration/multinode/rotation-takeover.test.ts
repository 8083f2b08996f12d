import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { startChildNodes, type ChildNodes } from '../../helpers/child-nodes.js';
import { startHttpRotationFunction, type HttpRotationFunction, type Invocation } from '../../helpers/http-rotation-function.js';

/**
 * Issue 14: "`kill -9` of the node holding a rotation lease mid-rotation: another node finishes it", and
 * "exactly one node drives a given rotation, and another takes it over when its holder dies mid-rotation".
 *
 * Three `coffer server` processes on one database, with a 2 s rotation lease and maintenance every second
 * (`--rotation-lease 2 --maintenance-interval 1`; the defaults are 30 s and 60 s). The HTTP rotation
 * function holds setSecret until the test lets it go; the node whose invocation arrived holds the lease.
 */
const LEASE_SECONDS = 2;

type RunRow = { status: string; step: string; attempts: number; lease_owner: string | null; lease_expires_at: number | null; lease_epoch: number };

describe('a rotation whose node is killed mid-rotation', () => {
  let cluster: ChildNodes;
  let rotationFunction: HttpRotationFunction;
  let functionArn: string;

  before(async () => {
    cluster = await startChildNodes(3, { args: ['--rotation-lease', String(LEASE_SECONDS), '--maintenance-interval', '1'] });
    rotationFunction = await startHttpRotationFunction({
      nodes: () => new Map(cluster.live().map((node) => [node.pid, node.url])),
      credentials: cluster.admin,
    });
    const lambda = new LambdaClient({ endpoint: cluster.nodes[0]!.url, region: 'us-east-1', credentials: cluster.admin, maxAttempts: 1 });
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'takeover-rotator',
        Runtime: 'coffer-http' as never,
        Role: undefined,
        Code: {},
        Timeout: 60,
        Environment: { Variables: { COFFER_FUNCTION_URL: rotationFunction.url } },
      }),
    );
    lambda.destroy();
    functionArn = created.FunctionArn!;
  });
  after(async () => {
    await rotationFunction?.close();
    await cluster?.dispose();
  });

  const runOf = async (arn: string, token: string) =>
    (await cluster.query<RunRow>(`SELECT status, step, attempts, lease_owner, lease_expires_at::float8 AS lease_expires_at, lease_epoch::int AS lease_epoch
         FROM rotation_runs WHERE secret_arn = $1 AND token = $2`, [arn, token]))[0]!;

  it('kill -9 of the lease holder during setSecret: another node takes the run over, repeats setSecret and finishes it', async () => {
    const sm = cluster.secrets(cluster.nodes[2]!);
    const created = await sm.send(new CreateSecretCommand({ Name: 'takeover/one', SecretString: 'before' }));
    const held = rotationFunction.hold('setSecret');
    const rotated = await cluster.secrets(cluster.nodes[1]!).send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: functionArn }));
    const token = rotated.VersionId!;
    const arrived = await Promise.race([held.arrived, sleep(15_000, undefined, { ref: false })]);
    assert.ok(arrived, 'setSecret was invoked');
    const holder = cluster.nodes.find((node) => node.pid === arrived.nodePid);
    assert.ok(holder, `the held setSecret came from a node (pid ${arrived.nodePid})`);

    // While the holder lives, its renewals keep the run its own past the lease's length.
    const claimed = await runOf(created.ARN!, token);
    assert.equal(claimed.lease_epoch, 1);
    assert.equal(claimed.step, 'setSecret', 'createSecret is recorded done');
    await sleep(LEASE_SECONDS * 1_500);
    const renewed = await runOf(created.ARN!, token);
    assert.equal(renewed.lease_epoch, 1, 'no other node claimed the run while its holder lived');
    assert.equal(renewed.lease_owner, claimed.lease_owner);
    assert.ok(renewed.lease_expires_at! > claimed.lease_expires_at!, 'the holder renewed its lease');
    assert.deepEqual(stepsOf(rotationFunction.invocations, token), ['createSecret', 'setSecret']);

    await holder.stop('SIGKILL');
    const finished = await waitFor(async () => {
      const run = await runOf(created.ARN!, token);
      return run.status === 'succeeded' ? run : undefined;
    }, 20_000);
    assert.equal(finished.lease_epoch, 2, 'claimed once more: by the node that took over');
    assert.equal(finished.attempts, 0, 'no attempt failed: the takeover is not a failure');

    const invocations = rotationFunction.invocations.filter((invocation) => invocation.token === token);
    assert.deepEqual(
      invocations.map((invocation) => invocation.step),
      ['createSecret', 'setSecret', 'setSecret', 'testSecret', 'finishSecret'],
      'the interrupted step repeated (idempotent by its token), nothing else',
    );
    assert.ok(invocations.slice(0, 2).every((invocation) => invocation.nodePid === holder.pid));
    const taker = invocations[2]!.nodePid;
    assert.ok(taker !== undefined && taker !== holder.pid && cluster.live().some((node) => node.pid === taker), 'a live node took over');
    assert.ok(invocations.slice(2).every((invocation) => invocation.nodePid === taker && invocation.ok), 'one node drove the rest');

    for (const node of cluster.live()) {
      const client = cluster.secrets(node);
      const { Versions } = await client.send(new ListSecretVersionIdsCommand({ SecretId: created.ARN, IncludeDeprecated: true }));
      const labels = Object.fromEntries((Versions ?? []).map((version) => [version.VersionId!, [...(version.VersionStages ?? [])].sort()]));
      assert.deepEqual(labels, { [token]: ['AWSCURRENT'], [created.VersionId!]: ['AWSPREVIOUS'] }, `labels through node ${node.pid}`);
      const current = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      assert.equal(current.VersionId, token);
      assert.equal(current.SecretString, rotationFunction.valueFor(token));
    }
    const outcomes = await cluster.query<{ event_name: string; n: number }>(
      `SELECT event_name, count(*)::int AS n FROM audit_events WHERE event_name LIKE 'Rotation%' AND body LIKE $1 GROUP BY event_name ORDER BY event_name`,
      [`%${token}%`],
    );
    assert.deepEqual(outcomes, [
      { event_name: 'RotationStarted', n: 1 },
      { event_name: 'RotationSucceeded', n: 1 },
    ]);
    held.release();
  });
});

function stepsOf(invocations: Invocation[], token: string): string[] {
  return invocations.filter((invocation) => invocation.token === token).map((invocation) => invocation.step);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(100);
  }
}
