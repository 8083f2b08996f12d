import type { SecretsDeps } from './deps.js';

const BATCH = 100;

/** Destroys secrets whose recovery window has passed. Each destroy is one store write; several nodes may run it. */
export function createSecretsMaintenance(deps: Pick<SecretsDeps, 'store' | 'logger'>) {
  async function runDue(now: Date): Promise<{ destroyed: number }> {
    let destroyed = 0;
    for (const secret of await deps.store.listSecretsDueForDeletion(now, BATCH)) {
      if (await deps.store.destroySecret(secret.arn)) {
        destroyed += 1;
        deps.logger.info('secret destroyed after its recovery window', { secretArn: secret.arn });
      }
    }
    return { destroyed };
  }
  return { runDue };
}
