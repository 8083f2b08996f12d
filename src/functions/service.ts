import { AwsError, type Clock, type RequestContext } from '../core/index.js';
import type { FunctionsDeps } from './deps.js';
import { createEnvironmentVault } from './environment-vault.js';
import { functionNotFound } from './errors.js';
import { functionArn, resolveFunctionRef } from './function-name.js';
import type { InvokeOutcome } from './invoke-outcome.js';
import { createFunctionsMaintenance } from './maintenance.js';
import { createFunctionOperations } from './operations.js';
import { createRunner } from './runner.js';
import { lambdaTable } from './table.js';

/**
 * The functions service: the Lambda REST table for the protocol codec, `invoke` for Coffer's own callers
 * (the rotation runner), the maintenance pass, and close() (after the server has drained: kills children
 * still running and removes the unpacked code).
 */
export function createFunctionsService(deps: FunctionsDeps) {
  const runner = createRunner(deps);
  const vault = createEnvironmentVault(deps.kms);
  const operations = createFunctionOperations(deps, runner, vault);

  /**
   * Runs a function by name or ARN for an in-process caller, as the caller's account and region. Never
   * throws: an unknown function, a refused call or a failure inside Coffer is an outcome like any other.
   */
  async function invoke(ctx: RequestContext, functionName: string, event: unknown): Promise<InvokeOutcome> {
    try {
      const ref = resolveFunctionRef(ctx, functionName);
      const record = await deps.store.getFunction(ref.accountId, ref.region, ref.name);
      if (!record) throw functionNotFound(functionArn(ref.region, ref.accountId, ref.name));
      return (await runner.execute(await vault.openForRun(ctx, record), event, ctx.requestId)).outcome;
    } catch (error) {
      if (error instanceof AwsError) return { ok: false, errorType: error.code, errorMessage: error.message };
      deps.logger.error('function invocation failed inside Coffer', {
        requestId: ctx.requestId,
        functionName,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      return { ok: false, errorType: 'ServiceException', errorMessage: `An internal error occurred. Request id: ${ctx.requestId}` };
    }
  }

  /** Whether a function of this name is deployed in this account and region (RotateSecret checks it). */
  async function exists(accountId: string, region: string, name: string): Promise<boolean> {
    return (await deps.store.getFunction(accountId, region, name)) !== undefined;
  }

  return {
    restTable: lambdaTable(operations),
    invoke,
    exists,
    maintenance: createFunctionsMaintenance(deps),
    /** Seals variables stored in clear before sealing existed; compose.ts runs it once the store is open. */
    sealClearEnvironments: (clock: Clock) => vault.sealClearEnvironments(deps.store, clock, deps.logger),
    close: () => runner.close(),
  };
}

export type FunctionsService = ReturnType<typeof createFunctionsService>;
