import { hkdfSync } from 'node:crypto';
import { openFromBuffer, sealToBuffer } from './aead.js';
import { rootKeyMatches } from './root-key.js';

/**
 * Holds the root key for the life of the process and seals or opens key material under it. Each sealed
 * record is bound to its owner through the AAD (for example key ARN + backing key id), so a row copied
 * elsewhere in the database does not open. Opened material is cached (bounded) because every Decrypt
 * needs it; close() zeroes the root key and every cached key.
 *
 * During a rekey (server/rekey.ts) it holds two root keys: it seals under the new one and opens under either, so
 * records re-wrapped and records not yet re-wrapped both open while the server keeps serving. Once every record is
 * re-wrapped, dropPreviousRootKey() zeroes the old key.
 */
export class Keyring {
  #rootKey: Buffer;
  #previousRootKey: Buffer | undefined;
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
    const material = this.#openEither(sealed, owner);
    if (material) this.#remember(owner, material);
    return material;
  }

  /**
   * Opens without caching: for sealed records that differ under one owner (KMS import tokens), where the cache,
   * keyed by owner, would hand back another record's contents. Undefined when the record does not open.
   */
  openUncached(sealed: Buffer, owner: string): Buffer | undefined {
    this.#assertOpen();
    return this.#openEither(sealed, owner);
  }

  /**
   * A rekey's step for one record: 'current' when it already opens under the current root key, the record sealed
   * again under the current key when it opens only under the previous one, 'unreadable' when it opens under neither.
   */
  reseal(sealed: Buffer, owner: string): { state: 'current' } | { state: 'resealed'; sealed: Buffer } | { state: 'unreadable' } {
    this.#assertOpen();
    const aad = Buffer.from(owner, 'utf8');
    const underCurrent = openFromBuffer(this.#rootKey, sealed, aad);
    if (underCurrent) {
      underCurrent.fill(0);
      return { state: 'current' };
    }
    const underPrevious = this.#previousRootKey && openFromBuffer(this.#previousRootKey, sealed, aad);
    if (!underPrevious) return { state: 'unreadable' };
    try {
      return { state: 'resealed', sealed: sealToBuffer(this.#rootKey, underPrevious, aad) };
    } finally {
      underPrevious.fill(0);
    }
  }

  /** Starts a rekey: seals under `newRootKey` from now on, and keeps the current key to open what it sealed. */
  adoptRootKey(newRootKey: Buffer): void {
    this.#assertOpen();
    this.#previousRootKey?.fill(0);
    this.#previousRootKey = this.#rootKey;
    this.#rootKey = Buffer.from(newRootKey);
  }

  /** Ends a rekey: the previous root key is zeroed and opens nothing in this process again. */
  dropPreviousRootKey(): void {
    this.#previousRootKey?.fill(0);
    this.#previousRootKey = undefined;
  }

  /** Whether `check` (root-key.ts makeRootKeyCheck) was made with the current root key. */
  currentKeyMatches(check: Buffer): boolean {
    this.#assertOpen();
    return rootKeyMatches(this.#rootKey, check);
  }

  get holdsPreviousRootKey(): boolean {
    return this.#previousRootKey !== undefined;
  }

  #openEither(sealed: Buffer, owner: string): Buffer | undefined {
    const aad = Buffer.from(owner, 'utf8');
    return openFromBuffer(this.#rootKey, sealed, aad) ?? (this.#previousRootKey && openFromBuffer(this.#previousRootKey, sealed, aad));
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

  /** deriveKey of the previous root key during a rekey (a key it derived that must outlive it); undefined outside one. */
  derivePreviousKey(info: string): Buffer | undefined {
    this.#assertOpen();
    return this.#previousRootKey && Buffer.from(hkdfSync('sha256', this.#previousRootKey, Buffer.alloc(0), info, 32));
  }

  close(): void {
    this.#rootKey.fill(0);
    this.dropPreviousRootKey();
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
