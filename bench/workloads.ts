/**
 * The workloads of issue 6. Each turns a peer's fixture into a request source for the load generator.
 *
 * Signing: read workloads pre-sign a pool of requests just before each run and cycle through it, so every
 * signature is used within seconds of being made (SigV4 accepts a signature for 5 minutes; each pooled
 * request still carries its own amz-sdk-invocation-id, as an SDK call would). Signing in the load generator
 * would spend client CPU on the same two cores the server runs on. PutSecretValue is signed per request,
 * because each one carries a fresh ClientRequestToken: reusing a token would make it an idempotent replay
 * that writes nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { TARGET_PREFIX, type Call, type CallResult } from './aws-call.js';
import { SECRET_VALUE_BYTES, secretName, secretValue } from './seed.js';
import type { Fixture } from './fixtures.js';
import type { SignedCall, Signer } from './signer.js';

export type RequestSource = { next(): SignedCall };

export type Workload = {
  id: string;
  title: string;
  /** Builds a fresh source (new signatures) for one run against `host`. */
  source(host: string, signer: Signer, fixture: Fixture): RequestSource;
  /** Why a 200 answer is not what the workload asked for, or undefined when it is. */
  check(answer: CallResult, fixture: Fixture): string | undefined;
};

export const KMS_PLAINTEXT_BYTES = 1024;
export const KMS_CONTEXT = { purpose: 'coffer-bench' };
export const LIST_PAGE_SIZE = 100;
const BATCH_SIZE = 20;
const POOL_SIZE = 2_000;
const KMS_PLAINTEXT = randomBytes(KMS_PLAINTEXT_BYTES).toString('base64');

export const getSecretValue = (index: number): Call => ({ service: 'secretsmanager', operation: 'GetSecretValue', payload: { SecretId: secretName(index) } });
const describeSecret = (index: number): Call => ({ service: 'secretsmanager', operation: 'DescribeSecret', payload: { SecretId: secretName(index) } });
export const decrypt = (ciphertext: string): Call => ({ service: 'kms', operation: 'Decrypt', payload: { CiphertextBlob: ciphertext, EncryptionContext: KMS_CONTEXT } });
const generateDataKey = (keyId: string): Call => ({ service: 'kms', operation: 'GenerateDataKey', payload: { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: KMS_CONTEXT } });
export const encrypt = (keyId: string): Call => ({ service: 'kms', operation: 'Encrypt', payload: { KeyId: keyId, Plaintext: KMS_PLAINTEXT, EncryptionContext: KMS_CONTEXT } });

/** 1 KB values to write, made once: generating random bytes per request would cost client CPU. */
const PUT_VALUES = Array.from({ length: 64 }, () => secretValue());
let putCounter = 0;
export const putSecretValue = (index: number): Call => ({
  service: 'secretsmanager',
  operation: 'PutSecretValue',
  payload: { SecretId: secretName(index), ClientRequestToken: randomUUID(), SecretString: PUT_VALUES[putCounter++ % PUT_VALUES.length] },
});

