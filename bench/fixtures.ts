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
  /** ListSecrets NextTokens collected by paging from the start; undefined is the first page. */
  listTokens: (string | undefined)[];
};

const DECRYPT_CIPHERTEXTS = 32;

export async function prepareFixture(
  peer: Peer,
  signer: Signer,
  corpus: { corpusSize: number; randomSetSize: number; keyId: string; listPages: number },
): Promise<Fixture> {
  const ciphertexts: string[] = [];
  for (let i = 0; i < DECRYPT_CIPHERTEXTS; i++) ciphertexts.push((await sendOk(peer.url, peer.host, signer, encrypt(corpus.keyId))).CiphertextBlob);
  const listTokens: (string | undefined)[] = [undefined];
  let token: string | undefined;
  for (let page = 1; page < corpus.listPages; page++) {
    const payload = token === undefined ? { MaxResults: LIST_PAGE_SIZE } : { MaxResults: LIST_PAGE_SIZE, NextToken: token };
    token = (await sendOk(peer.url, peer.host, signer, { service: 'secretsmanager', operation: 'ListSecrets', payload })).NextToken;
    if (!token) break;
    listTokens.push(token);
  }
  return { corpusSize: corpus.corpusSize, randomSetSize: Math.min(corpus.randomSetSize, corpus.corpusSize), keyId: corpus.keyId, ciphertexts, listTokens };
}
