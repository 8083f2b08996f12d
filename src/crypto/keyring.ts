import { hkdfSync } from 'node:crypto';
import { openFromBuffer, sealToBuffer } from './aead.js';

/**
 * Holds the root key for the life of the process and seals or opens key material under it. Each sealed
 * record is bound to its owner through the AAD (for example key ARN + backing key id), so a row copied
 * elsewhere in the database does not open. Opened material is cached (bounded) because every Decrypt
 * needs it; close() zeroes the root key and every cached key.
 */
export class Keyring {
  readonly #rootKey: Buffer;
  readonly #opened = new Map<string, Buffer>();
  readonly #maxCached: number;
  #closed = false;

  constructor(rootKey: Buffer, options: { maxCachedKeys?: number } = {}) {
    this.#rootKey = Buffer.from(rootKey);
    this.#maxCached = options.maxCachedKeys ?? 10_000;
  }

  seal(material: Buffer, owner: string): Buffer {
    this.#assertOpen();
    return sealToBuffer(this.#rootKey, material, Buffer.from(owner, 'utf8'));
  }

  /** Returns undefined when the record does not open under this root key and owner. */
  open(sealed: Buffer, owner: string): Buffer | undefined {
    this.#assertOpen();
    const cached = this.#opened.get(owner);
    if (cached) return cached;
    const material = openFromBuffer(this.#rootKey, sealed, Buffer.from(owner, 'utf8'));
    if (material) this.#remember(owner, material);
    return material;
  }

  /**
   * Opens without caching: for sealed records that differ under one owner (KMS import tokens), where the cache,
   * keyed by owner, would hand back another record's contents. Undefined when the record does not open.
   */
  openUncached(sealed: Buffer, owner: string): Buffer | undefined {
    this.#assertOpen();
    return openFromBuffer(this.#rootKey, sealed, Buffer.from(owner, 'utf8'));
  }

  /**
   * The material already opened for this owner, if any: a caller whose sealed record lives in the store can
   * skip reading it when the material was opened before (sealed material never changes for an owner).
   */
  cached(owner: string): Buffer | undefined {
    this.#assertOpen();
    return this.#opened.get(owner);
  }

  /** Drops a cached key, for example when its KMS key is destroyed. */
  forget(owner: string): void {
    this.#opened.get(owner)?.fill(0);
    this.#opened.delete(owner);
  }

  /**
   * A 256-bit key for one purpose, HKDF-SHA-256 of the root key with `info` naming the purpose: it opens nothing
   * sealed under the root key, and a key derived for one purpose is no use for another. The caller owns (and zeroes) it.
   */
  deriveKey(info: string): Buffer {
    this.#assertOpen();
    return Buffer.from(hkdfSync('sha256', this.#rootKey, Buffer.alloc(0), info, 32));
  }

  close(): void {
    this.#rootKey.fill(0);
    for (const material of this.#opened.values()) material.fill(0);
    this.#opened.clear();
    this.#closed = true;
  }

  #remember(owner: string, material: Buffer): void {
    if (this.#opened.size >= this.#maxCached) {
      const oldest = this.#opened.keys().next().value as string;
      this.forget(oldest);
    }
    this.#opened.set(owner, material);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('keyring is closed');
  }
}
