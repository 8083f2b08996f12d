import type { KeyUsageLog } from '../kms/index.js';
import type { AuditRepository } from '../store/index.js';

/**
 * KMS's KeyUsageLog port over the audit repository (kms may not read the audit log): a key's last use is the
 * newest successful `kms.amazonaws.com` event of a tracked operation that names the key's ARN among its
 * resources; its CloudTrail event id and the request id are the event's own.
 */
export function createKeyUsageLog(store: Pick<AuditRepository, 'lastSuccessfulAuditEvent' | 'listAuditEvents'>): KeyUsageLog {
  return {
    async lastUse(keyArn, operations) {
      const event = await store.lastSuccessfulAuditEvent({ eventSource: 'kms.amazonaws.com', eventNames: operations, resourceName: keyArn });
      if (!event) return undefined;
      const body = JSON.parse(event.body) as { requestID?: unknown };
      return {
        operation: event.eventName,
        time: event.eventTime,
        eventId: event.eventId,
        requestId: typeof body.requestID === 'string' ? body.requestID : '',
      };
    },
    async recordingSince() {
      const [first] = await store.listAuditEvents(0, 1);
      return first?.eventTime;
    },
  };
}
