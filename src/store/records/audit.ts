/**
 * What the audit log keeps: hash-chained events.
 * Domain records, not rows (see ../records.ts).
 */

/** The LookupEvents attributes the store filters on (CloudTrail's LookupAttribute keys, minus EventCategory). */
export const AUDIT_LOOKUP_KEYS = ['EventId', 'EventName', 'EventSource', 'ReadOnly', 'Username', 'ResourceName', 'AccessKeyId'] as const;
export type AuditLookupKey = (typeof AUDIT_LOOKUP_KEYS)[number];

/**
 * One audit event as stored: the event's canonical JSON (`body`, what the hash covers), its place in the hash
 * chain, and copies of the fields LookupEvents filters on. The copies are checked against the body on verify.
 */
export type AuditEventRecord = {
  /** 1, 2, 3, …: the chain order; a constraint keeps it unique, so concurrent appends never fork the chain. */
  sequence: number;
  eventId: string;
  /** The account the call was made in (recipientAccountId); '' for calls that failed before a principal was known. */
  accountId: string;
  eventTime: Date;
  eventName: string;
  eventSource: string;
  readOnly: boolean;
  accessKeyId: string;
  username: string;
  resourceNames: string[];
  body: string;
  prevHash: string;
  hash: string;
};

export type AuditEventDraft = Omit<AuditEventRecord, 'sequence' | 'prevHash' | 'hash'>;

export type AuditLookup = {
  /** Only this account's events, as CloudTrail shows an account its own trail; undefined (local CLI only): all. */
  accountId: string | undefined;
  attribute?: { key: AuditLookupKey; value: string };
  startTime?: Date;
  endTime?: Date;
  /** Paging: only events with a smaller sequence (the page before ended there). */
  beforeSequence?: number;
  limit: number;
};
