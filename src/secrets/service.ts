import type { SecretsDeps } from './deps.js';
import { createSecretsMaintenance } from './maintenance.js';
import { createSecretsOperations } from './operations/index.js';
import { secretsTable } from './table.js';

/** The Secrets Manager service: its operation table for the protocol codec, and its maintenance loop. */
export function createSecretsService(deps: SecretsDeps) {
  return {
    table: secretsTable(createSecretsOperations(deps)),
    maintenance: createSecretsMaintenance(deps),
  };
}

export type SecretsService = ReturnType<typeof createSecretsService>;
