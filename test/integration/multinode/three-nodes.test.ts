import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import { POSTGRES_AUDIT_BODY_COLUMNS, POSTGRES_AUDIT_TEMPLATES, postgresAuditBody } from '../../helpers/audit.js';
import { startChildNodes, type ChildNode, type ChildNodes } from '../../helpers/child-nodes.js';
import { ROTATION_STEPS, startHttpRotationFunction, type HttpRotationFunction, type Invocation } from '../../helpers/http-rotation-function.js';

/**
 * Issue 14, part 6: "Three nodes on one database: 2,000 mixed writes spread over the nodes (PutSecretValue,
 * UpdateSecretVersionStage, RotateSecret with an HTTP rotation function, KMS CreateKey/Encrypt); afterwards
 * every secret has exactly one AWSCURRENT, every acknowledged version reads back, no rotation ran twice."
 *
 * Three real `coffer server` processes on one fresh database, driven by AWS SDK clients without retries
 * (maxAttempts 1), so every failure is seen: a write counts as acknowledged only when its answer came back.
 * Refusals that concurrency makes correct (a stale RemoveFromVersionId, a RotateSecret while the secret's
 * previous rotation runs) are expected and counted; any other error fails the test.
 */
const NODES = 3;
const WRITES = 2_000;
const CONCURRENCY = 16;
const SECRETS = 24;
const FIRST_KEYS = 3;
/** Out of 100: the mix of writes. */
const MIX = { put: 45, stage: 17, rotate: 6, createKey: 4, encrypt: 28 } as const;
type WriteKind = keyof typeof MIX;

/** Each write's outcome: acknowledged, or refused with an error AWS documents for the race. */
const EXPECTED_REFUSALS: Record<WriteKind, string[]> = {
  put: [],
  // Another writer moved AWSCURRENT between our read of its holder and our move.
  stage: ['InvalidParameterException'],
  // "A previous rotation isn't complete. That rotation will be reattempted."
  rotate: ['InvalidRequestException'],
  createKey: [],
  encrypt: [],
};

type SecretState = {
  arn: string;
  /** Versions whose PutSecretValue (or CreateSecret) was acknowledged, with the value written. */
  acknowledged: Map<string, string>;
  /** Every version id a write asked for, acknowledged or not (ClientRequestToken is always ours). */
  attempted: Set<string>;
  /** Tokens of acknowledged RotateSecret calls. */
  rotations: string[];
};

type Encrypted = { keyArn: string; plaintext: Buffer; ciphertext: Uint8Array; node: number };

