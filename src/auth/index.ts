/**
 * @module auth
 * Who is calling: SigV4 verification (sigv4/), access keys sealed under the root key, and the resolution
 * of an access key to its principal and account. Imports core, store and crypto; never a service.
 */
export * from './credentials.js';
export * from './authenticate.js';
export { SigningKeyCache, type SignedRequest } from './sigv4/index.js';
