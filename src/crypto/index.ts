/**
 * @module crypto
 * Root-key sources, the Keyring that seals key material under the root key, the KMS ciphertext blob
 * format, AES-256-GCM and the canonical encryption context. Every primitive is node:crypto (OpenSSL).
 * Imports only core; never a store or a service.
 */
export * from './aead.js';
export * from './digest-signing.js';
export * from './ciphertext-blob.js';
export * from './encryption-context.js';
export * from './root-key.js';
export * from './root-key-file.js';
export * from './shamir.js';
export * from './keyring.js';
export * from './authorization-messages.js';
export * from './sealed-chunks.js';
