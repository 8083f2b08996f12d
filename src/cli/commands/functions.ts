import type { CreateFunctionRequest, Runtime } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';

/**
 * The wire form of an HTTP function (docs/ARCHITECTURE.md, "HTTP functions"): Lambda's CreateFunction with
 * this runtime and the URL in this environment variable. The CLI is a client like any other, so it spells
 * the contract out rather than importing the server's constants.
 */
const HTTP_RUNTIME = 'coffer-http';
const HTTP_URL_VARIABLE = 'COFFER_FUNCTION_URL';
/** A built-in function (docs/ARCHITECTURE.md, "Built-in functions"): this runtime, the rotator as Handler, no code. */
const BUILTIN_RUNTIME = 'coffer-builtin';
const ROTATORS = ['postgres-single-user', 'postgres-multi-user', 'mysql-single-user', 'mysql-multi-user'];

type CommonOptions = { timeout: string; region?: string; endpointUrl?: string; description?: string };
type CreateHttpOptions = CommonOptions & { url: string };
type CreateBuiltinOptions = CommonOptions & { rotator: string; role: string };

/**
 * `coffer functions ...`: remote commands against a running Coffer, signed with the AWS SDK from the
 * environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION or AWS_DEFAULT_REGION),
 * as `source <data-dir>/admin-credentials` sets them.
 */
export function registerFunctionsCommand(program: Command): void {
  const functions = program.command('functions').description('manage rotation functions on a running Coffer (Lambda API)');
  functions
    .command('create-http')
    .description('register an HTTP function: Coffer POSTs each event to URL as JSON; a 2xx answer is success')
    .argument('<name>', 'function name (letters, digits, - and _; up to 64)')
    .requiredOption('--url <url>', 'the http(s) URL Coffer POSTs events to')
    .option('--timeout <seconds>', 'seconds Coffer waits for an answer (1-900)', '30')
    .option('--description <text>', 'description of the function')
    .option('--region <region>', 'region (default AWS_REGION, AWS_DEFAULT_REGION or us-east-1)')
    .option('--endpoint-url <url>', "Coffer's URL (default AWS_ENDPOINT_URL)")
    .action(createHttp);
  functions
    .command('create-builtin')
    .description("deploy a function that runs one of Coffer's built-in rotators as its execution role")
    .argument('<name>', 'function name (letters, digits, - and _; up to 64)')
    .requiredOption('--rotator <rotator>', `the built-in rotator: ${ROTATORS.join(', ')}`)
    .requiredOption('--role <arn>', 'the execution role the rotator acts as (arn:aws:iam::<account>:role/<name>)')
    .option('--timeout <seconds>', 'seconds a step may take (1-900)', '30')
    .option('--description <text>', 'description of the function')
    .option('--region <region>', 'region (default AWS_REGION, AWS_DEFAULT_REGION or us-east-1)')
    .option('--endpoint-url <url>', "Coffer's URL (default AWS_ENDPOINT_URL)")
    .action(createBuiltin);
}

async function createBuiltin(name: string, options: CreateBuiltinOptions): Promise<void> {
  if (!ROTATORS.includes(options.rotator)) fail(`--rotator must be one of ${ROTATORS.join(', ')}`);
  await createFunction(name, options, { Runtime: BUILTIN_RUNTIME as Runtime, Handler: options.rotator, Role: options.role, Code: {} });
}

async function createHttp(name: string, options: CreateHttpOptions): Promise<void> {
  await createFunction(name, options, {
    Runtime: HTTP_RUNTIME as Runtime,
    Role: undefined,
    Code: {},
    Environment: { Variables: { [HTTP_URL_VARIABLE]: options.url } },
  });
}

/** CreateFunction with the given members, printing the configuration as `aws lambda create-function` does. */
async function createFunction(name: string, options: CommonOptions, members: Omit<CreateFunctionRequest, 'FunctionName'>): Promise<void> {
  const timeout = Number(options.timeout);
  if (!/^\d+$/.test(options.timeout) || timeout < 1 || timeout > 900) fail('--timeout must be a whole number of seconds from 1 to 900');
  const endpoint = options.endpointUrl ?? process.env.AWS_ENDPOINT_URL_LAMBDA ?? process.env.AWS_ENDPOINT_URL;
  if (!endpoint) fail("Coffer's URL is unknown: set AWS_ENDPOINT_URL (source <data-dir>/admin-credentials) or pass --endpoint-url");
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The SDK's notice about future Node versions is for the operator of Coffer, not for each CLI run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Imported here, not at the top: every `coffer` command (the server included) would load the SDK (~150-300 ms).
  const { CreateFunctionCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({ endpoint, region, maxAttempts: 1 });
  try {
    const created = await client.send(
      new CreateFunctionCommand({ FunctionName: name, Timeout: timeout, Description: options.description, ...members } as CreateFunctionRequest),
    );
    const { $metadata: _metadata, ...configuration } = created;
    process.stdout.write(JSON.stringify(configuration, null, 4) + '\n');
  } catch (error) {
    const code = error instanceof Error ? error.name : 'Error';
    fail(`${code}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    client.destroy();
  }
}

function fail(message: string): never {
  process.stderr.write(`coffer functions: ${message}\n`);
  process.exit(1);
}
