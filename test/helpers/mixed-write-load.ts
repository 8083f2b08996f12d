import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateUserCommand, GetUserCommand, GetUserPolicyCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { rotatedValue } from './http-rotation-function.js';

/**
 * A mixed write load on several Coffer nodes (CreateSecret, PutSecretValue, UpdateSecretVersionStage, KMS
 * CreateKey + Encrypt) that keeps a ledger of what each node acknowledged, times every call, and afterwards
 * checks through every node that each acknowledged write reads back and the staging labels are where the
 * acknowledged calls put them.
 *
 * A call that fails may still have committed (the database died between COMMIT and its reply). So a worker
 * settles a failed mutation before its next one: CreateSecret and PutSecretValue are sent again with the same
 * ClientRequestToken (a retry AWS defines as idempotent), and a failed label move is looked up with
 * DescribeSecret, where AWSCURRENT must be on the old or the new version, nowhere else. Once every worker
 * has settled, the expected state of every secret is exact.
 *
 * With options it also rotates secrets of its own (RotateSecret with an HTTP rotation function, one run at a
 * time per secret) and writes IAM (CreateUser, PutUserPolicy), and it keeps the request id of every
 * acknowledged call, so a test can look for each one's audit event.
 */

export type LoadNode = { name: string; secrets: SecretsManagerClient; kms: KMSClient; iam?: IAMClient };

export type LoadOptions = {
  /** RotateSecret on secrets kept for it, with this function (http-rotation-function.ts, as a coffer-http function). */
  rotation?: { functionArn: string };
  /** CreateUser and PutUserPolicy too (every node needs its `iam` client). */
  iam?: boolean;
};

/** An acknowledged call and the request id its response carried (the audit event's requestID). */
export type Acknowledged = { node: string; operation: string; requestId: string | undefined };

export type CallRecord = {
  node: string;
  operation: string;
  startedAt: number;
  durationMs: number;
  /** The AWS error name (or the client's: TimeoutError, a socket error) when the call failed. */
  error?: { name: string; httpStatus: number | undefined; message: string };
};

type SecretLedger = {
  name: string;
  /** Acknowledged versions: id → value. */
  versions: Map<string, string>;
  current: string | undefined;
  previous: string | undefined;
  /** A mutation that failed and may or may not have happened, settled before the next. */
  unsettled: Unsettled | undefined;
  /**
   * Only on secrets kept for rotation (nothing else writes to them): each RotateSecret's token in order, and
   * whether it was acknowledged. An unacknowledged one may have started a rotation, or not.
   */
  rotations?: Array<{ token: string; acknowledged: boolean }>;
};

/** An acknowledged IAM user and its acknowledged inline policies (name → document). */
type UserLedger = { name: string; policies: Map<string, string> };

type Unsettled =
  | { kind: 'create'; token: string; value: string }
  | { kind: 'put'; token: string; value: string }
  | { kind: 'stage'; from: string; to: string; failedAt: number };

type EncryptedSample = { keyId: string; plaintext: Buffer; ciphertext: Uint8Array };

/**
 * A node serves point reads from a cache for up to 500 ms, so another node's write may take that long to
 * show through it (PostgresStore's readCacheMaxAgeMs). Label checks after a failure, and the final read-back,
 * wait this long first.
 */
export const CROSS_NODE_STALENESS_MS = 600;

const VERSIONS_PER_SECRET = 12;
const BACKOFF_AFTER_FAILURE_MS = 100;
/** Read-back checks in flight at once through one node (thousands of them after a full crash run). */
const VERIFY_CONCURRENCY = 8;
/** How often waitForRotations looks again, and asks again for a run that has not ended. */
const ROTATION_POLL_MS = 1_000;

export class MixedWriteLoad {
  readonly calls: CallRecord[] = [];
  /** Answers that are wrong whatever the database did: a label where no call put it, a value that differs. */
  readonly violations: string[] = [];
  /** Every acknowledged call (DescribeSecret lookups included), with its request id. */
  readonly acknowledged: Acknowledged[] = [];
  readonly #nodes: LoadNode[];
  readonly #options: LoadOptions;
  readonly #secrets: SecretLedger[] = [];
  readonly #keys: string[] = [];
  readonly #samples: EncryptedSample[] = [];
  readonly #users: UserLedger[] = [];
  #stopping = false;
  #workers: Promise<void>[] = [];

