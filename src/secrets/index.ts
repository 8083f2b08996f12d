/**
 * @module secrets
 * The Secrets Manager service: secrets, versions and staging labels, envelope encryption through the KMS
 * port, deletion windows, tags, listing, and replica secrets in other Regions. Imports core, store, policy
 * and kms (its exported port only); never protocol, server or rotation.
 */
export { createSecretsService, type SecretsService } from './service.js';
export type { SecretsDeps } from './deps.js';
export { secretsErrors } from './errors.js';
export type { RotationStarter } from './ports.js';
