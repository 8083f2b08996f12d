/**
 * @module audit
 * The audit log: the CloudTrail-shaped event of each API call and its redaction, the hash chain and its
 * verification, the recorder the pipeline calls once per call, and CloudTrail LookupEvents (with Coffer's
 * VerifyAuditChain beside it). Imports only core and store; it never imports a service, protocol or the server.
 */
export * from './event.js';
export * from './event-bounds.js';
export * from './redaction.js';
export * from './chain.js';
export * from './anchors.js';
export * from './archive.js';
export * from './recorder.js';
export * from './service-event.js';
export * from './table.js';
export * from './append-missing.js';
