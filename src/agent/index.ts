/**
 * @module agent
 * The caching agent (`coffer agent`, compatible with the AWS Secrets Manager Agent) and the SecretCache
 * library it stands on, which applications may also use alone (`coffer/secret-cache`). A client of Coffer
 * like any other: it talks to Secrets Manager through the AWS SDK only, and may import core and the AWS SDK
 * clients, never a service, the store or the server. Secret values live in memory only.
 */
export { SecretCache, SecretCacheError, isTransient } from './secret-cache.js';
export type { CachedSecretValue, SecretCacheLogger, SecretCacheOptions, SecretVersionSelector } from './secret-cache.js';
