/**
 * The Node side of a hosted invocation, run as `node bootstrap.mjs` with the function's code as the working
 * directory. It reads `{"event", "context"}` from stdin, loads the module named by `_HANDLER` (`.js`, `.mjs`
 * or `.cjs`, CommonJS or ES module), calls the exported handler (async, or callback style) and writes one
 * JSON result to fd 3. Error documents have Lambda's Node shape (errorType, errorMessage, trace).
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html
 */
export const NODE_BOOTSTRAP = String.raw`import { existsSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const request = JSON.parse(readFileSync(0, 'utf8'));
const meta = request.context;

function report(document) {
  writeResult(JSON.stringify(document));
}

function writeResult(text) {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(3, bytes, offset);
}

function errorDocument(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack ?? '').split('\n') };
  }
  const message = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  return { errorType: typeof error, errorMessage: message, trace: [] };
}

function fail(errorType, errorMessage) {
  report({ ok: false, error: { errorType, errorMessage, trace: [] } });
  process.exit(0);
}

process.on('unhandledRejection', (reason) => {
  report({ ok: false, error: { ...errorDocument(reason), errorType: 'Runtime.UnhandledPromiseRejection' } });
  process.exit(1);
});

const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerName = process.env._HANDLER ?? '';
const dot = handlerName.lastIndexOf('.');
if (dot <= 0) fail('Runtime.MalformedHandlerName', "Bad handler '" + handlerName + "'");
const moduleName = handlerName.slice(0, dot);
const exportName = handlerName.slice(dot + 1);
const file = ['.js', '.mjs', '.cjs'].map((extension) => join(taskRoot, moduleName + extension)).find((path) => existsSync(path));
if (!file) fail('Runtime.ImportModuleError', "Error: Cannot find module '" + moduleName + "'");

let module;
try {
  module = await import(pathToFileURL(file).href);
} catch (error) {
  const document = errorDocument(error);
  report({ ok: false, error: { ...document, errorType: error instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError' } });
  process.exit(0);
}
const handler = module[exportName] ?? module.default?.[exportName];
if (typeof handler !== 'function') fail('Runtime.HandlerNotFound', moduleName + '.' + exportName + ' is undefined or not exported');

const context = {
  functionName: meta.functionName,
  functionVersion: meta.functionVersion,
  invokedFunctionArn: meta.invokedFunctionArn,
  memoryLimitInMB: meta.memoryLimitInMB,
  awsRequestId: meta.awsRequestId,
  logGroupName: meta.logGroupName,
  logStreamName: meta.logStreamName,
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, meta.deadlineMs - Date.now()),
};

try {
  const value = await new Promise((resolve, reject) => {
    const callback = (error, result) => (error === null || error === undefined ? resolve(result) : reject(error));
    try {
      const returned = handler(request.event, context, callback);
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
  let payload;
  try {
    payload = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    fail('Runtime.MarshalError', 'Unable to stringify response body: ' + (error instanceof Error ? error.message : String(error)));
  }
  writeResult('{"ok":true,"payload":' + payload + '}');
} catch (error) {
  report({ ok: false, error: errorDocument(error) });
}
process.exit(0);
`;
