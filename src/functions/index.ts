/**
 * @module functions
 * Lambda-compatible functions for rotation: the Lambda API subset (REST protocol, `/2015-03-31/functions`)
 * to deploy them, zip functions run as child processes (python3.x, nodejs20.x) with short-lived credentials
 * and AWS_ENDPOINT_URL pointing back at Coffer, HTTP functions (`coffer-http`, a URL Coffer POSTs to),
 * built-in functions (`coffer-builtin`, one of rotation's rotators, run through the `builtins` dependency),
 * each invocation's kept log, and `invoke` for the rotation runner. Variables are sealed under KMS at rest
 * (environment-vault.ts). Imports core and store only; credentials and the rotators come in as functions and KMS
 * as the narrow `EnvironmentKmsPort`, all from compose.ts. Never imports auth, protocol, server or another service.
 */
export { createFunctionsService, type FunctionsService } from './service.js';
export type { EnvironmentKmsPort, ExecutionRoles, FunctionsDeps, MintedCredentials } from './deps.js';
export type { InvokeOutcome } from './invoke-outcome.js';
export { lambdaErrors } from './errors.js';
export { HTTP_RUNTIME, HTTP_URL_VARIABLE } from './runtimes.js';
export { functionArn } from './function-name.js';
export type { BuiltinInvocation, BuiltinRotators } from './builtin-function.js';
