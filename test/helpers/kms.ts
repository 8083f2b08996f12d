import assert from 'node:assert/strict';
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient, type AlgorithmSpec, type CreateKeyCommandInput, type KeyMetadata } from '@aws-sdk/client-kms';

/**
 * Helpers shared by the KMS integration tests: key creation, wrapping material for import, and one assertion for AWS errors.
 */

/** Creates a symmetric encryption key and returns its metadata. */
/**
 * Wraps key material for ImportKeyMaterial as a client does (node:crypto, the same operations as AWS's openssl
 * steps): OAEP-wrapped material, or (RSA_AES_KEY_WRAP_*) an OAEP-wrapped ephemeral AES key followed by AES-KWP
 * (RFC 5649) of the material.
 */
export function wrapKeyMaterial(publicKeyDer: Uint8Array, material: Buffer, algorithm: AlgorithmSpec): Buffer {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const rsa = (data: Buffer) => publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  if (algorithm.startsWith('RSAES_OAEP')) return rsa(material);
  const aesKey = randomBytes(32);
  const cipher = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([rsa(aesKey), cipher.update(material), cipher.final()]);
}

export async function createKey(kms: KMSClient, input: CreateKeyCommandInput = {}): Promise<KeyMetadata> {
  const { KeyMetadata: metadata } = await kms.send(new CreateKeyCommand(input));
  assert.ok(metadata?.KeyId && metadata.Arn, 'CreateKey returned no KeyMetadata');
  return metadata;
}

type AwsSdkError = Error & { $metadata?: { httpStatusCode?: number }; message: string };

/**
 * Asserts that a call fails with the given AWS error code (the SDK puts it in `name`) and HTTP status
 * (400 unless told), and returns the error for further checks on its message.
 */
export async function rejectsWith(call: Promise<unknown>, code: string, httpStatusCode = 400): Promise<AwsSdkError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected ${code}, but the call succeeded`);
  const error = caught as AwsSdkError;
  assert.equal(error.name, code, `expected ${code}, got ${error.name}: ${error.message}`);
  assert.equal(error.$metadata?.httpStatusCode, httpStatusCode, `HTTP status of ${code}`);
  return error;
}

/** An alias name no other test in the same server uses. */
export function uniqueAliasName(label: string): string {
  return `alias/${label}-${Math.random().toString(36).slice(2, 10)}`;
}

/** A round second near now: timestamps travel as epoch seconds, so whole seconds compare exactly. */
export function roundSecondNow(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

export const DAY_MS = 86_400_000;
