import { IV_BYTES, TAG_BYTES } from './aead.js';
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
export function encodeBlobHeader(keyId, backingKeyId) {
    const header = Buffer.alloc(HEADER_BYTES);
    const multiRegion = keyId.startsWith(MULTI_REGION_PREFIX);
    header[0] = multiRegion ? MULTI_REGION_BLOB_FORMAT_VERSION : BLOB_FORMAT_VERSION;
    (multiRegion ? multiRegionIdToBytes(keyId) : uuidToBytes(keyId)).copy(header, 1);
    uuidToBytes(backingKeyId).copy(header, 1 + UUID_BYTES);
    return header;
}
export function encodeBlob(header, sealed) {
    return Buffer.concat([header, sealed.iv, sealed.tag, sealed.ciphertext]);
}
/** Returns undefined for anything that is not a blob of this format; the caller reports InvalidCiphertextException. */
export function decodeBlob(blob) {
    const version = blob[0];
    if (blob.length < BLOB_OVERHEAD_BYTES || (version !== BLOB_FORMAT_VERSION && version !== MULTI_REGION_BLOB_FORMAT_VERSION))
        return undefined;
    const keyBytes = blob.subarray(1, 1 + UUID_BYTES);
    const header = blob.subarray(0, HEADER_BYTES);
    let offset = HEADER_BYTES;
    const iv = blob.subarray(offset, (offset += IV_BYTES));
    const tag = blob.subarray(offset, (offset += TAG_BYTES));
    return {
        keyId: version === MULTI_REGION_BLOB_FORMAT_VERSION ? MULTI_REGION_PREFIX + keyBytes.toString('hex') : bytesToUuid(keyBytes),
        backingKeyId: bytesToUuid(blob.subarray(1 + UUID_BYTES, HEADER_BYTES)),
        header,
        iv,
        tag,
        ciphertext: blob.subarray(offset),
    };
}
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
function uuidToBytes(uuid) {
    if (!UUID_PATTERN.test(uuid))
        throw new Error(`not a lower-case UUID: ${uuid}`);
    return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}
function multiRegionIdToBytes(keyId) {
    if (!MULTI_REGION_PATTERN.test(keyId))
        throw new Error(`not a multi-Region key id: ${keyId}`);
    return Buffer.from(keyId.slice(MULTI_REGION_PREFIX.length), 'hex');
}
function bytesToUuid(bytes) {
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