  constructor(nodes: LoadNode[], options: LoadOptions = {}) {
    this.#nodes = nodes;
    this.#options = options;
  }

  /** Starts `workers` loops; each owns its secrets and sends each call to the next node in turn. */
  start(workers: number): void {
    this.#workers = Array.from({ length: workers }, (_, index) => this.#work(index));
  }

  /** Lets every worker finish its call and stop (also what a failed test does, so no worker outlives it). */
  async halt(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#workers);
  }

  /** Halts the workers, then settles what is still unsettled, retrying until `deadline`. */
  async stop(deadline: number): Promise<void> {
    await this.halt();
    for (const secret of this.#secrets) {
      while (secret.unsettled) {
        if (Date.now() > deadline) throw new Error(`could not settle ${secret.name} (${secret.unsettled.kind}) before the deadline`);
        await this.#settle(secret, this.#nodes[randomInt(this.#nodes.length)]!);
        if (secret.unsettled) await sleep(BACKOFF_AFTER_FAILURE_MS);
      }
    }
  }

  /**
   * Acknowledged writes: secrets created, versions written, keys created, ciphertexts returned, and (with the
   * options) rotations started, users created and user policies written.
   */
  counts() {
    const versions = this.#secrets.reduce((sum, secret) => sum + secret.versions.size, 0);
    const rotations = this.#secrets.reduce((sum, secret) => sum + (secret.rotations?.filter((rotation) => rotation.acknowledged).length ?? 0), 0);
    const policies = this.#users.reduce((sum, user) => sum + user.policies.size, 0);
    return {
      secrets: this.#secrets.filter((secret) => secret.current).length,
      versions,
      keys: this.#keys.length,
      ciphertexts: this.#samples.length,
      rotations,
      users: this.#users.length,
      policies,
    };
  }

  /**
   * Waits until no secret kept for rotation has a run still open (a version under AWSPENDING), asking again
   * with RotateSecret every ROTATION_POLL_MS for those that have one: AWS answers "A previous rotation isn't
   * complete" and makes the open run due at once, instead of at its backoff. Should the run have ended just
   * before, that RotateSecret starts a new one, under a token the ledger keeps like any other.
   */
  async waitForRotations(node: LoadNode, deadline: number): Promise<void> {
    let open = this.#secrets.filter((secret) => secret.rotations && secret.current);
    while (open.length > 0) {
      await sleep(ROTATION_POLL_MS);
      const stillOpen: SecretLedger[] = [];
      for (const secret of open) {
        const described = await this.#call(node, 'DescribeSecret', () => node.secrets.send(new DescribeSecretCommand({ SecretId: secret.name })));
        const pending = !described || Object.values(described.VersionIdsToStages ?? {}).some((stages) => stages.includes('AWSPENDING'));
        if (!pending) continue;
        stillOpen.push(secret);
        await this.#rotate(node, secret);
      }
      open = stillOpen;
      if (open.length > 0 && Date.now() > deadline) throw new Error(`rotations still open at the deadline: ${open.map((secret) => secret.name).join(', ')}`);
    }
  }

  /** Whether any node acknowledged a mutation that started after `since`. */
  acknowledgedSinceAnywhere(since: number): boolean {
    return this.#nodes.some((node) => this.acknowledgedSince(node.name, since));
  }

  /** Whether `node` acknowledged a mutation that started after `since`. */
  acknowledgedSince(node: string, since: number): boolean {
    return this.calls.some((call) => call.node === node && call.startedAt >= since && !call.error && call.operation !== 'DescribeSecret');
  }

