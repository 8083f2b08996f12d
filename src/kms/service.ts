import type { KmsDeps } from './deps.js';
import { createKmsPort } from './envelope-port.js';
import { createKmsMaintenance } from './maintenance.js';
import { createKmsOperations } from './operations/index.js';
import { kmsTable } from './table.js';

/** The KMS service: its operation table for the protocol codec, the maintenance loop, and the port other services use. */
export function createKmsService(deps: KmsDeps) {
  const operations = createKmsOperations(deps);
  return {
    table: kmsTable(operations),
    maintenance: createKmsMaintenance(deps, operations.rotateOnSchedule),
    /** The envelope-encryption port for a calling service, whose default key is `alias/aws/<service>`. */
    portFor: (service: string) => createKmsPort(operations, operations.ensureManagedKey, service),
  };
}

export type KmsService = ReturnType<typeof createKmsService>;
