/**
 * What each peer holds for the workloads, and the parts of it made through the peer's own API: ciphertexts
 * for Decrypt (a KMS ciphertext only opens where it was made) and NextTokens for ListSecrets pages.
 */
import { sendOk } from './aws-call.js';
import type { Peer } from './peers.js';
import type { Signer } from './signer.js';
import { encrypt, LIST_PAGE_SIZE } from './workloads.js';

/** What a peer holds for the workloads: its corpus, its KMS key and what was prepared against it. */
export type Fixture = {
  /** Secrets in the corpus: ListSecrets pages over all of them. */
  corpusSize: number;
  /** GetSecretValue (random), DescribeSecret, BatchGetSecretValue and PutSecretValue draw from secrets [0, randomSetSize). */
  randomSetSize: number;
  keyId: string;
  /** CiphertextBlobs (base64) of KMS_PLAINTEXT_BYTES-byte plaintexts under keyId with KMS_CONTEXT, for Decrypt. */
  ciphertexts: string[];
  /** ListSecrets NextTokens of pages spread over the whole corpus, first to last; undefined is the first page. */
  listTokens: (string | undefined)[];
};

const DECRYPT_CIPHERTEXTS = 32;

export async function prepareFixture(
  peer: Peer,
  signer: Signer,
  corpus: { corpusSize: number; randomSetSize: number; keyId: string; listPages: number },
): Promise<Fixture> {
  const ciphertexts = await decryptCiphertexts(peer, signer, corpus.keyId);
  const listTokens = spreadEvenly(await walkListTokens(peer, signer), corpus.listPages);
  return { corpusSize: corpus.corpusSize, randomSetSize: Math.min(corpus.randomSetSize, corpus.corpusSize), keyId: corpus.keyId, ciphertexts, listTokens };
}

/** The CiphertextBlobs the Decrypt load sends to `peer`, made by its own Encrypt under `keyId`. */
export async function decryptCiphertexts(peer: Peer, signer: Signer, keyId: string): Promise<string[]> {
  const ciphertexts: string[] = [];
  for (let i = 0; i < DECRYPT_CIPHERTEXTS; i++) ciphertexts.push((await sendOk(peer.url, peer.host, signer, encrypt(keyId))).CiphertextBlob);
  return ciphertexts;
}

/** The NextToken of every page of an unfiltered ListSecrets, walking from the first (undefined) to the last. */
async function walkListTokens(peer: Peer, signer: Signer): Promise<(string | undefined)[]> {
  const tokens: (string | undefined)[] = [undefined];
  for (let token: string | undefined = undefined; ; ) {
    const payload: Record<string, unknown> = token === undefined ? { MaxResults: LIST_PAGE_SIZE } : { MaxResults: LIST_PAGE_SIZE, NextToken: token };
    const answer = (await sendOk(peer.url, peer.host, signer, { service: 'secretsmanager', operation: 'ListSecrets', payload })) as { NextToken?: string };
    token = answer.NextToken;
    if (!token) return tokens;
    tokens.push(token);
  }
}

/** `count` items at even steps from the first to the last (all of them when there are fewer). */
function spreadEvenly<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  if (count === 1) return items.slice(0, 1);
  return Array.from({ length: count }, (_, index) => items[Math.round((index * (items.length - 1)) / (count - 1))]!);
}
