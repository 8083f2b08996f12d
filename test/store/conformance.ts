import { runAuditRepositorySuite } from './audit/audit-suite.js';
import { runFunctionsRepositorySuite } from './functions/functions-suite.js';
import { runIamRepositorySuite } from './iam/iam-suite.js';
import { runKmsRepositorySuite } from './kms/kms-suite.js';
import { runMetaRepositorySuite } from './meta/meta-suite.js';
import { runRotationRepositorySuite } from './rotation/rotation-suite.js';
import { runSecretsRepositorySuite } from './secrets/secrets-suite.js';
import type { OpenStore } from './repository-suite.js';

/**
 * Every repository's conformance suite against one backend: a backend's test file calls this once with its
 * factory (test/store/sqlite.test.ts), so a new backend runs every suite by adding one such line.
 */
export function runConformanceSuites(backend: string, open: OpenStore): void {
  runMetaRepositorySuite(backend, open);
  runIamRepositorySuite(backend, open);
  runKmsRepositorySuite(backend, open);
  runSecretsRepositorySuite(backend, open);
  runRotationRepositorySuite(backend, open);
  runFunctionsRepositorySuite(backend, open);
  runAuditRepositorySuite(backend, open);
}
