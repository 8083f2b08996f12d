import { keyStoreId, type KeyRecord } from '../store/index.js';
import type { KmsDeps } from './deps.js';

const BATCH = 100;

/**
 * Work that is due by the clock rather than by a request: destroying keys whose deletion window has passed,
 * rotating keys whose rotation date has come, and deleting imported key material whose ValidTo has come. The
 * server runs it on a timer; every step is a conditional store write, so several nodes running it at once do
 * each thing once.
 */
export function createKmsMaintenance(
  deps: Pick<KmsDeps, 'store' | 'logger'>,
  rotateOnSchedule: (key: KeyRecord, now: Date) => Promise<boolean>,
) {
  async function runDue(now: Date): Promise<{ destroyed: number; rotated: number; expired: number }> {
    let destroyed = 0;
    for (const key of await deps.store.listKeysDueForDeletion(now, BATCH)) {
      if (await deps.store.destroyKey(keyStoreId(key), now)) {
        destroyed += 1;
        deps.logger.info('kms key destroyed after its deletion window', { keyArn: key.arn });
      }
    }
    let rotated = 0;
    for (const key of await deps.store.listKeysDueForRotation(now, BATCH)) {
      if (await rotateOnSchedule(key, now)) {
        rotated += 1;
        deps.logger.info('kms key rotated on schedule', { keyArn: key.arn });
      }
    }
    let expired = 0;
    for (const key of await deps.store.listKeysWithExpiredMaterial(now, BATCH)) {
      if (await deps.store.deleteImportedKeyMaterial(keyStoreId(key), { expiredBy: now })) {
        expired += 1;
        deps.logger.info('kms imported key material expired and was deleted', { keyArn: key.arn });
      }
    }
    return { destroyed, rotated, expired };
  }

  return { runDue };
}

export type KmsMaintenance = ReturnType<typeof createKmsMaintenance>;
