import type { Logger } from '../core/index.js';
import type { KmsPort } from '../kms/index.js';
import type { Store } from '../store/index.js';
import type { RotationStarter } from './ports.js';

/** What the Secrets Manager service needs: its store methods, and KMS only through the envelope port. */
export type SecretsDeps = {
  store: Pick<
    Store,
    | 'createSecret'
    | 'getSecretByArn'
    | 'getSecretByName'
    | 'listSecrets'
    | 'listSecretPage'
    | 'listVersionStages'
    | 'rewrapSecretVersions'
    | 'markSecretDeleted'
    | 'restoreSecret'
    | 'destroySecret'
    | 'listSecretsDueForDeletion'
    | 'recordSecretAccess'
    | 'putSecretVersion'
    | 'updateSecretLabels'
    | 'getSecretVersion'
    | 'getSecretVersionByStage'
    | 'listSecretVersions'
    | 'putSecretTags'
    | 'removeSecretTags'
    | 'listSecretTags'
    | 'setSecretRotation'
    | 'getOpenRotationRun'
    | 'cancelRotationRun'
  >;
  kms: KmsPort;
  rotation: RotationStarter;
  logger: Logger;
};
