import type { RequestContext } from '../../core/index.js';
import type { KmsDeps } from '../deps.js';
import type { KeyAccess } from '../key-access.js';
import type { KmsInput } from '../schemas.js';

/**
 * The operations whose success counts as a key's use: botocore's KeyLastUsageTrackingOperation enum.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html
 */
export const KEY_USAGE_TRACKED_OPERATIONS = [
  'Decrypt', 'DeriveSharedSecret', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'ReEncrypt', 'Sign', 'Verify', 'VerifyMac',
] as const;

/**
 * GetKeyLastUsage: the last successful cryptographic operation on the key, read from Coffer's audit log through
 * the KeyUsageLog port (kms never reads the log itself). An operation counts when its audit event names the
 * key's ARN among its resources (a ReEncrypt names both its source and its destination key) and has no error.
 * Calls Coffer makes in process for another service (Secrets Manager sealing a version) are not KMS API calls
 * and leave no KMS event, so they do not count; AWS counts such calls, made by the service on the caller's
 * behalf, which is the one place Coffer's answer is older than AWS's would be.
 * TrackingStartDate is "the date from which KMS began recording cryptographic activity for this key, or the date
 * the KMS key was created, whichever is later": the audit log's first event or the key's creation.
 * Own account only, by key id or key ARN ("Alias names are not supported"); kms:GetKeyLastUsage in the key policy.
 */
export function createKeyLastUsageOperations(deps: Pick<KmsDeps, 'keyUsage'>, access: KeyAccess) {
  async function getKeyLastUsage(ctx: RequestContext, input: KmsInput<'GetKeyLastUsage'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'GetKeyLastUsage', { accepts: 'id-or-arn' });
    const [use, since] = await Promise.all([deps.keyUsage.lastUse(key.arn, KEY_USAGE_TRACKED_OPERATIONS), deps.keyUsage.recordingSince()]);
    const trackingStart = since && since > key.creationDate ? since : key.creationDate;
    return {
      KeyId: key.keyId,
      KeyLastUsage: use && {
        Operation: use.operation,
        Timestamp: use.time,
        CloudTrailEventId: use.eventId,
        KmsRequestId: use.requestId,
      },
      TrackingStartDate: trackingStart,
      KeyCreationDate: key.creationDate,
    };
  }

  return { getKeyLastUsage };
}
