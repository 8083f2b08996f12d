import type { SsmDeps } from './deps.js';
import { createSsmOperations } from './operations/index.js';
import { ssmTable } from './table.js';

/**
 * The Parameter Store service: its operation table for the protocol codec, and its maintenance, which deletes
 * the parameters whose Expiration policy has passed (reads already treat them as deleted from that moment).
 */
export function createSsmService(deps: SsmDeps) {
  return {
    table: ssmTable(createSsmOperations(deps)),
    maintenance: {
      async runDue(now: Date): Promise<void> {
        const expired = await deps.store.deleteExpiredParameters(now);
        for (const parameter of expired) deps.logger.info('parameter expired and was deleted', { ...parameter });
      },
    },
  };
}

export type SsmService = ReturnType<typeof createSsmService>;