  /**
   * Reads everything back through `node`: each secret's versions and labels exactly as acknowledged, each
   * value, each key enabled, each ciphertext decrypting to its plaintext. Returns what differs.
   */
  async verifyThrough(node: LoadNode): Promise<string[]> {
    await sleep(CROSS_NODE_STALENESS_MS);
    const checks: Array<() => Promise<string[]>> = [
      ...this.#secrets.filter((secret) => secret.current).map((secret) => () => verifySecret(node, secret)), // (never created: no current)
      ...this.#keys.map((keyId) => async () => {
        const described = await node.kms.send(new DescribeKeyCommand({ KeyId: keyId }));
        return described.KeyMetadata?.KeyState === 'Enabled' ? [] : [`${node.name}: key ${keyId} is ${described.KeyMetadata?.KeyState}`];
      }),
      ...this.#samples.map((sample) => async () => {
        const decrypted = await node.kms.send(new DecryptCommand({ CiphertextBlob: sample.ciphertext }));
        const problems: string[] = [];
        if (!Buffer.from(decrypted.Plaintext ?? []).equals(sample.plaintext)) problems.push(`${node.name}: a ciphertext of ${sample.keyId} decrypts to another plaintext`);
        if (keyIdOf(decrypted.KeyId) !== sample.keyId) problems.push(`${node.name}: a ciphertext of ${sample.keyId} names ${decrypted.KeyId}`);
        return problems;
      }),
      ...this.#users.map((user) => () => verifyUser(node, user)),
    ];
    return (await inTurns(checks, VERIFY_CONCURRENCY)).flat();
  }

  async #work(worker: number): Promise<void> {
    const own: SecretLedger[] = [];
    const keys: string[] = [];
    for (let turn = worker; !this.#stopping; turn++) {
      const node = this.#nodes[turn % this.#nodes.length]!;
      const unsettled = own.find((secret) => secret.unsettled);
      const ok = unsettled ? await this.#settle(unsettled, node) : await this.#nextWrite(node, own, keys);
      if (!ok) await sleep(BACKOFF_AFTER_FAILURE_MS);
    }
  }

  /**
   * One write chosen by weight: new secrets, new versions, label moves, and KMS keys with an encryption; with
   * the options, one in four is a RotateSecret or an IAM write instead.
   */
  #nextWrite(node: LoadNode, own: SecretLedger[], keys: string[]): Promise<boolean> {
    const extra = this.#extraWrite(node, own);
    if (extra) return extra;
    const plain = own.filter((secret) => !secret.rotations);
    const writable = plain.filter((secret) => secret.current && secret.versions.size < VERSIONS_PER_SECRET);
    const movable = plain.filter((secret) => secret.current && secret.versions.size >= 2);
    const roll = randomInt(100);
    if (roll < 20 || writable.length === 0) return this.#createSecret(node, own);
    if (roll < 55) return this.#putSecretValue(node, pick(writable));
    if (roll < 75 && movable.length > 0) return this.#moveCurrent(node, pick(movable));
    if (roll < 85 || keys.length === 0) return this.#createKey(node, keys);
    return this.#encrypt(node, pick(keys));
  }

  /** With the options: a RotateSecret (on a secret of its own, created first) or an IAM write, 1 in 8 each. */
  #extraWrite(node: LoadNode, own: SecretLedger[]): Promise<boolean> | undefined {
    const roll = randomInt(8);
    if (roll === 0 && this.#options.rotation) {
      const rotatable = own.filter((secret) => secret.rotations && secret.current);
      if (rotatable.length < 2 && randomInt(2) === 0) return this.#createSecret(node, own, true);
      return rotatable.length > 0 ? this.#rotate(node, pick(rotatable)) : this.#createSecret(node, own, true);
    }
    if (roll === 1 && this.#options.iam) return this.#writeIam(node);
    return undefined;
  }

  /**
   * RotateSecret under a new token. AWS refuses it (InvalidRequestException) while the secret's previous run
   * is open, which changes nothing; any other failure may have started the run, so the token stays, not
   * acknowledged.
   */
  async #rotate(node: LoadNode, secret: SecretLedger): Promise<boolean> {
    const rotation = { token: randomUUID(), acknowledged: false };
    secret.rotations!.push(rotation);
    const outcome = await this.#attempt(node, 'RotateSecret', () =>
      node.secrets.send(
        new RotateSecretCommand({ SecretId: secret.name, ClientRequestToken: rotation.token, RotationLambdaARN: this.#options.rotation!.functionArn, RotateImmediately: true }),
      ),
    );
    if (outcome.ok) {
      rotation.acknowledged = true;
      const answered = outcome.result.VersionId;
      if (answered !== rotation.token) this.violations.push(`${node.name}: RotateSecret of ${secret.name} answered version ${answered}, asked for ${rotation.token}`);
    } else if (outcome.error.name === 'InvalidRequestException') {
      secret.rotations!.splice(secret.rotations!.indexOf(rotation), 1);
    }
    return outcome.ok;
  }

  /** A new user (until there are a few), or a new inline policy of one; a failed call is simply not in the ledger. */
  async #writeIam(node: LoadNode): Promise<boolean> {
    const iam = node.iam!;
    if (this.#users.length < 4 || randomInt(3) === 0) {
      const name = `crash-${randomBytes(6).toString('hex')}`;
      const created = await this.#call(node, 'CreateUser', () => iam.send(new CreateUserCommand({ UserName: name })));
      if (created) this.#users.push({ name, policies: new Map() });
      return created !== undefined;
    }
    const user = pick(this.#users);
    const policyName = `p-${randomBytes(4).toString('hex')}`;
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: `S${randomBytes(4).toString('hex')}`, Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    const put = await this.#call(node, 'PutUserPolicy', () => iam.send(new PutUserPolicyCommand({ UserName: user.name, PolicyName: policyName, PolicyDocument: document })));
    if (put) user.policies.set(policyName, document);
    return put !== undefined;
  }

  async #createSecret(node: LoadNode, own: SecretLedger[], forRotation = false): Promise<boolean> {
    const secret: SecretLedger = {
      name: `${forRotation ? 'rotated' : 'failover'}-${randomBytes(6).toString('hex')}`,
      versions: new Map(),
      current: undefined,
      previous: undefined,
      unsettled: undefined,
      ...(forRotation ? { rotations: [] } : {}),
    };
    own.push(secret);
    this.#secrets.push(secret);
    secret.unsettled = { kind: 'create', token: randomUUID(), value: randomValue() };
    return this.#settle(secret, node);
  }

  async #putSecretValue(node: LoadNode, secret: SecretLedger): Promise<boolean> {
    secret.unsettled = { kind: 'put', token: randomUUID(), value: randomValue() };
    return this.#settle(secret, node);
  }

  async #moveCurrent(node: LoadNode, secret: SecretLedger): Promise<boolean> {
    const from = secret.current!;
    const to = pick([...secret.versions.keys()].filter((id) => id !== from));
    const moved = await this.#call(node, 'UpdateSecretVersionStage', () =>
      node.secrets.send(new UpdateSecretVersionStageCommand({ SecretId: secret.name, VersionStage: 'AWSCURRENT', MoveToVersionId: to, RemoveFromVersionId: from })),
    );
    if (moved) moveCurrentTo(secret, to);
    else secret.unsettled = { kind: 'stage', from, to, failedAt: Date.now() };
    return moved !== undefined;
  }

  async #createKey(node: LoadNode, keys: string[]): Promise<boolean> {
    const created = await this.#call(node, 'CreateKey', () => node.kms.send(new CreateKeyCommand({ Description: 'failover load' })));
    const keyId = created?.KeyMetadata?.KeyId;
    if (keyId) {
      keys.push(keyId);
      this.#keys.push(keyId);
    }
    return created !== undefined;
  }

  async #encrypt(node: LoadNode, keyId: string): Promise<boolean> {
    const plaintext = randomBytes(32);
    const encrypted = await this.#call(node, 'Encrypt', () => node.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext })));
    if (encrypted?.CiphertextBlob) this.#samples.push({ keyId, plaintext, ciphertext: encrypted.CiphertextBlob });
    return encrypted !== undefined;
  }

  /** Sends the unsettled mutation again (or looks a label move up); true once it is settled. */
  async #settle(secret: SecretLedger, node: LoadNode): Promise<boolean> {
    const unsettled = secret.unsettled!;
    if (unsettled.kind === 'stage') return this.#settleMove(secret, node, unsettled);
    const result =
      unsettled.kind === 'create'
        ? await this.#call(node, 'CreateSecret', () =>
            node.secrets.send(new CreateSecretCommand({ Name: secret.name, SecretString: unsettled.value, ClientRequestToken: unsettled.token })),
          )
        : await this.#call(node, 'PutSecretValue', () =>
            node.secrets.send(new PutSecretValueCommand({ SecretId: secret.name, SecretString: unsettled.value, ClientRequestToken: unsettled.token })),
          );
    if (!result) return false;
    if (result.VersionId !== unsettled.token) this.violations.push(`${node.name}: ${secret.name} acknowledged version ${result.VersionId}, asked for ${unsettled.token}`);
    secret.versions.set(unsettled.token, unsettled.value);
    moveCurrentTo(secret, unsettled.token);
    secret.unsettled = undefined;
    return true;
  }

  async #settleMove(secret: SecretLedger, node: LoadNode, move: { from: string; to: string; failedAt: number }): Promise<boolean> {
    await sleep(Math.max(0, move.failedAt + CROSS_NODE_STALENESS_MS - Date.now()));
    const described = await this.#call(node, 'DescribeSecret', () => node.secrets.send(new DescribeSecretCommand({ SecretId: secret.name })));
    if (!described) return false;
    const holders = Object.entries(described.VersionIdsToStages ?? {}).filter(([, stages]) => stages.includes('AWSCURRENT'));
    const holder = holders.length === 1 ? holders[0]![0] : undefined;
    if (holder === move.to) moveCurrentTo(secret, move.to);
    else if (holder !== move.from) this.violations.push(`${node.name}: after a failed move ${move.from} → ${move.to}, AWSCURRENT of ${secret.name} is on ${JSON.stringify(holders)}`);
    secret.unsettled = undefined;
    return true;
  }

  /** Runs one call, records its node, duration and error; the result, or undefined when it failed. */
  async #call<T>(node: LoadNode, operation: string, send: () => Promise<T>): Promise<T | undefined> {
    const outcome = await this.#attempt(node, operation, send);
    return outcome.ok ? outcome.result : undefined;
  }

  /** Runs one call and records it (and, acknowledged, its request id); the result or the error. */
  async #attempt<T>(node: LoadNode, operation: string, send: () => Promise<T>): Promise<{ ok: true; result: T } | { ok: false; error: NonNullable<CallRecord['error']> }> {
    const startedAt = Date.now();
    try {
      const result = await send();
      this.calls.push({ node: node.name, operation, startedAt, durationMs: Date.now() - startedAt });
      this.acknowledged.push({ node: node.name, operation, requestId: (result as { $metadata?: { requestId?: string } }).$metadata?.requestId });
      return { ok: true, result };
    } catch (thrown) {
      const failure = thrown as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const error = { name: failure.name ?? 'Error', httpStatus: failure.$metadata?.httpStatusCode, message: failure.message ?? String(thrown) };
      this.calls.push({ node: node.name, operation, startedAt, durationMs: Date.now() - startedAt, error });
      return { ok: false, error };
    }
  }
}