export const WORKLOADS: Workload[] = [
  {
    id: 'get-hot',
    title: 'GetSecretValue, 1 KB, one hot secret',
    source: (host, signer) => pool(host, signer, POOL_SIZE, () => getSecretValue(0)),
    check: checkSecretValue,
  },
  {
    id: 'get-random',
    title: 'GetSecretValue, 1 KB, random over the random set',
    source: (host, signer, fixture) => {
      const random = rng(1);
      return pool(host, signer, Math.max(POOL_SIZE, fixture.randomSetSize), () => getSecretValue(random.below(fixture.randomSetSize)));
    },
    check: checkSecretValue,
  },
  {
    id: 'batch-get-20',
    title: 'BatchGetSecretValue, 20 random secrets',
    source: (host, signer, fixture) => {
      const random = rng(2);
      return pool(host, signer, POOL_SIZE, () => ({
        service: 'secretsmanager',
        operation: 'BatchGetSecretValue',
        payload: { SecretIdList: distinct(random, BATCH_SIZE, fixture.randomSetSize).map(secretName) },
      }));
    },
    check: (answer) =>
      answer.json?.SecretValues?.length === BATCH_SIZE && answer.json.Errors?.length === 0 ? undefined : `expected ${BATCH_SIZE} values and no errors`,
  },
  {
    id: 'describe',
    title: 'DescribeSecret, random over the random set',
    source: (host, signer, fixture) => {
      const random = rng(3);
      return pool(host, signer, Math.max(POOL_SIZE, fixture.randomSetSize), () => describeSecret(random.below(fixture.randomSetSize)));
    },
    check: (answer) => (typeof answer.json?.ARN === 'string' && answer.json.Name?.startsWith('bench/') ? undefined : 'no ARN/Name'),
  },
  {
    id: 'list',
    title: `ListSecrets, pages of ${LIST_PAGE_SIZE} over the whole corpus`,
    source: (host, signer, fixture) => {
      let page = 0;
      return pool(host, signer, POOL_SIZE, () => {
        const token = fixture.listTokens[page++ % fixture.listTokens.length];
        return { service: 'secretsmanager', operation: 'ListSecrets', payload: token === undefined ? { MaxResults: LIST_PAGE_SIZE } : { MaxResults: LIST_PAGE_SIZE, NextToken: token } };
      });
    },
    check: (answer, fixture) =>
      answer.json?.SecretList?.length === Math.min(LIST_PAGE_SIZE, fixture.corpusSize) ? undefined : `expected a page of ${LIST_PAGE_SIZE}`,
  },
  {
    id: 'kms-encrypt',
    title: `KMS Encrypt, ${KMS_PLAINTEXT_BYTES} B plaintext, encryption context`,
    source: (host, signer, fixture) => pool(host, signer, POOL_SIZE, () => encrypt(fixture.keyId)),
    check: (answer) => (typeof answer.json?.CiphertextBlob === 'string' ? undefined : 'no CiphertextBlob'),
  },
  {
    id: 'kms-decrypt',
    title: `KMS Decrypt, ${KMS_PLAINTEXT_BYTES} B plaintext, encryption context`,
    source: (host, signer, fixture) => {
      const random = rng(4);
      return pool(host, signer, POOL_SIZE, () => decrypt(fixture.ciphertexts[random.below(fixture.ciphertexts.length)]!));
    },
    check: (answer) => (answer.json?.Plaintext === KMS_PLAINTEXT ? undefined : 'Plaintext differs from what was encrypted'),
  },
  {
    id: 'kms-generate-data-key',
    title: 'KMS GenerateDataKey, AES_256, encryption context',
    source: (host, signer, fixture) => pool(host, signer, POOL_SIZE, () => generateDataKey(fixture.keyId)),
    check: (answer) => (Buffer.from(answer.json?.Plaintext ?? '', 'base64').length === 32 ? undefined : 'no 32-byte Plaintext'),
  },
  {
    id: 'put',
    title: 'PutSecretValue, 1 KB, random over the random set (signed per request)',
    source: (host, signer, fixture) => {
      const random = rng(5);
      return perRequest(host, signer, () => putSecretValue(random.below(fixture.randomSetSize)));
    },
    check: (answer) => (typeof answer.json?.VersionId === 'string' ? undefined : 'no VersionId'),
  },
  {
    id: 'get-random-put-1',
    title: 'GetSecretValue, 1 KB, random over the random set but secret 0, while secret 0 gets a PutSecretValue a second',
    source: (host, signer, fixture) => readsWithSteadyPuts(host, signer, fixture, 1),
    check: checkSecretValueOrPut,
  },
  {
    id: 'get-random-put-100',
    title: 'GetSecretValue, 1 KB, random over the random set but secret 0, while secret 0 gets 100 PutSecretValue a second',
    source: (host, signer, fixture) => readsWithSteadyPuts(host, signer, fixture, 100),
    check: checkSecretValueOrPut,
  },
  {
    id: 'mixed',
    title: 'Mixed read-mostly: 85% GetSecretValue, 5% DescribeSecret, 5% Decrypt, 4% GenerateDataKey, 1% PutSecretValue',
    source: (host, signer, fixture) => mixed(host, signer, fixture),
    check: () => undefined,
  },
];

