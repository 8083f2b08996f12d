/**
 * @module protocol
 * Wire codecs: AWS JSON 1.1 and REST-JSON decode/encode, zod issues to ValidationException text, and the one
 * error renderer. Imports core (and zod); never a service, a store or the server.
 */
export * from './json11.js';
export * from './rest-json.js';
export * from './validation.js';
export * from './render-error.js';
export * from './query.js';
export { assertBoundedInput, MAX_INPUT_VALUES } from './input-bounds.js';
