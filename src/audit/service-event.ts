import { timeOrderedEventId } from './event.js';

/**
 * An event a service records on its own initiative, not as the answer to an API call: CloudTrail's
 * `AwsServiceEvent`, as Secrets Manager writes RotationStarted, RotationSucceeded, RotationFailed and
 * RotationAbandoned. https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html
 * `additionalEventData` must hold only names, ids, steps and error codes: never a value or a message a
 * function wrote (which could quote one).
 */
export type ServiceEvent = {
  time: Date;
  /** The SigV4 signing name of the service that records it (`secretsmanager`). */
  service: string;
  eventName: string;
  accountId: string;
  region: string;
  /** The ARN the event is about (the secret). */
  resourceArn: string;
  additionalEventData: Record<string, string | number>;
};

/** The CloudTrail record of a service event; its canonical JSON (`canonicalJson`) is the body the chain seals. */
export function serviceEventRecord(event: ServiceEvent, eventId: string = timeOrderedEventId(event.time)): Record<string, unknown> {
  const invokedBy = `${event.service}.amazonaws.com`;
  return {
    eventVersion: '1.08',
    eventID: eventId,
    eventTime: event.time.toISOString(),
    eventSource: invokedBy,
    eventName: event.eventName,
    awsRegion: event.region,
    sourceIPAddress: invokedBy,
    userAgent: invokedBy,
    userIdentity: { accountId: event.accountId, invokedBy },
    requestParameters: null,
    responseElements: null,
    additionalEventData: event.additionalEventData,
    readOnly: false,
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    eventCategory: 'Management',
    recipientAccountId: event.accountId,
    resources: [{ ARN: event.resourceArn, accountId: event.accountId }],
  };
}
