/**
 * @module auth/sigv4
 * Verifies AWS Signature Version 4 on incoming requests, signed in the Authorization header or as a presigned
 * query string, and caches the derived signing keys. It owns the canonical request, the key derivation and the
 * mapping of each failure to AWS's common error codes. It depends only on node:crypto and core, and must never
 * import a service: services receive the verified SigV4Identity from the layer that calls verifySigV4.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
export { verifySigV4 } from './verify.js';
export type { SignedRequest, SigV4Identity, SecretKeyLookup, VerifyOptions } from './verify.js';
export { SigningKeyCache } from './signing-key.js';
