import type { FunctionsDeps } from './deps.js';

/**
 * Deletes the access keys minted for invocations once they have expired. They are refused from the moment
 * they expire either way; this only keeps the table small. One store statement (through auth's credentials),
 * safe on several nodes.
 */
export function createFunctionsMaintenance(deps: Pick<FunctionsDeps, 'deleteExpiredCredentials' | 'logger'>) {
  async function runDue(now: Date): Promise<{ expiredKeysDeleted: number }> {
    const expiredKeysDeleted = await deps.deleteExpiredCredentials(now);
    if (expiredKeysDeleted > 0) deps.logger.debug('expired function credentials deleted', { count: expiredKeysDeleted });
    return { expiredKeysDeleted };
  }
  return { runDue };
}
