import { awsBlob, decodeBase64, type LengthRange, type RequestContext } from '../core/index.js';

/**
 * The CiphertextBlob that Decrypt and ReEncrypt receive over the API, and its memory.
 *
 * Decoded base64 shorter than 32 KiB is a slice of Node's shared 64 KiB Buffer pool, and a Decrypt's decoded blob
 * lives on after its call (in objects already in V8's old generation) until the next full collection: nearly
 * every one was promoted, each pinning the pool slab it shares with other requests' Buffers, and those
 * ArrayBuffer bytes (≈ 1 MB per scavenge at 64 connections) started a mark-compact every 1–2 s, the largest part
 * of Decrypt's p99 (bench/RESULTS.md). So the blob is decoded into a buffer of its own (core/shapes.ts
 * decodeBase64), and the API's call releases that buffer's bytes when it ends: they are freed at once, whatever
 * still references the Buffer. In-process callers (the envelope port) pass the store's own Buffers to the
 * operations directly: never released.
 */
export function apiCiphertextBlob() {
  return awsBlob({ ...CIPHERTEXT_BLOB_BYTES, ownBuffer: true });
}

/** AWS's CiphertextBlob: 1 to 6,144 bytes. */
const CIPHERTEXT_BLOB_BYTES: LengthRange = { min: 1, max: 6144 };

/** What apiCiphertextBlob() gives for a well-formed blob (its own buffer, to be released), or undefined (kms/schemas.ts parseCommonDecrypt). */
export function decodeApiCiphertextBlob(text: string): Buffer<ArrayBuffer> | undefined {
  const bytes = decodeBase64(text, true);
  return bytes !== undefined && bytes.length >= CIPHERTEXT_BLOB_BYTES.min && bytes.length <= CIPHERTEXT_BLOB_BYTES.max ? (bytes as Buffer<ArrayBuffer>) : undefined;
}

/** The operation as the API runs it: the blob its schema decoded is released once the call has ended. */
export function releasingCiphertextBlob<I extends { CiphertextBlob: Buffer }, O>(
  run: (ctx: RequestContext, input: I) => Promise<O>,
): (ctx: RequestContext, input: I) => Promise<O> {
  // No async frame: the release runs when the operation's promise settles, either way.
  return (ctx, input) => {
    let running: Promise<O>;
    try {
      running = run(ctx, input);
    } catch (error) {
      releaseOwnBuffer(input.CiphertextBlob);
      return Promise.reject(error);
    }
    return running.then(
      (output) => {
        releaseOwnBuffer(input.CiphertextBlob);
        return output;
      },
      (error: unknown) => {
        releaseOwnBuffer(input.CiphertextBlob);
        throw error;
      },
    );
  };
}

/**
 * Detaches the Buffer's ArrayBuffer (its bytes are freed now, not at the next mark-compact); the Buffer reads as
 * empty afterwards. Only a Buffer that is its whole ArrayBuffer, as decodeBase64 makes them: never a pool slice.
 */
function releaseOwnBuffer(bytes: Buffer): void {
  const memory = bytes.buffer;
  if (!(memory instanceof ArrayBuffer) || bytes.byteOffset !== 0 || bytes.byteLength !== memory.byteLength) return;
  (memory as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
}
