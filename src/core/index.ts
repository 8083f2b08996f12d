/**
 * @module core
 * The shared kernel: AwsError and the common error codes, Clock, RequestContext, the Operation type,
 * ARN helpers, Sensitive<T> and the logger. It imports nothing from the rest of Coffer.
 */
export * from './errors.js';
export * from './clock.js';
export * from './sensitive.js';
export * from './context.js';
export * from './operation.js';
export * from './common-input.js';
export * from './arn.js';
export * from './logger.js';
export * from './shapes.js';
export * from './durable-files.js';
export * from './remembered.js';
