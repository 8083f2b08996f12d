import { IV_BYTES, TAG_BYTES } from './aead.js';

/**
 * The CiphertextBlob KMS hands out for symmetric keys. Header first, so Decrypt can find the key without a
 * KeyId, as in AWS:
 *
 *   offset  size  field
 *   0       1     format version (1)
 *   1       16    KMS key id (UUID, binary)
 *   17      16    backing key id (UUID, binary): which rotation of the key sealed it
 *   33      12    IV
 *   45      16    GCM tag
 *   61      n     ciphertext
 *
 * The header bytes (0..33) are part of the AAD, so changing the key or backing key id breaks the tag.
 */
export const BLOB_FORMAT_VERSION = 1;
const UUID_BYTES = 16;
const HEADER_BYTES = 1 + UUID_BYTES + UUID_BYTES;
export const BLOB_OVERHEAD_BYTES = HEADER_BYTES + IV_BYTES + TAG_BYTES;

export type CiphertextBlob = {
  keyId: string;
  backingKeyId: string;
  header: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
};

export function encodeBlobHeader(keyId: string, backingKeyId: string): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = BLOB_FORMAT_VERSION;
  uuidToBytes(keyId).copy(header, 1);
  uuidToBytes(backingKeyId).copy(header, 1 + UUID_BYTES);
  return header;
}

export function encodeBlob(header: Buffer, sealed: { iv: Buffer; tag: Buffer; ciphertext: Buffer }): Buffer {
  return Buffer.concat([header, sealed.iv, sealed.tag, sealed.ciphertext]);
}

/** Returns undefined for anything that is not a blob of this format; the caller reports InvalidCiphertextException. */
export function decodeBlob(blob: Buffer): CiphertextBlob | undefined {
  if (blob.length < BLOB_OVERHEAD_BYTES || blob[0] !== BLOB_FORMAT_VERSION) return undefined;
  const header = blob.subarray(0, HEADER_BYTES);
  let offset = HEADER_BYTES;
  const iv = blob.subarray(offset, (offset += IV_BYTES));
  const tag = blob.subarray(offset, (offset += TAG_BYTES));
  return {
    keyId: bytesToUuid(blob.subarray(1, 1 + UUID_BYTES)),
    backingKeyId: bytesToUuid(blob.subarray(1 + UUID_BYTES, HEADER_BYTES)),
    header,
    iv,
    tag,
    ciphertext: blob.subarray(offset),
  };
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uuidToBytes(uuid: string): Buffer {
  if (!UUID_PATTERN.test(uuid)) throw new Error(`not a lower-case UUID: ${uuid}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