describe('three coffer server processes on one PostgreSQL database', () => {
  let cluster: ChildNodes;
  let rotationFunction: HttpRotationFunction;
  let functionArn: string;
  const secrets: SecretState[] = [];
  const keys: string[] = [];
  const encrypted: Encrypted[] = [];
  const outcomes: Record<WriteKind, { acknowledged: number; refused: Record<string, number> }> = {
    put: { acknowledged: 0, refused: {} },
    stage: { acknowledged: 0, refused: {} },
    rotate: { acknowledged: 0, refused: {} },
    createKey: { acknowledged: 0, refused: {} },
    encrypt: { acknowledged: 0, refused: {} },
  };

  before(async () => {
    cluster = await startChildNodes(NODES);
    rotationFunction = await startHttpRotationFunction({
      nodes: () => new Map(cluster.live().map((node) => [node.pid, node.url])),
      credentials: cluster.admin,
    });
    const lambda = new LambdaClient({ endpoint: cluster.nodes[1]!.url, region: 'us-east-1', credentials: cluster.admin, maxAttempts: 1 });
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'multinode-rotator',
        Runtime: 'coffer-http' as never,
        Role: undefined,
        Code: {},
        Timeout: 30,
        Environment: { Variables: { COFFER_FUNCTION_URL: rotationFunction.url } },
      }),
    );
    lambda.destroy();
    functionArn = created.FunctionArn!;
    for (let index = 0; index < SECRETS; index++) {
      const value = `initial:${index}`;
      const output = await smOf(index).send(new CreateSecretCommand({ Name: `multinode/secret-${index}`, SecretString: value }));
      secrets.push({ arn: output.ARN!, acknowledged: new Map([[output.VersionId!, value]]), attempted: new Set([output.VersionId!]), rotations: [] });
    }
    for (let index = 0; index < FIRST_KEYS; index++) {
      keys.push((await kmsOf(index).send(new CreateKeyCommand({ Description: `first key ${index}` }))).KeyMetadata!.Arn!);
    }
  });
  after(async () => {
    await rotationFunction?.close();
    await cluster?.dispose();
  });

  const clients = new Map<ChildNode, { sm: ReturnType<ChildNodes['secrets']>; kms: ReturnType<ChildNodes['kms']> }>();
  function clientsOf(index: number) {
    const node = cluster.nodes[index % NODES]!;
    let found = clients.get(node);
    if (!found) {
      found = { sm: cluster.secrets(node), kms: cluster.kms(node) };
      clients.set(node, found);
    }
    return found;
  }
  const smOf = (index: number) => clientsOf(index).sm;
  const kmsOf = (index: number) => clientsOf(index).kms;
  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

  function kindOf(): WriteKind {
    let roll = Math.random() * 100;
    for (const [kind, weight] of Object.entries(MIX) as Array<[WriteKind, number]>) {
      if (roll < weight) return kind;
      roll -= weight;
    }
    return 'put';
  }

  /** One write through node `index % 3`; returns normally when acknowledged, throws the SDK's error when not. */
  async function write(kind: WriteKind, index: number): Promise<void> {
    const sm = smOf(index);
    if (kind === 'put') {
      const secret = pick(secrets);
      const token = randomUUID();
      const value = `put:${token}`;
      secret.attempted.add(token);
      const output = await sm.send(new PutSecretValueCommand({ SecretId: secret.arn, ClientRequestToken: token, SecretString: value }));
      assert.equal(output.VersionId, token);
      secret.acknowledged.set(token, value);
    } else if (kind === 'stage') {
      const secret = pick(secrets);
      const target = pick([...secret.acknowledged.keys()]);
      const versions = await listVersions(sm, secret.arn);
      const holder = versions.find((version) => version.VersionStages?.includes('AWSCURRENT'))?.VersionId;
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId: secret.arn, VersionStage: 'AWSCURRENT', MoveToVersionId: target, RemoveFromVersionId: holder }));
    } else if (kind === 'rotate') {
      const secret = pick(secrets);
      const token = randomUUID();
      secret.attempted.add(token);
      const output = await sm.send(new RotateSecretCommand({ SecretId: secret.arn, ClientRequestToken: token, RotationLambdaARN: functionArn }));
      assert.equal(output.VersionId, token);
      secret.rotations.push(token);
    } else if (kind === 'createKey') {
      keys.push((await kmsOf(index).send(new CreateKeyCommand({ Description: `key made through node ${index % NODES}` }))).KeyMetadata!.Arn!);
    } else {
      const keyArn = pick(keys);
      const plaintext = randomBytes(1 + Math.floor(Math.random() * 64));
      const output = await kmsOf(index).send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }));
      assert.equal(output.KeyId, keyArn);
      encrypted.push({ keyArn, plaintext, ciphertext: output.CiphertextBlob!, node: index % NODES });
    }
  }

  it('RotateSecret on one secret through the three nodes at once: one rotation starts, the others are refused', async () => {
    const contested = await Promise.all(
      Array.from({ length: 8 }, async (_, index): Promise<SecretState> => {
        const created = await smOf(index).send(new CreateSecretCommand({ Name: `multinode/contested-${index}`, SecretString: 'start' }));
        return { arn: created.ARN!, acknowledged: new Map([[created.VersionId!, 'start']]), attempted: new Set([created.VersionId!]), rotations: [] };
      }),
    );
    await Promise.all(
      contested.map(async (secret) => {
        const tokens = cluster.nodes.map(() => randomUUID());
        for (const token of tokens) secret.attempted.add(token);
        const settled = await Promise.allSettled(
          tokens.map((token, node) => smOf(node).send(new RotateSecretCommand({ SecretId: secret.arn, ClientRequestToken: token, RotationLambdaARN: functionArn }))),
        );
        const started = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.VersionId!] : []));
        const refused = settled.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).name] : []));
        secret.rotations.push(...started);
        secrets.push(secret);
        assert.equal(started.length, 1, `${secret.arn}: one RotateSecret acknowledged, not ${JSON.stringify(started)}`);
        assert.deepEqual(refused, Array(NODES - 1).fill('InvalidRequestException'));
      }),
    );
  });

  it(`${WRITES} mixed writes through the three nodes (${CONCURRENCY} at a time): only the refusals a race explains`, async (t) => {
    const started = Date.now();
    let next = 0;
    const unexpected: string[] = [];
    const worker = async () => {
      while (next < WRITES) {
        const index = next++;
        const kind = kindOf();
        try {
          await write(kind, index);
          outcomes[kind].acknowledged++;
        } catch (error) {
          const name = (error as Error).name;
          outcomes[kind].refused[name] = (outcomes[kind].refused[name] ?? 0) + 1;
          if (!EXPECTED_REFUSALS[kind].includes(name)) unexpected.push(`${kind} through node ${index % NODES}: ${name}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    t.diagnostic(`${WRITES} writes in ${Date.now() - started} ms: ${JSON.stringify(outcomes)}`);
    const total = Object.values(outcomes).reduce((sum, outcome) => sum + outcome.acknowledged + Object.values(outcome.refused).reduce((a, b) => a + b, 0), 0);
    assert.equal(total, WRITES);
    assert.deepEqual(unexpected, [], `unexpected errors (outcomes ${JSON.stringify(outcomes)})`);
    // The mix really happened: each kind was acknowledged many times.
    for (const kind of Object.keys(MIX) as WriteKind[]) assert.ok(outcomes[kind].acknowledged >= 10, `${kind}: ${JSON.stringify(outcomes[kind])}`);
  });

  it('every acknowledged rotation finishes: its run succeeded and nothing is left running', async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const open = await cluster.query("SELECT secret_arn, token, status, step, attempts, last_error FROM rotation_runs WHERE status <> 'succeeded'");
      if (open.length === 0) break;
      assert.ok(Date.now() < deadline, `rotations still unfinished: ${JSON.stringify(open)}`);
      await sleep(200);
    }
    const runs = await cluster.query<{ secret_arn: string; token: string; status: string }>('SELECT secret_arn, token, status FROM rotation_runs');
    const acknowledged = secrets.flatMap((secret) => secret.rotations.map((token) => `${secret.arn} ${token}`));
    assert.deepEqual(runs.map((run) => `${run.secret_arn} ${run.token}`).sort(), acknowledged.sort(), 'one run per acknowledged RotateSecret, none other');
  });

  it('every secret has exactly one AWSCURRENT, the same through every node, and only versions a write asked for', async () => {
    // Reads may be served from a node's cache for up to a second.
    await sleep(1_100);
    for (const secret of secrets) {
      const seen = await Promise.all(cluster.nodes.map((node) => listVersions(cluster.secrets(node), secret.arn)));
      const labels = seen.map((versions) => Object.fromEntries(versions.map((version) => [version.VersionId!, [...(version.VersionStages ?? [])].sort()])));
      assert.deepEqual(labels[1], labels[0], `node 1 and node 0 agree on ${secret.arn}`);
      assert.deepEqual(labels[2], labels[0], `node 2 and node 0 agree on ${secret.arn}`);
      const versions = seen[0]!;
      const holding = (stage: string) => versions.filter((version) => version.VersionStages?.includes(stage)).map((version) => version.VersionId!);
      assert.equal(holding('AWSCURRENT').length, 1, `${secret.arn}: ${JSON.stringify(labels[0])}`);
      assert.ok(holding('AWSPREVIOUS').length <= 1);
      assert.deepEqual(holding('AWSPENDING'), [], 'finished rotations leave no AWSPENDING');
      const ids = new Set(versions.map((version) => version.VersionId!));
      for (const versionId of [...secret.acknowledged.keys(), ...secret.rotations]) assert.ok(ids.has(versionId), `acknowledged version ${versionId} listed`);
      for (const versionId of ids) assert.ok(secret.attempted.has(versionId), `version ${versionId} was asked for by a write`);
    }
  });

  it('every acknowledged version reads back with its value, through every node', async () => {
    const reads: Array<{ arn: string; versionId: string; value: string }> = [];
    for (const secret of secrets) {
      for (const [versionId, value] of secret.acknowledged) reads.push({ arn: secret.arn, versionId, value });
      for (const token of secret.rotations) reads.push({ arn: secret.arn, versionId: token, value: rotationFunction.valueFor(token) });
    }
    assert.ok(reads.length > SECRETS);
    let next = 0;
    const worker = async () => {
      while (next < reads.length) {
        const index = next++;
        const { arn, versionId, value } = reads[index]!;
        const output = await smOf(index).send(new GetSecretValueCommand({ SecretId: arn, VersionId: versionId }));
        assert.equal(output.SecretString, value, `${arn} ${versionId}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  });

  it('every key is enabled on every node and decrypts, through another node, what was encrypted under it', async () => {
    for (const [index, keyArn] of keys.entries()) {
      const described = await kmsOf(index).send(new DescribeKeyCommand({ KeyId: keyArn }));
      assert.equal(described.KeyMetadata?.KeyState, 'Enabled');
    }
    assert.ok(encrypted.length > 100);
    let next = 0;
    const worker = async () => {
      while (next < encrypted.length) {
        const { keyArn, plaintext, ciphertext, node } = encrypted[next++]!;
        const decrypted = await kmsOf(node + 1).send(new DecryptCommand({ CiphertextBlob: ciphertext }));
        assert.equal(decrypted.KeyId, keyArn);
        assert.deepEqual(Buffer.from(decrypted.Plaintext!), plaintext);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  });

  /**
   * What is asserted, per acknowledged rotation token: its steps were invoked one at a time (each invocation
   * answered before the next began), by the nodes of the deployment; leaving out invocations that failed (which
   * AWS's protocol retries, from the failed step), the invocations are exactly createSecret, setSecret,
   * testSecret, finishSecret, once each and in that order; and when none failed, one node sent them all.
   * A repeat is therefore only ever the retry of a failed step, never a second run of a finished one.
   */
  it('no rotation ran twice: each token went through the four steps once, in order, one invocation at a time', async () => {
    const byToken = new Map<string, Invocation[]>();
    for (const invocation of rotationFunction.invocations) {
      const list = byToken.get(invocation.token) ?? byToken.set(invocation.token, []).get(invocation.token)!;
      list.push(invocation);
    }
    const tokens = secrets.flatMap((secret) => secret.rotations);
    assert.deepEqual([...byToken.keys()].sort(), [...tokens].sort(), 'the function saw exactly the acknowledged rotations');
    const pids = new Set(cluster.nodes.map((node) => node.pid));
    const drivers = new Set<number>();
    let failedSteps = 0;
    for (const token of tokens) {
      const invocations = byToken.get(token)!.sort((a, b) => a.startedAt - b.startedAt);
      for (let index = 1; index < invocations.length; index++) {
        const previous = invocations[index - 1]!;
        assert.ok(previous.endedAt !== undefined && previous.endedAt <= invocations[index]!.startedAt, `${token}: ${invocations[index]!.step} began before ${previous.step} ended`);
      }
      assert.deepEqual(
        invocations.filter((invocation) => invocation.ok).map((invocation) => invocation.step),
        [...ROTATION_STEPS],
        `${token}: ${JSON.stringify(invocations)}`,
      );
      for (const invocation of invocations) assert.ok(invocation.nodePid !== undefined && pids.has(invocation.nodePid), `${token}: sent by a node`);
      const failed = invocations.filter((invocation) => !invocation.ok);
      failedSteps += failed.length;
      if (failed.length === 0) assert.equal(new Set(invocations.map((invocation) => invocation.nodePid)).size, 1, `${token}: one node drove it`);
      for (const invocation of invocations) drivers.add(invocation.nodePid!);
    }
    assert.ok(tokens.length >= 10, `${tokens.length} rotations`);
    assert.equal(drivers.size, NODES, 'every node drove rotations');
    assert.equal(failedSteps, 0, 'no step failed (a failure would show a race in the function or in Coffer)');
  });

  it('`coffer audit verify --store` finds the one chain of all three nodes intact', async () => {
    // Stopping a node anchors the chain's head, as it does every few seconds while the chain grows.
    await Promise.all(cluster.nodes.map((node) => node.stop('SIGTERM')));
    const verified = await cluster.verifyAudit();
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /^\d+ events, chain intact$/m);
    const events = Number(/^(\d+) events/.exec(verified.stdout)![1]);
    assert.ok(events >= WRITES, `${events} events for ${WRITES} writes`);
    // Every acknowledged PutSecretValue is in it, from whichever node: the writers' and one per rotation (createSecret).
    const putBodies = await cluster.query<{ body: Buffer; event_id: string; event_time: string; resource_names: string[] }>(
      `SELECT ${POSTGRES_AUDIT_BODY_COLUMNS} FROM audit_events WHERE event_name = 'PutSecretValue'`,
    );
    const templates = await cluster.query<{ id: string; template: string }>(POSTGRES_AUDIT_TEMPLATES);
    const puts = { n: putBodies.filter((row) => !postgresAuditBody(row, templates).includes('"errorCode"')).length };
    assert.equal(puts.n, outcomes.put.acknowledged + secrets.flatMap((secret) => secret.rotations).length);
  });
});

async function listVersions(client: ReturnType<ChildNodes['secrets']>, secretId: string): Promise<SecretVersionsListEntry[]> {
  const versions: SecretVersionsListEntry[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, MaxResults: 100, NextToken: token }));
    versions.push(...(page.Versions ?? []));
    token = page.NextToken;
  } while (token);
  return versions;
}
