import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { startChildNodes, type ChildNode, type ChildNodes } from '../../helpers/child-nodes.js';
import { startHttpRotationFunction, type HttpRotationFunction, type Invocation, type RotationStep } from '../../helpers/http-rotation-function.js';
import { POSTGRES_AUDIT_BODY_COLUMNS, POSTGRES_AUDIT_TEMPLATES, postgresAuditBody } from '../../helpers/audit.js';

/**
 * Issue 14: "`kill -9` of the node holding a rotation lease mid-rotation: another node finishes it", and
 * "exactly one node drives a given rotation, and another takes it over when its holder dies mid-rotation".
 *
 * Three `coffer server` processes on one database, with a 2 s rotation lease and maintenance every second
 * (`--rotation-lease 2 --maintenance-interval 1`; the defaults are 30 s and 60 s). The HTTP rotation
 * function holds a step until the test lets it go; the node whose invocation arrived holds the lease. The
 * holder is frozen past its lease (and resumed), killed in setSecret, killed after finishSecret's move; each
 * time another node claims the run (lease epoch 2), repeats only the interrupted step and completes it, and
 * the one audit chain has one RotationStarted and one RotationSucceeded for the token.
 */
const LEASE_SECONDS = 2;

type RunRow = { status: string; step: string; attempts: number; lease_owner: string | null; lease_expires_at: number | null; lease_epoch: number };

