import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

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
 */

export type LoadNode = { name: string; secrets: SecretsManagerClient; kms: KMSClient };

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
};

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

export class MixedWriteLoad {
  readonly calls: CallRecord[] = [];
  /** Answers that are wrong whatever the database did: a label where no call put it, a value that differs. */
  readonly violations: string[] = [];
  readonly #nodes: LoadNode[];
  readonly #secrets: SecretLedger[] = [];
  readonly #keys: string[] = [];
  readonly #samples: EncryptedSample[] = [];
  #stopping = false;
  #workers: Promise<void>[] = [];

  constructor(nodes: LoadNode[]) {
    this.#nodes = nodes;
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

  /** Acknowledged writes: secrets created, versions written, keys created, ciphertexts returned. */
  counts() {
    const versions = this.#secrets.reduce((sum, secret) => sum + secret.versions.size, 0);
    return { secrets: this.#secrets.filter((secret) => secret.current).length, versions, keys: this.#keys.length, ciphertexts: this.#samples.length };
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
    const problems: string[] = [];
    for (const secret of this.#secrets) {
      if (!secret.current) continue; // never created
      problems.push(...(await verifySecret(node, secret)));
    }
    for (const keyId of this.#keys) {
      const described = await node.kms.send(new DescribeKeyCommand({ KeyId: keyId }));
      if (described.KeyMetadata?.KeyState !== 'Enabled') problems.push(`${node.name}: key ${keyId} is ${described.KeyMetadata?.KeyState}`);
    }
    for (const sample of this.#samples) {
      const decrypted = await node.kms.send(new DecryptCommand({ CiphertextBlob: sample.ciphertext }));
      if (!Buffer.from(decrypted.Plaintext ?? []).equals(sample.plaintext)) problems.push(`${node.name}: a ciphertext of ${sample.keyId} decrypts to another plaintext`);
      if (keyIdOf(decrypted.KeyId) !== sample.keyId) problems.push(`${node.name}: a ciphertext of ${sample.keyId} names ${decrypted.KeyId}`);
    }
    return problems;
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

  /** One write chosen by weight: new secrets, new versions, label moves, and KMS keys with an encryption. */
  #nextWrite(node: LoadNode, own: SecretLedger[], keys: string[]): Promise<boolean> {
    const writable = own.filter((secret) => secret.current && secret.versions.size < VERSIONS_PER_SECRET);
    const movable = own.filter((secret) => secret.current && secret.versions.size >= 2);
    const roll = randomInt(100);
    if (roll < 20 || writable.length === 0) return this.#createSecret(node, own);
    if (roll < 55) return this.#putSecretValue(node, pick(writable));
    if (roll < 75 && movable.length > 0) return this.#moveCurrent(node, pick(movable));
    if (roll < 85 || keys.length === 0) return this.#createKey(node, keys);
    return this.#encrypt(node, pick(keys));
  }

  async #createSecret(node: LoadNode, own: SecretLedger[]): Promise<boolean> {
    const secret: SecretLedger = { name: `failover-${randomBytes(6).toString('hex')}`, versions: new Map(), current: undefined, previous: undefined, unsettled: undefined };
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
    const startedAt = Date.now();
    try {
      const result = await send();
      this.calls.push({ node: node.name, operation, startedAt, durationMs: Date.now() - startedAt });
      return result;
    } catch (error) {
      const failure = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      this.calls.push({
        node: node.name,
        operation,
        startedAt,
        durationMs: Date.now() - startedAt,
        error: { name: failure.name ?? 'Error', httpStatus: failure.$metadata?.httpStatusCode, message: failure.message ?? String(error) },
      });
      return undefined;
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
  for (const [versionId, value] of secret.versions) {
    const read = await node.secrets.send(new GetSecretValueCommand({ SecretId: secret.name, VersionId: versionId }));
    if (read.SecretString !== value) problems.push(`${node.name}: ${secret.name} version ${versionId} reads another value`);
  }
  return problems;
}

/** KMS answers with key ARNs (`arn:aws:kms:…:key/<id>`); the ledger keeps ids. */
function keyIdOf(keyArnOrId: string | undefined): string | undefined {
  return keyArnOrId?.split('/').pop();
}

function pick<T>(items: T[]): T {
  return items[randomInt(items.length)]!;
}

function randomValue(): string {
  return JSON.stringify({ password: randomBytes(12).toString('base64url') });
}
