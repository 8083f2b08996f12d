import type { AuditRepository } from './repositories/audit.js';
import type { FunctionsRepository } from './repositories/functions.js';
import type { IamRepository } from './repositories/iam.js';
import type { OidcProviderRepository } from './repositories/oidc-providers.js';
import type { KmsRepository } from './repositories/kms.js';
import type { MetaRepository } from './repositories/meta.js';
import type { RootSealedRepository } from './repositories/root-sealed.js';
import type { RotationRepository } from './repositories/rotation.js';
import type { SecretsRepository } from './repositories/secrets.js';
import type { ParametersRepository } from './repositories/parameters.js';

/**
 * The persistence contract every backend (SQLite now, PostgreSQL later) satisfies: one repository per domain
 * (repositories/*.ts), composed here with the lifecycle. A service receives only the repositories (or the
 * methods of them) it uses; only the composition root holds a whole Store.
 *
 * Invariants, of every repository:
 * - The store is untrusted for confidentiality: it only ever sees sealed key material.
 * - Every method is atomic on its own; there is no transaction handle. Callers do all crypto first.
 * - Uniqueness comes from constraints: an insert that collides returns false, it never throws a driver error.
 * - Lookups return undefined when absent. Account and region scope every KMS lookup.
 * - Concurrency control lives here (conditional updates), never in process memory.
 */
export interface Store
  extends StoreLifecycle,
    MetaRepository,
    RootSealedRepository,
    IamRepository,
    OidcProviderRepository,
    KmsRepository,
    SecretsRepository,
    RotationRepository,
    FunctionsRepository,
    ParametersRepository,
    AuditRepository {}

/** What a backend's read cache has answered (hits), passed to the database (misses), and holds now. */
export type ReadCacheStats = { hits: number; misses: number; entries: number; bytes: number };

/** Opening and closing a backend: the composition root's business, no service's. */
export interface StoreLifecycle {
  /** Runs pending schema migrations. Safe to call on every start and from several processes. */
  migrate(): void | Promise<void>;
  close(): void | Promise<void>;
}