/** AWSCURRENT moves to `versionId`; AWSPREVIOUS to the version that had it (AWS moves both together). */
function moveCurrentTo(secret: SecretLedger, versionId: string): void {
  if (secret.current === versionId) return;
  secret.previous = secret.current;
  secret.current = versionId;
}

async function verifySecret(node: LoadNode, secret: SecretLedger): Promise<string[]> {
  if (secret.rotations) return verifyRotatedSecret(node, secret);
  const problems: string[] = [];
  const listed = await node.secrets.send(new ListSecretVersionIdsCommand({ SecretId: secret.name, IncludeDeprecated: true, MaxResults: 100 }));
  const stagesById = new Map((listed.Versions ?? []).map((version) => [version.VersionId!, version.VersionStages ?? []]));
  const where = (stage: string) => [...stagesById].filter(([, stages]) => stages.includes(stage)).map(([id]) => id);
  const missing = [...secret.versions.keys()].filter((id) => !stagesById.has(id));
  const unknown = [...stagesById.keys()].filter((id) => !secret.versions.has(id));
  if (missing.length > 0) problems.push(`${node.name}: ${secret.name} lost acknowledged versions ${missing.join(',')}`);
  if (unknown.length > 0) problems.push(`${node.name}: ${secret.name} has versions no call created ${unknown.join(',')}`);
  const current = where('AWSCURRENT');
  if (current.length !== 1 || current[0] !== secret.current) problems.push(`${node.name}: ${secret.name} AWSCURRENT on ${current.join(',') || 'nothing'}, expected ${secret.current}`);
  const previous = where('AWSPREVIOUS');
  const expectedPrevious = secret.previous ? [secret.previous] : [];
  if (JSON.stringify(previous) !== JSON.stringify(expectedPrevious)) problems.push(`${node.name}: ${secret.name} AWSPREVIOUS on ${previous.join(',') || 'nothing'}, expected ${secret.previous}`);
  const pending = where('AWSPENDING');
  if (pending.length > 0) problems.push(`${node.name}: ${secret.name} has AWSPENDING on ${pending.join(',')}, though nothing rotates it`);
  for (const [versionId, value] of secret.versions) {
    const read = await node.secrets.send(new GetSecretValueCommand({ SecretId: secret.name, VersionId: versionId }));
    if (read.SecretString !== value) problems.push(`${node.name}: ${secret.name} version ${versionId} reads another value`);
  }
  return problems;
}

