/**
 * The shapes the store persists. They are domain records, not rows: dates are Dates, blobs are Buffers,
 * and nothing here says which database holds them. One file per domain under records/, beside its repository
 * interface (repositories/); this file gathers them for store/index.ts and the backends.
 */
export * from './records/common.js';
export * from './records/kms.js';
export * from './records/iam.js';
export * from './records/oidc-providers.js';
export * from './records/secrets.js';
export * from './records/rotation.js';
export * from './records/functions.js';
export * from './records/audit.js';
export * from './records/parameters.js';
