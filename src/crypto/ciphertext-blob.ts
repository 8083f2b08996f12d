import { remembered } from '../core/index.js';
import { IV_BYTES, TAG_BYTES } from './aead.js';
import { canonicalEncryptionContext, type EncryptionContext } from './encryption-context.js';

/**
 * The CiphertextBlob KMS hands out for symmetric keys. Header first, so Decrypt can find the key without a
 * KeyId, as in AWS:
 *
 *   offset  size  field
 *   0       1     format version: 1 for a single-Region key, 2 for a multi-Region key
 *   1       16    KMS key id, binary: the UUID (version 1), or the 32 hex digits after `mrk-` (version 2)
 *   17      16    backing key id (UUID, binary): which rotation of the key sealed it
 *   33      12    IV
 *   45      16    GCM tag
 *   61      n     ciphertext
 *
 * The header bytes (0..33) are part of the AAD, so changing the key or backing key id breaks the tag. The two
 * versions differ only in how the key id's 16 bytes read: both are 16 bytes, and the version byte says which form
 * the key id has (blobs of version 1 made before multi-Region keys keep decoding as they did).
 */
export const BLOB_FORMAT_VERSION = 1;
/** The format version of a blob made under a multi-Region key (key id `mrk-` + 32 hex digits). */
export const MULTI_REGION_BLOB_FORMAT_VERSION = 2;
const MULTI_REGION_PREFIX = 'mrk-';
const MULTI_REGION_PATTERN = /^mrk-[0-9a-f]{32}$/;
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
  const multiRegion = keyId.startsWith(MULTI_REGION_PREFIX);
  header[0] = multiRegion ? MULTI_REGION_BLOB_FORMAT_VERSION : BLOB_FORMAT_VERSION;
  (multiRegion ? multiRegionIdToBytes(keyId) : uuidToBytes(keyId)).copy(header, 1);
  uuidToBytes(backingKeyId).copy(header, 1 + UUID_BYTES);
  return header;
}

export function encodeBlob(header: Buffer, sealed: { iv: Buffer; tag: Buffer; ciphertext: Buffer }): Buffer {
  return Buffer.concat([header, sealed.iv, sealed.tag, sealed.ciphertext]);
}

/** Returns undefined for anything that is not a blob of this format; the caller reports InvalidCiphertextException. */
export function decodeBlob(blob: Buffer): CiphertextBlob | undefined {
  const version = blob[0];
  if (blob.length < BLOB_OVERHEAD_BYTES || (version !== BLOB_FORMAT_VERSION && version !== MULTI_REGION_BLOB_FORMAT_VERSION)) return undefined;
  // Both ids from one hex string of the header (every Decrypt reads them): version digit, key id, backing key id.
  const { keyId, backingKeyId } = headerIds(blob.toString('hex', 0, HEADER_BYTES));
  let offset = HEADER_BYTES;
  const iv = blob.subarray(offset, (offset += IV_BYTES));
  const tag = blob.subarray(offset, (offset += TAG_BYTES));
  return {
    keyId,
    backingKeyId,
    header: blob.subarray(0, HEADER_BYTES),
    iv,
    tag,
    ciphertext: blob.subarray(offset),
  };
}

/**
 * The AES-GCM additional authenticated data of a blob: its header (format, key id, backing key id), then the
 * canonical encryption context, so a blob opens only under its own key and context. (Writing both into one
 * buffer allocated for them measured slower than this concat: Buffer.byteLength and write cost more than it saves.)
 */
export function blobAad(header: Buffer, context: EncryptionContext | undefined): Buffer {
  return Buffer.concat([header, canonicalEncryptionContext(context)]);
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uuidToBytes(uuid: string): Buffer {
  if (!UUID_PATTERN.test(uuid)) throw new Error(`not a lower-case UUID: ${uuid}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function multiRegionIdToBytes(keyId: string): Buffer {
  if (!MULTI_REGION_PATTERN.test(keyId)) throw new Error(`not a multi-Region key id: ${keyId}`);
  return Buffer.from(keyId.slice(MULTI_REGION_PREFIX.length), 'hex');
}

/**
 * The ids a header names, from its 66 hex digits (format version, key id, backing key id), remembered per header:
 * the blobs a key makes share a few headers (one per backing key), and the same id strings each time are Map keys
 * V8 has hashed already for the key and key material lookups that follow, where new ones were built from ten slices.
 */
const headerIds = remembered((hex): Readonly<{ keyId: string; backingKeyId: string }> =>
  Object.freeze({
    keyId: hex.startsWith(MULTI_REGION_VERSION_HEX) ? MULTI_REGION_PREFIX + hex.slice(2, 34) : hexToUuid(hex, 2),
    backingKeyId: hexToUuid(hex, 34),
  }),
);
const MULTI_REGION_VERSION_HEX = MULTI_REGION_BLOB_FORMAT_VERSION.toString(16).padStart(2, '0');

/** The UUID written by the 32 hex digits of `hex` from `at`. */
function hexToUuid(hex: string, at: number): string {
  return `${hex.slice(at, at + 8)}-${hex.slice(at + 8, at + 12)}-${hex.slice(at + 12, at + 16)}-${hex.slice(at + 16, at + 20)}-${hex.slice(at + 20, at + 32)}`;
}
