import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../core/index.js';
import type { FunctionRecord } from '../store/index.js';
import type { MintedCredentials } from './deps.js';
import type { InvokeOutcome } from './invoke-outcome.js';
import { runtimeFamily } from './runtimes.js';
import type { Workspace } from './workspace.js';

/** Lambda's limit on a synchronous response. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** Lambda's LogType=Tail returns the last 4 KB of the invocation's log. */
const LOG_TAIL_BYTES = 4096;
const MAX_LOGGED_LINES = 1000;
const MAX_LOGGED_LINE_CHARS = 1024;

/** One run of a function: the outcome, the error document as the runtime reported it, and the log's tail. */
export type Execution = {
  outcome: InvokeOutcome;
  /** Invoke's payload for a failure: `{errorMessage, errorType, ...}` as Lambda returns it. */
  errorDocument?: Record<string, unknown>;
  logTail: string;
};

export type HostedInvocation = {
  record: FunctionRecord;
  event: unknown;
  requestId: string;
  credentials: MintedCredentials;
  endpointUrl: string | undefined;
};

export type HostedOptions = {
  workspace: Workspace;
  logger: Logger;
  pythonCommand: string;
  nodeCommand: string;
  /** Told of each running child's kill switch, so close() can stop them; returns the way to forget it. */
  track: (kill: () => void) => () => void;
};

/** Lambda's timeout message. */
export function timedOut(timeoutSeconds: number): Execution {
  const errorMessage = `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
  return failed('Sandbox.Timedout', errorMessage);
}

export function failed(errorType: string, errorMessage: string, logTail = ''): Execution {
  return { outcome: { ok: false, errorType, errorMessage }, errorDocument: { errorMessage, errorType }, logTail };
}

/**
 * Runs a zip function's handler in a child process of its own process group: the code unpacked once per
 * package, a private HOME, an environment of the function's variables plus what Lambda sets (region,
 * function name, short-lived credentials, and AWS_ENDPOINT_URL pointing back at Coffer) and nothing else of
 * Coffer's own environment but PATH. At the timeout the whole group is killed.
 */
export async function runHosted(invocation: HostedInvocation, options: HostedOptions): Promise<Execution> {
  const { record } = invocation;
  const family = runtimeFamily(record.runtime ?? '');
  if (!family || !record.codeZip || !record.handler) {
    return failed('Runtime.InvalidEntrypoint', 'The function has no runnable code, runtime or handler.');
  }
  const codeDir = await options.workspace.codeDirectory(record.codeZip);
  const home = await options.workspace.invocationDirectory();
  try {
    return await runChild(invocation, options, { family, codeDir, home, handler: record.handler });
  } finally {
    await options.workspace.removeInvocationDirectory(home);
  }
}

type ChildSetup = { family: 'python' | 'node'; codeDir: string; home: string; handler: string };

function runChild(invocation: HostedInvocation, options: HostedOptions, setup: ChildSetup): Promise<Execution> {
  const { record, requestId } = invocation;
  const timeoutMs = record.timeoutSeconds * 1000;
  const deadlineMs = Date.now() + timeoutMs;
  const [command, args] =
    setup.family === 'python' ? [options.pythonCommand, ['-u', '-B', options.workspace.pythonBootstrap]] : [options.nodeCommand, [options.workspace.nodeBootstrap]];
  const log = new OutputLog(options.logger, record.name, requestId);

  return new Promise<Execution>((resolve) => {
    const child = spawn(command, args, {
      cwd: setup.codeDir,
      env: childEnvironment(invocation, setup),
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let timedOutAt: number | undefined;
    let spawnError: Error | undefined;
    let settled = false;
    const result = new BoundedCollector(MAX_RESPONSE_BYTES + 1024);

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOutAt = Date.now();
      killGroup();
    }, timeoutMs);
    const untrack = options.track(killGroup);

    child.stdout!.on('data', (chunk: Buffer) => log.write('stdout', chunk));
    child.stderr!.on('data', (chunk: Buffer) => log.write('stderr', chunk));
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => result.add(chunk));
    child.stdin!.on('error', () => {}); // a child that exits without reading its event
    // The handler's own children go with it: Lambda freezes the whole sandbox after a response.
    child.on('exit', killGroup);
    child.on('error', (error) => {
      spawnError = error;
      finish(undefined, null);
    });
    child.on('close', (code, signal) => finish(code, signal));

    const context = {
      functionName: record.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: record.arn,
      memoryLimitInMB: '128',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${record.name}`,
      logStreamName: `coffer/${requestId}`,
      deadlineMs,
    };
    child.stdin!.end(JSON.stringify({ event: invocation.event, context }));

    function finish(code: number | null | undefined, signal: NodeJS.Signals | null) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      untrack();
      killGroup();
      log.flush();
      resolve(outcomeOf());

      function outcomeOf(): Execution {
        if (spawnError) {
          options.logger.error('could not start a function runtime', { functionName: record.name, requestId, command, error: spawnError.message });
          return failed('Runtime.ExitError', `RequestId: ${requestId} Error: could not start the ${setup.family} runtime (${command})`, log.tail());
        }
        if (timedOutAt !== undefined) return { ...timedOut(record.timeoutSeconds), logTail: log.tail() };
        if (result.overflowed) {
          return failed('Function.ResponseSizeTooLarge', `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, log.tail());
        }
        const text = result.text();
        if (text.length === 0) {
          const how = signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}`;
          return failed('Runtime.ExitError', `RequestId: ${requestId} Error: Runtime exited with error: ${how}`, log.tail());
        }
        return parseResult(text, log.tail());
      }
    }
  });
}

