import type { KmsDeps } from './deps.js';
import { createKmsMaintenance } from './maintenance.js';
import { createKmsOperations } from './operations/index.js';
import { kmsTable } from './table.js';

/** The KMS service: its operation table for the protocol codec, and the maintenance loop for the server. */
export function createKmsService(deps: KmsDeps) {
  const operations = createKmsOperations(deps);
  return {
    table: kmsTable(operations),
    maintenance: createKmsMaintenance(deps, operations.rotateOnSchedule),
  };
}

export type KmsService = ReturnType<typeof createKmsService>;
