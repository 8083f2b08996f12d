/**
 * @module store
 * One repository interface per domain (repositories/), the Store that composes them, and the records.
 * Everything database-specific stays below this directory: callers see domain records and atomic,
 * intent-level methods. The backends have their own entries (sqlite/index.ts, postgres/index.ts), which
 * only the composition root (server/) and tests import. Imports only core.
 */
export type { ReadCacheStats, Store, StoreLifecycle } from './store.js';
export type { MetaRepository } from './repositories/meta.js';
export type { RootSealedRepository, RootSealedRecord, RootSealedKind } from './repositories/root-sealed.js';
export { rootSealedCursor } from './repositories/root-sealed.js';
export type { IamRepository } from './repositories/iam.js';
export type { OidcProviderRepository } from './repositories/oidc-providers.js';
export type { KmsRepository } from './repositories/kms.js';
export type { SecretsRepository } from './repositories/secrets.js';
export type { RotationLag, RotationRepository } from './repositories/rotation.js';
export type { FunctionsRepository } from './repositories/functions.js';
export type { AuditRepository } from './repositories/audit.js';
export type { ParametersRepository } from './repositories/parameters.js';
export * from './records.js';
export { GENESIS_HASH, chainHash } from './audit-hash.js';
export * from './audit-anchor.js';
export * from './transfer.js';
