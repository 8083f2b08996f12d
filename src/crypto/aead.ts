import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM with a fresh 96-bit IV per message (OpenSSL through node:crypto; never a JS cipher). */
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export type Sealed = { iv: Buffer; tag: Buffer; ciphertext: Buffer };

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const encrypted = cipher.update(plaintext);
  const rest = cipher.final();
  const ciphertext = rest.length === 0 ? encrypted : Buffer.concat([encrypted, rest]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** The decipher's options, one object for every open (node keeps a reference and never writes to it). */
const GCM_OPTIONS = { authTagLength: TAG_BYTES };

/** Returns undefined when the tag does not verify (wrong key, wrong AAD or tampered bytes). */
export function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, GCM_OPTIONS);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    const plaintext = decipher.update(sealed.ciphertext);
    // GCM's final() only checks the tag and returns no bytes: then the plaintext needs no copy.
    const rest = decipher.final();
    return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
  } catch {
    return undefined;
  }
}

/** A self-contained `iv | tag | ciphertext` record, for values stored in the database (key material, secrets). */
export function sealToBuffer(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const { iv, tag, ciphertext } = seal(key, plaintext, aad);
  return Buffer.concat([iv, tag, ciphertext]);
}

export function openFromBuffer(key: Buffer, record: Buffer, aad: Buffer): Buffer | undefined {
  if (record.length < IV_BYTES + TAG_BYTES) return undefined;
  const iv = record.subarray(0, IV_BYTES);
  const tag = record.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  return open(key, { iv, tag, ciphertext: record.subarray(IV_BYTES + TAG_BYTES) }, aad);
}
