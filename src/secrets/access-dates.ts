import type { SecretAccessRecord } from '../store/index.js';
import type { SecretsDeps } from './deps.js';

/**
 * LastAccessedDate of secrets and versions, kept to the day as AWS keeps it: the first GetSecretValue of a
 * secret each day changes it. Those updates are gathered and written after the turn of the event loop that
 * found them, all in one transaction, instead of one synchronous commit (an fsync) per read on the request
 * path: at the start of each day every secret's first read would otherwise write, and each write also empties
 * the store's read cache. The flush runs in the same turn's check phase, before the readers' responses (which
 * wait for their audit events) go out. The date is bookkeeping, not an acknowledged write: a failed flush is
 * logged and the reads it came from still succeed.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html (LastAccessedDate)
 */
export function createAccessDates(deps: Pick<SecretsDeps, 'store' | 'logger'>) {
  let pending = new Map<string, SecretAccessRecord>();

  function record(access: SecretAccessRecord): void {
    if (pending.size === 0) setImmediate(flush);
    pending.set(`${access.arn}\0${access.versionId}\0${access.accessedDate.getTime()}`, access);
  }

  async function flush(): Promise<void> {
    const accesses = [...pending.values()];
    pending = new Map();
    try {
      await deps.store.recordSecretAccesses(accesses);
    } catch (error) {
      deps.logger.error('LastAccessedDate could not be recorded', { secrets: accesses.length, error: error instanceof Error ? error.message : String(error) });
    }
  }

  return { record };
}
