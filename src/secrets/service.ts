import type { SecretRecord } from '../store/index.js';
import type { SecretsDeps } from './deps.js';
import { createSecretsMaintenance } from './maintenance.js';
import { createSecretsOperations } from './operations/index.js';
import { createReplication } from './replication.js';
import { secretsTable } from './table.js';

/**
 * The Secrets Manager service: its operation table for the protocol codec, its maintenance loop, and
 * `secretByArn` for the rotation module's runner (a secret's record, metadata only, no value: what a run
 * needs to know which function rotates it; the runner's calls on the secret go through `invoke`).
 */
export function createSecretsService(deps: SecretsDeps) {
  const replication = createReplication(deps);
  return {
    table: secretsTable(createSecretsOperations(deps, replication)),
    maintenance: createSecretsMaintenance(deps, replication),
    secretByArn: (secretArn: string): Promise<SecretRecord | undefined> => deps.store.getSecretByArn(secretArn),
  };
}

export type SecretsService = ReturnType<typeof createSecretsService>;