function parseResult(text: string, logTail: string): Execution {
  let document: { ok?: unknown; payload?: unknown; error?: Record<string, unknown> };
  try {
    document = JSON.parse(text) as typeof document;
  } catch {
    return failed('Runtime.InvalidResponse', 'The runtime wrote a result that is not JSON.', logTail);
  }
  if (document.ok === true) {
    if (Buffer.byteLength(JSON.stringify(document.payload ?? null)) > MAX_RESPONSE_BYTES) {
      return failed('Function.ResponseSizeTooLarge', `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, logTail);
    }
    return { outcome: { ok: true, payload: document.payload ?? null }, logTail };
  }
  const error = document.error ?? {};
  const errorType = typeof error.errorType === 'string' ? error.errorType : 'Unhandled';
  const errorMessage = typeof error.errorMessage === 'string' ? error.errorMessage : '';
  return { outcome: { ok: false, errorType, errorMessage }, errorDocument: error, logTail };
}

function childEnvironment(invocation: HostedInvocation, setup: ChildSetup): Record<string, string> {
  const { record, credentials, endpointUrl } = invocation;
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    TZ: ':UTC',
    HOME: setup.home,
    TMPDIR: setup.home,
    // AWS's rotation templates call `boto3.client('secretsmanager', endpoint_url=os.environ['SECRETS_MANAGER_ENDPOINT'])`,
    // a variable AWS's serverless application sets; here it is Coffer, unless the function sets its own.
    ...(endpointUrl ? { SECRETS_MANAGER_ENDPOINT: endpointUrl } : {}),
    // The function's own variables; none of them can be a reserved name (checked when they are set).
    ...record.environment,
    LAMBDA_TASK_ROOT: setup.codeDir,
    _HANDLER: setup.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${record.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: record.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${record.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `coffer/${invocation.requestId}`,
    AWS_REGION: record.region,
    AWS_DEFAULT_REGION: record.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey.reveal(),
    AWS_SESSION_TOKEN: credentials.sessionToken.reveal(),
    ...(endpointUrl ? { AWS_ENDPOINT_URL: endpointUrl } : {}),
  };
}

/** Collects bytes up to a bound; past it, remembers only that it overflowed. */
class BoundedCollector {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  overflowed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(chunk: Buffer): void {
    if (this.overflowed) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.overflowed = true;
      this.#chunks.length = 0;
    } else {
      this.#chunks.push(chunk);
    }
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/**
 * The handler's stdout and stderr: each line to Coffer's logger at debug level (bounded), and the last 4 KB
 * kept for Invoke's LogType=Tail. Coffer never adds values to it; what the handler prints is its own.
 */
class OutputLog {
  readonly #logger: Logger;
  readonly #functionName: string;
  readonly #requestId: string;
  readonly #partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  #tail = '';
  #lines = 0;

  constructor(logger: Logger, functionName: string, requestId: string) {
    this.#logger = logger;
    this.#functionName = functionName;
    this.#requestId = requestId;
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.#tail = (this.#tail + text).slice(-LOG_TAIL_BYTES);
    const lines = (this.#partial[stream] + text).split('\n');
    this.#partial[stream] = lines.pop()!.slice(0, MAX_LOGGED_LINE_CHARS);
    for (const line of lines) this.#emit(stream, line);
  }

  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream] !== '') this.#emit(stream, this.#partial[stream]);
      this.#partial[stream] = '';
    }
  }

  tail(): string {
    return this.#tail;
  }

  #emit(stream: 'stdout' | 'stderr', line: string): void {
    this.#lines += 1;
    if (this.#lines > MAX_LOGGED_LINES) {
      if (this.#lines === MAX_LOGGED_LINES + 1) {
        this.#logger.debug('function output truncated', { functionName: this.#functionName, requestId: this.#requestId });
      }
      return;
    }
    this.#logger.debug('function output', { functionName: this.#functionName, requestId: this.#requestId, stream, line: line.slice(0, MAX_LOGGED_LINE_CHARS) });
  }
}
