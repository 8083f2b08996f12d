import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The chunk framing shared by Coffer's sealed files (`coffer secrets export` archives, `coffer backup`
 * snapshots): after a file's own header prefix (magic, version, header), each chunk is
 *
 *   u32 sealed length | 12-byte nonce | AES-256-GCM ciphertext | 16-byte tag
 *
 * and its AAD is the whole header prefix, the chunk's index (u32) and a final flag (u8). So a changed header,
 * a reordered or spliced chunk, a chunk of another file, a file cut after any chunk but the final one, or data
 * appended after the final one, all fail authentication.
 */
export const CHUNK_NONCE_BYTES = 12;
export const CHUNK_TAG_BYTES = 16;
/** The largest sealed chunk a reader accepts (its length field is read before anything is authenticated). */
export const MAX_SEALED_CHUNK_BYTES = 256 * 1024 * 1024;

function chunkAad(headerPrefix: Buffer, index: number, final: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail.writeUInt8(final ? 1 : 0, 4);
  return Buffer.concat([headerPrefix, tail]);
}

/** One framed chunk: its length, nonce, ciphertext and tag. */
export function sealChunk(key: Buffer, headerPrefix: Buffer, index: number, final: boolean, plaintext: Buffer): Buffer {
  const nonce = randomBytes(CHUNK_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(chunkAad(headerPrefix, index, final));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(CHUNK_NONCE_BYTES + sealed.length, 0);
  return Buffer.concat([length, nonce, sealed]);
}

/** A chunk's body (nonce, ciphertext, tag; without the length) opened, or undefined when it fails authentication. */
export function unsealChunk(key: Buffer, headerPrefix: Buffer, index: number, final: boolean, body: Buffer): Buffer | undefined {
  if (body.length < CHUNK_NONCE_BYTES + CHUNK_TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, CHUNK_NONCE_BYTES));
  decipher.setAAD(chunkAad(headerPrefix, index, final));
  decipher.setAuthTag(body.subarray(body.length - CHUNK_TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body.subarray(CHUNK_NONCE_BYTES, body.length - CHUNK_TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** Why a sealed file could not be read; the message names the chunk, never its content. */
export class SealedChunkError extends Error {
  override name = 'SealedChunkError';
}

/**
 * Reads the chunks of a sealed file from `offset` (just after its header prefix) to its end, opening each:
 * yields every plaintext with its index, the last one with `final` set. `read(position, length)` returns at
 * most `length` bytes from the file. Throws SealedChunkError for a cut, altered, reordered or extended file;
 * the chunks yielded before it came from the file as written, so a reader that must be all or nothing reads
 * the whole file first.
 */
export async function* openSealedChunks(
  read: (position: number, length: number) => Promise<Buffer>,
  size: number,
  offset: number,
  key: Buffer,
  headerPrefix: Buffer,
): AsyncGenerator<{ index: number; final: boolean; plaintext: Buffer }> {
  for (let index = 0; ; index++) {
    if (offset === size) throw new SealedChunkError(`the file is truncated (it ends after chunk ${index} without its final chunk)`);
    if (offset + 4 > size) throw new SealedChunkError(`the file is truncated inside chunk ${index}`);
    const length = (await read(offset, 4)).readUInt32BE(0);
    if (length < CHUNK_NONCE_BYTES + CHUNK_TAG_BYTES || length > MAX_SEALED_CHUNK_BYTES) throw new SealedChunkError(`chunk ${index} is damaged (bad length)`);
    if (offset + 4 + length > size) throw new SealedChunkError(`the file is truncated inside chunk ${index}`);
    const body = await read(offset + 4, length);
    offset += 4 + length;
    const final = offset === size;
    // Not final by position but sealed as final (data appended), or the reverse (cut): the tag fails either way.
    const plaintext = unsealChunk(key, headerPrefix, index, final, body);
    if (plaintext === undefined) throw new SealedChunkError(`chunk ${index} failed authentication: the file was altered, reordered or truncated`);
    yield { index, final, plaintext };
    if (final) return;
  }
}
