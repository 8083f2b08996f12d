/**
 * @module kms
 * The KMS service: symmetric keys, envelope encryption, aliases, rotation, tags and key policies, behind
 * the AWS KMS operation table. Imports core, crypto, store and policy; never protocol, server or another service.
 */
export { createKmsService, type KmsService } from './service.js';
export type { KmsDeps } from './deps.js';
export { kmsErrors } from './errors.js';
export type { KmsPort, Envelope } from './envelope-port.js';
