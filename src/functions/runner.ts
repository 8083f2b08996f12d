import { roleSessionArn } from '../core/index.js';
import type { FunctionRecord } from '../store/index.js';
import type { FunctionsDeps } from './deps.js';
import { lambdaError } from './errors.js';
import { ROLE_NOT_ASSUMABLE, startExecutionSession } from './execution-role.js';
import { failed, runHosted, type Execution } from './hosted.js';
import { runHttpFunction } from './http-function.js';
import { keepInvocationLog } from './invocation-logs.js';
import { Workspace } from './workspace.js';

/** A session outlives the function's timeout by this much, as a margin for its last calls. */
const CREDENTIAL_GRACE_MS = 60_000;
const DEFAULT_MAX_CONCURRENT = 32;

/**
 * Runs functions: zip functions as child processes (hosted.ts) with a session of their execution role started for
 * this one invocation, HTTP functions as a POST (http-function.ts). At most `maxConcurrentInvocations` run at once on
 * this node; more are refused with TooManyRequestsException, as Lambda throttles past its concurrency.
 */
export function createRunner(deps: FunctionsDeps) {
  const workspace = new Workspace(deps.workDir);
  const maxConcurrent = deps.maxConcurrentInvocations ?? DEFAULT_MAX_CONCURRENT;
  const pythonCommand = deps.pythonCommand ?? 'python3';
  const nodeCommand = deps.nodeCommand ?? process.execPath;
  const children = new Set<() => void>();
  const track = (kill: () => void) => {
    children.add(kill);
    return () => void children.delete(kill);
  };
  let running = 0;
  let warnedNoEndpoint = false;

  /** Runs one invocation and keeps its log (when there is a log dir). */
  async function execute(record: FunctionRecord, event: unknown, requestId: string): Promise<Execution> {
    const startedAt = new Date();
    const execution = await executeOnce(record, event, requestId);
    if (deps.logDir) await keepInvocationLog(deps.logDir, record, requestId, execution, startedAt, deps.logger);
    return execution;
  }

  async function executeOnce(record: FunctionRecord, event: unknown, requestId: string): Promise<Execution> {
    if (running >= maxConcurrent) throw lambdaError('TooManyRequestsException', 'Rate Exceeded.');
    running += 1;
    try {
      if (record.kind === 'http') return await runHttpFunction(record, event, requestId, deps.logger);
      if (record.kind === 'builtin') return await runBuiltin(record, event, requestId);
      const endpointUrl = deps.endpointUrl();
      if (!endpointUrl && !warnedNoEndpoint) {
        warnedNoEndpoint = true;
        deps.logger.warn('hosted functions run without AWS_ENDPOINT_URL: Coffer does not know its own URL');
      }
      const ttlMs = record.timeoutSeconds * 1000 + CREDENTIAL_GRACE_MS;
      const credentials = await startExecutionSession(deps.executionRoles, record, ttlMs);
      return await runHosted(
        { record, event, requestId, credentials, endpointUrl },
        { workspace, logger: deps.logger, pythonCommand, nodeCommand, track },
      );
    } finally {
      running -= 1;
    }
  }

  async function runBuiltin(record: FunctionRecord, event: unknown, requestId: string): Promise<Execution> {
    if (!deps.builtins || !record.handler) return failed('Runtime.InvalidEntrypoint', 'The function names no built-in rotator.');
    // A built-in function acts as its role's session in process (no keys): Lambda must still be able to assume it.
    if (record.role === undefined || !(await deps.executionRoles.mayAssume(record.accountId, record.role))) {
      throw lambdaError('InvalidParameterValueException', ROLE_NOT_ASSUMABLE);
    }
    const invocation = {
      accountId: record.accountId,
      region: record.region,
      rotator: record.handler,
      principalArn: executionPrincipal(record.accountId, record.role, record.name),
      requestId,
    };
    const outcome = await deps.builtins.run(invocation, event);
    return outcome.ok ? { outcome, logTail: '' } : { ...failed(outcome.errorType, outcome.errorMessage), outcome };
  }

  return {
    execute,
    /** Kills the children still running (background Event invocations, say) and removes the unpacked code. */
    close() {
      for (const kill of children) kill();
      children.clear();
      workspace.close();
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;

/**
 * Who a built-in function acts as: its execution role's session, as Lambda runs a function with the role's
 * temporary credentials (`arn:aws:sts::<account>:assumed-role/<role>/<function>`).
 */
function executionPrincipal(accountId: string, roleArn: string, functionName: string): string {
  return roleSessionArn(accountId, roleArn.split('/').pop()!, functionName);
}
