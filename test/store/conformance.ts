import { runAuditRepositorySuite } from './audit/audit-suite.js';
import { runFunctionsRepositorySuite } from './functions/functions-suite.js';
import { runIamRepositorySuite } from './iam/iam-suite.js';
import { runKmsRepositorySuite } from './kms/kms-suite.js';
import { runMetaRepositorySuite } from './meta/meta-suite.js';
import { runRootSealedRepositorySuite } from './root-sealed/root-sealed-suite.js';
import { runOidcProviderRepositorySuite } from './oidc-providers/oidc-providers-suite.js';
import { runParametersRepositorySuite } from './parameters/parameters-suite.js';
import { runRotationRepositorySuite } from './rotation/rotation-suite.js';
import { runSecretsRepositorySuite } from './secrets/secrets-suite.js';
import type { OpenStore } from './repository-suite.js';

/**
 * Each repository's conformance suite by name: a backend that implements some repositories so far runs
 * just theirs (test/store/postgres.test.ts); each takes a factory of a store offering that repository.
 */
export const conformanceSuites = {
  meta: runMetaRepositorySuite,
  iam: runIamRepositorySuite,
  oidcProviders: runOidcProviderRepositorySuite,
  kms: runKmsRepositorySuite,
  secrets: runSecretsRepositorySuite,
  rotation: runRotationRepositorySuite,
  functions: runFunctionsRepositorySuite,
  parameters: runParametersRepositorySuite,
  audit: runAuditRepositorySuite,
  rootSealed: runRootSealedRepositorySuite,
} as const;

/**
 * Every repository's conformance suite against one backend: a backend's test file calls this once with its
 * factory (test/store/sqlite.test.ts), so a complete backend runs every suite by adding one such line.
 */
export function runConformanceSuites(backend: string, open: OpenStore): void {
  for (const run of Object.values(conformanceSuites)) run(backend, open);
}
