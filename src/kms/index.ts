/**
 * @module kms
 * The KMS service: symmetric keys, envelope encryption, aliases, rotation, tags, key policies and grants, behind
 * the AWS KMS operation table. Every operation on a key is authorized against its key policy, its grants and the
 * caller's identity policies (key-access.ts); keys of other accounts are usable where AWS allows it. Imports core, crypto, store and policy; never protocol, server or another service.
 */
export { createKmsService, type KmsService } from './service.js';
export type { KmsDeps } from './deps.js';
export { kmsErrors } from './errors.js';
export { backingKeyOwner } from './key-material.js';
export type { KmsPort, Envelope } from './envelope-port.js';
export type { IamPrincipalDirectory, KeyUsageLog, KeyUse } from './ports.js';
