import { BUILTIN_RUNTIME } from './builtin-function.js';
import { lambdaError } from './errors.js';

/**
 * Runtimes Coffer runs. `python3.x` runs on the machine's `python3`, `nodejs20.x` on the Node that runs Coffer;
 * the version in the name is recorded, not enforced. `coffer-http` is Coffer's own: the function is a URL;
 * `coffer-builtin` too (builtin-function.ts): the function is one of Coffer's rotators.
 */
export const HTTP_RUNTIME = 'coffer-http';

/** Where a `coffer-http` function keeps its URL: an environment variable, so the wire API stays Lambda's. */
export const HTTP_URL_VARIABLE = 'COFFER_FUNCTION_URL';

export type RuntimeFamily = 'python' | 'node';

const SUPPORTED = `python3.x (for example python3.12), nodejs20.x, coffer-http or ${BUILTIN_RUNTIME}`;

export function runtimeFamily(runtime: string): RuntimeFamily | undefined {
  if (/^python3\.\d{1,2}$/.test(runtime)) return 'python';
  if (runtime === 'nodejs20.x') return 'node';
  return undefined;
}

/** The kind of function a runtime makes, or InvalidParameterValueException for one Coffer does not run. */
export function kindOfRuntime(runtime: string): 'zip' | 'http' | 'builtin' {
  if (runtime === HTTP_RUNTIME) return 'http';
  if (runtime === BUILTIN_RUNTIME) return 'builtin';
  if (runtimeFamily(runtime)) return 'zip';
  throw lambdaError('InvalidParameterValueException', `The runtime parameter of ${runtime} is not supported by Coffer; use ${SUPPORTED}.`);
}

/** Keys Lambda sets itself, which a function's Environment may not hold; Coffer adds AWS_ENDPOINT_URL. */
export const RESERVED_VARIABLES = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_REGION',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
]);

const MAX_ENVIRONMENT_BYTES = 4096;

/**
 * Lambda's checks on Environment.Variables: no reserved keys, at most 4 KB in all.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
 */
export function checkEnvironment(variables: Record<string, string>): void {
  const reserved = Object.keys(variables).filter((key) => RESERVED_VARIABLES.has(key));
  if (reserved.length > 0) {
    throw lambdaError(
      'InvalidParameterValueException',
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const size = Object.entries(variables).reduce((total, [key, value]) => total + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
  if (size > MAX_ENVIRONMENT_BYTES) {
    throw lambdaError(
      'InvalidParameterValueException',
      'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.',
    );
  }
}

/** A handler string Coffer can run: `module.function` (Python `package/module.function` too). */
export function checkHandler(handler: string | undefined): string {
  if (handler === undefined || !/^[^\s]+\.[A-Za-z_$][\w$]*$/.test(handler)) {
    throw lambdaError('InvalidParameterValueException', 'The Handler must have the form file.function (for example lambda_function.lambda_handler).');
  }
  return handler;
}

/** The URL of a `coffer-http` function: http or https, absolute. */
export function checkFunctionUrl(url: string | undefined): string {
  let parsed: URL | undefined;
  try {
    parsed = url === undefined ? undefined : new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw lambdaError(
      'InvalidParameterValueException',
      `A ${HTTP_RUNTIME} function needs its URL (http or https) in Environment.Variables.${HTTP_URL_VARIABLE}.`,
    );
  }
  return url!;
}
