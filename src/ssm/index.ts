/**
 * @module ssm
 * SSM Parameter Store: String, StringList and SecureString parameters, hierarchies, versions and labels,
 * tags, parameter policies (Expiration enforced), and references to Secrets Manager secrets. SecureStrings are
 * sealed through the KMS envelope port; references are read through the SecretsReader port (ports.ts) that
 * compose.ts wires to Secrets Manager. Imports core, store, policy and kms's exported port; never secrets,
 * protocol, server or another service's internals.
 */
export { createSsmService, type SsmService } from './service.js';
export type { SsmDeps, ParameterLimits } from './deps.js';
export type { SecretsReader, ReferencedSecret } from './ports.js';
export { ssmErrors } from './errors.js';