/**
 * A secret only RotateSecret wrote to, once its runs have ended: the version CreateSecret made and one per
 * rotation that started (every acknowledged one, and any unacknowledged one that got as far), each holding
 * its value; AWSCURRENT on the newest of them, AWSPREVIOUS on the one before, AWSPENDING nowhere.
 */
async function verifyRotatedSecret(node: LoadNode, secret: SecretLedger): Promise<string[]> {
  const valueFor = (token: string) => secret.versions.get(token) ?? rotatedValue(token);
  const problems: string[] = [];
  const listed = await node.secrets.send(new ListSecretVersionIdsCommand({ SecretId: secret.name, IncludeDeprecated: true, MaxResults: 100 }));
  const stagesById = new Map((listed.Versions ?? []).map((version) => [version.VersionId!, version.VersionStages ?? []]));
  const where = (stage: string) => [...stagesById].filter(([, stages]) => stages.includes(stage)).map(([id]) => id);
  const tokens = secret.rotations!;
  const lost = tokens.filter((rotation) => rotation.acknowledged && !stagesById.has(rotation.token)).map((rotation) => rotation.token);
  if (lost.length > 0) problems.push(`${node.name}: ${secret.name} lost the versions of acknowledged rotations ${lost.join(',')}`);
  const known = new Set([...secret.versions.keys(), ...tokens.map((rotation) => rotation.token)]);
  const unknown = [...stagesById.keys()].filter((id) => !known.has(id));
  if (unknown.length > 0) problems.push(`${node.name}: ${secret.name} has versions no call created ${unknown.join(',')}`);
  // The versions in the order they were made: CreateSecret's, then each rotation that got as far.
  const made = [secret.current!, ...tokens.map((rotation) => rotation.token).filter((token) => stagesById.has(token))];
  const expect = (stage: string, versionId: string | undefined) => {
    const found = where(stage);
    if (JSON.stringify(found) !== JSON.stringify(versionId ? [versionId] : [])) problems.push(`${node.name}: ${secret.name} ${stage} on ${found.join(',') || 'nothing'}, expected ${versionId ?? 'nothing'}`);
  };
  expect('AWSCURRENT', made.at(-1));
  expect('AWSPREVIOUS', made.at(-2));
  expect('AWSPENDING', undefined);
  for (const versionId of made) {
    const read = await node.secrets.send(new GetSecretValueCommand({ SecretId: secret.name, VersionId: versionId }));
    if (read.SecretString !== valueFor(versionId)) problems.push(`${node.name}: ${secret.name} version ${versionId} reads another value`);
  }
  return problems;
}