describe('a rotation whose lease holder stops mid-rotation', () => {
  let cluster: ChildNodes;
  let rotationFunction: HttpRotationFunction;
  let functionArn: string;

  before(async () => {
    cluster = await startChildNodes(3, { args: ['--rotation-lease', String(LEASE_SECONDS), '--maintenance-interval', '1'] });
    rotationFunction = await startHttpRotationFunction({
      nodes: () => new Map(cluster.live().map((node) => [node.pid, node.url])),
      credentials: cluster.admin,
      route: 'invoker',
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

  /**
   * A new secret rotated through a live node, with `step` held (`when` its work is done or not yet): resolves
   * once the held invocation arrived, naming the node it came from, the lease holder.
   */
  async function heldRotation(name: string, step: RotationStep, when: 'before' | 'after') {
    const [via, other] = cluster.live();
    const created = await cluster.secrets(other!).send(new CreateSecretCommand({ Name: name, SecretString: `${name} before` }));
    const held = rotationFunction.hold(step, when);
    const rotated = await cluster.secrets(via!).send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: functionArn }));
    const arrived = await Promise.race([held.arrived, sleep(15_000, undefined, { ref: false })]);
    assert.ok(arrived, `${step} was invoked`);
    const holder = cluster.nodes.find((node) => node.pid === arrived.nodePid);
    assert.ok(holder, `the held ${step} came from a node (pid ${arrived.nodePid})`);
    return { arn: created.ARN!, firstVersion: created.VersionId!, token: rotated.VersionId!, held, holder };
  }

  const succeeded = (arn: string, token: string) =>
    waitFor(async () => {
      const run = await runOf(arn, token);
      return run.status === 'succeeded' ? run : undefined;
    }, 20_000);

  /** Through every live node: the token AWSCURRENT with the function's value, the first version AWSPREVIOUS, nothing else. */
  async function assertRotated(arn: string, firstVersion: string, token: string) {
    for (const node of cluster.live()) {
      const client = cluster.secrets(node);
      const { Versions } = await client.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }));
      const labels = Object.fromEntries((Versions ?? []).map((version) => [version.VersionId!, [...(version.VersionStages ?? [])].sort()]));
      assert.deepEqual(labels, { [token]: ['AWSCURRENT'], [firstVersion]: ['AWSPREVIOUS'] }, `labels through node ${node.pid}`);
      const current = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      assert.equal(current.VersionId, token);
      assert.equal(current.SecretString, rotationFunction.valueFor(token));
    }
  }

  /** The rotation outcome events of the token in the one audit chain, by name. */
  const outcomesOf = async (token: string) => {
    // The body is stored encoded (store/audit-codec.ts): decoded here, then counted by name.
    const rows = await cluster.query<{ event_name: string; body: Buffer; event_id: string; event_time: string; resource_names: string[] }>(
      `SELECT event_name, ${POSTGRES_AUDIT_BODY_COLUMNS} FROM audit_events WHERE event_name LIKE 'Rotation%' ORDER BY event_name`,
    );
    const templates = await cluster.query<{ id: string; template: string }>(POSTGRES_AUDIT_TEMPLATES);
    const counts = new Map<string, number>();
    for (const row of rows) if (postgresAuditBody(row, templates).includes(token)) counts.set(row.event_name, (counts.get(row.event_name) ?? 0) + 1);
    return [...counts].map(([event_name, n]) => ({ event_name, n }));
  };
  const STARTED_AND_SUCCEEDED = [
    { event_name: 'RotationStarted', n: 1 },
    { event_name: 'RotationSucceeded', n: 1 },
  ];

  /** The token's invocations: `steps` in order, the first `byHolder` sent by the holder, the rest by one other live node. */
  function assertDrivers(token: string, steps: RotationStep[], byHolder: number, holder: ChildNode) {
    const invocations = rotationFunction.invocations.filter((invocation) => invocation.token === token);
    assert.deepEqual(invocations.map((invocation) => invocation.step), steps);
    assert.ok(invocations.slice(0, byHolder).every((invocation) => invocation.nodePid === holder.pid), 'the holder drove the first steps');
    const taker = invocations[byHolder]!.nodePid;
    assert.ok(taker !== undefined && taker !== holder.pid && cluster.nodes.some((node) => node.pid === taker), 'another node took over');
    assert.ok(invocations.slice(byHolder).every((invocation) => invocation.nodePid === taker && invocation.ok), 'one node drove the rest');
  }

  it('a holder frozen (SIGSTOP) past its lease: another node takes over and finishes; resumed, the old holder writes nothing', async () => {
    const { arn, firstVersion, token, held, holder } = await heldRotation('takeover/frozen', 'setSecret', 'before');
    holder.process.kill('SIGSTOP');
    try {
      const finished = await succeeded(arn, token);
      assert.equal(finished.lease_epoch, 2);
      held.release();
    } finally {
      holder.process.kill('SIGCONT');
    }
    // The resumed holder's setSecret answers, its renewal and progress are refused: it stops there.
    await sleep(LEASE_SECONDS * 1_000);
    const after = await runOf(arn, token);
    assert.deepEqual({ status: after.status, epoch: after.lease_epoch, attempts: after.attempts }, { status: 'succeeded', epoch: 2, attempts: 0 });
    assertDrivers(token, ['createSecret', 'setSecret', 'setSecret', 'testSecret', 'finishSecret'], 2, holder);
    assert.deepEqual(await outcomesOf(token), STARTED_AND_SUCCEEDED, 'no failure or second success from the old holder');
    await assertRotated(arn, firstVersion, token);
  });

  it('kill -9 of the lease holder during setSecret: another node takes the run over, repeats setSecret and finishes it', async () => {
    const { arn, firstVersion, token, held, holder } = await heldRotation('takeover/killed', 'setSecret', 'before');
    // While the holder lives, its renewals keep the run its own past the lease's length.
    const claimed = await runOf(arn, token);
    assert.equal(claimed.lease_epoch, 1);
    assert.equal(claimed.step, 'setSecret', 'createSecret is recorded done');
    await sleep(LEASE_SECONDS * 1_500);
    const renewed = await runOf(arn, token);
    assert.equal(renewed.lease_epoch, 1, 'no other node claimed the run while its holder lived');
    assert.equal(renewed.lease_owner, claimed.lease_owner);
    assert.ok(renewed.lease_expires_at! > claimed.lease_expires_at!, 'the holder renewed its lease');
    assert.deepEqual(stepsOf(rotationFunction.invocations, token), ['createSecret', 'setSecret']);

    await holder.stop('SIGKILL');
    const finished = await succeeded(arn, token);
    assert.equal(finished.lease_epoch, 2, 'claimed once more: by the node that took over');
    assert.equal(finished.attempts, 0, 'no attempt failed: the takeover is not a failure');
    // The interrupted step repeats (idempotent by its token), nothing else.
    assertDrivers(token, ['createSecret', 'setSecret', 'setSecret', 'testSecret', 'finishSecret'], 2, holder);
    await assertRotated(arn, firstVersion, token);
    assert.deepEqual(await outcomesOf(token), STARTED_AND_SUCCEEDED);
    held.release();
  });

  it('kill -9 of the lease holder after finishSecret moved AWSCURRENT: the taker repeats finishSecret, which finds it done', async () => {
    const { arn, firstVersion, token, held, holder } = await heldRotation('takeover/finishing', 'finishSecret', 'after');
    await holder.stop('SIGKILL');
    const finished = await succeeded(arn, token);
    assert.equal(finished.lease_epoch, 2);
    assertDrivers(token, ['createSecret', 'setSecret', 'testSecret', 'finishSecret', 'finishSecret'], 4, holder);
    await assertRotated(arn, firstVersion, token);
    assert.deepEqual(await outcomesOf(token), STARTED_AND_SUCCEEDED);
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
