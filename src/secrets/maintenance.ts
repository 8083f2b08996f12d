import type { SecretsDeps } from './deps.js';
import type { Replication } from './replication.js';

const BATCH = 100;

/**
 * Destroys secrets whose recovery window has passed, and retries replicas that are not in sync. Each destroy is
 * one store write; several nodes may run it (a replica's syncs are ordered by the store, replication.ts).
 */
export function createSecretsMaintenance(deps: Pick<SecretsDeps, 'store' | 'logger'>, replication: Pick<Replication, 'catchUp'>) {
  async function runDue(now: Date): Promise<{ destroyed: number; replicasSynced: number }> {
    let destroyed = 0;
    for (const secret of await deps.store.listSecretsDueForDeletion(now, BATCH)) {
      if (await deps.store.destroySecret(secret.arn)) {
        destroyed += 1;
        deps.logger.info('secret destroyed after its recovery window', { secretArn: secret.arn });
      }
    }
    const { synced } = await replication.catchUp(now);
    return { destroyed, replicasSynced: synced };
  }
  return { runDue };
}