async function verifyUser(node: LoadNode, user: UserLedger): Promise<string[]> {
  const problems: string[] = [];
  const iam = node.iam!;
  try {
    await iam.send(new GetUserCommand({ UserName: user.name }));
  } catch (error) {
    return [`${node.name}: acknowledged user ${user.name} reads as ${(error as Error).name}`];
  }
  for (const [policyName, document] of user.policies) {
    try {
      const read = await iam.send(new GetUserPolicyCommand({ UserName: user.name, PolicyName: policyName }));
      // IAM returns the document URL-encoded (RFC 3986).
      if (decodeURIComponent(read.PolicyDocument ?? '') !== document) problems.push(`${node.name}: policy ${policyName} of ${user.name} reads another document`);
    } catch (error) {
      problems.push(`${node.name}: acknowledged policy ${policyName} of ${user.name} reads as ${(error as Error).name}`);
    }
  }
  return problems;
}

/** KMS answers with key ARNs (`arn:aws:kms:…:key/<id>`); the ledger keeps ids. */
function keyIdOf(keyArnOrId: string | undefined): string | undefined {
  return keyArnOrId?.split('/').pop();
}

/** Runs the tasks, `limit` at a time; their results in the tasks' order. */
async function inTurns<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const runner = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, runner));
  return results;
}

function pick<T>(items: T[]): T {
  return items[randomInt(items.length)]!;
}

function randomValue(): string {
  return JSON.stringify({ password: randomBytes(12).toString('base64url') });
}