function checkSecretValue(answer: CallResult): string | undefined {
  return answer.json?.SecretString?.length >= SECRET_VALUE_BYTES - 4 ? undefined : 'no 1 KB SecretString';
}

function checkSecretValueOrPut(answer: CallResult): string | undefined {
  return typeof answer.json?.VersionId === 'string' && answer.json.SecretString === undefined ? undefined : checkSecretValue(answer);
}

/**
 * Reads of other secrets while one secret is written at a steady rate (a rotation, a counter kept in a secret): what
 * a write does to everyone else's reads through the read cache. The next request is secret 0's PutSecretValue
 * whenever its time has come (`putsPerSecond`, as long as the load runs faster than that), else a GetSecretValue of
 * one of the other secrets of the random set, at random.
 */
function readsWithSteadyPuts(host: string, signer: Signer, fixture: Fixture, putsPerSecond: number): RequestSource {
  const random = rng(8);
  const others = Math.max(1, fixture.randomSetSize - 1);
  const reads = pool(host, signer, Math.max(POOL_SIZE, fixture.randomSetSize), () => getSecretValue(1 + random.below(others)));
  const put = perRequest(host, signer, () => putSecretValue(0));
  const putEveryMs = 1000 / putsPerSecond;
  let nextPutAt = performance.now() + putEveryMs;
  return {
    next: () => {
      const now = performance.now();
      if (now < nextPutAt) return reads.next();
      // Behind (a slow answer, a pause): the next put a full interval on, not a burst to catch up.
      nextPutAt = Math.max(nextPutAt, now - putEveryMs) + putEveryMs;
      return put.next();
    },
  };
}

/** The mixed workload: a fixed, shuffled schedule of 100 slots; reads come from pools, writes are signed fresh. */
function mixed(host: string, signer: Signer, fixture: Fixture): RequestSource {
  const random = rng(6);
  const reads = {
    get: pool(host, signer, Math.max(POOL_SIZE, fixture.randomSetSize), () => getSecretValue(random.below(fixture.randomSetSize))),
    describe: pool(host, signer, POOL_SIZE / 4, () => describeSecret(random.below(fixture.randomSetSize))),
    decrypt: pool(host, signer, POOL_SIZE / 4, () => decrypt(fixture.ciphertexts[random.below(fixture.ciphertexts.length)]!)),
    generateDataKey: pool(host, signer, POOL_SIZE / 4, () => generateDataKey(fixture.keyId)),
  };
  const put = perRequest(host, signer, () => putSecretValue(random.below(fixture.randomSetSize)));
  const schedule: RequestSource[] = [
    ...Array<RequestSource>(85).fill(reads.get),
    ...Array<RequestSource>(5).fill(reads.describe),
    ...Array<RequestSource>(5).fill(reads.decrypt),
    ...Array<RequestSource>(4).fill(reads.generateDataKey),
    put,
  ];
  shuffle(schedule, rng(7));
  let slot = 0;
  return { next: () => schedule[slot++ % schedule.length]!.next() };
}

/** `size` requests signed now, handed out in turn. */
export function pool(host: string, signer: Signer, size: number, make: () => Call): RequestSource {
  const now = new Date();
  const signed = Array.from({ length: size }, () => signCall(host, signer, make(), now));
  let index = 0;
  return { next: () => signed[index++ % size]! };
}

function perRequest(host: string, signer: Signer, make: () => Call): RequestSource {
  return { next: () => signCall(host, signer, make()) };
}

function signCall(host: string, signer: Signer, call: Call, now = new Date()): SignedCall {
  return signer.sign(host, call.service, `${TARGET_PREFIX[call.service]}.${call.operation}`, JSON.stringify(call.payload), now);
}

/** A small seeded PRNG (mulberry32), so every peer gets the same sequence of secrets. */
export function rng(seed: number) {
  let state = seed >>> 0;
  const nextFloat = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { below: (n: number) => Math.floor(nextFloat() * n), float: nextFloat };
}

function distinct(random: ReturnType<typeof rng>, count: number, below: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, below)) picked.add(random.below(below));
  return [...picked];
}

function shuffle<T>(items: T[], random: ReturnType<typeof rng>): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
