import { chainHash, GENESIS_HASH, type AuditEventRecord } from '../store/index.js';
import type { AuditEvent } from './event.js';

// The store's audit writer seals events (it reads the chain head under its write lock); the formula is the
// store's, and verification uses the same one.
export { chainHash, GENESIS_HASH };

/** JSON with object keys sorted at every level and undefined members left out: one text per event. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) sorted[key] = sortKeys(member);
    }
    return sorted;
  }
  return value;
}

/**
 * canonicalJson(event) for the recorder's own events, without walking the whole event: the top level and
 * userIdentity are written in sorted key order here (JSON.stringify keeps insertion order and drops undefined
 * members), and only the parts of unknown shape, the request and the response, are sorted generically.
 * A unit test holds it equal to canonicalJson.
 */
export function canonicalEventJson(event: AuditEvent): string {
  const identity = event.userIdentity;
  return JSON.stringify({
    awsRegion: event.awsRegion,
    errorCode: event.errorCode,
    errorMessage: event.errorMessage,
    eventCategory: event.eventCategory,
    eventID: event.eventID,
    eventName: event.eventName,
    eventSource: event.eventSource,
    eventTime: event.eventTime,
    eventType: event.eventType,
    eventVersion: event.eventVersion,
    invokedBy: event.invokedBy,
    managementEvent: event.managementEvent,
    readOnly: event.readOnly,
    recipientAccountId: event.recipientAccountId,
    requestID: event.requestID,
    requestParameters: sortKeys(event.requestParameters),
    resources: event.resources.map((resource) => ({ ARN: resource.ARN, accountId: resource.accountId })),
    responseElements: sortKeys(event.responseElements),
    sourceIPAddress: event.sourceIPAddress,
    userAgent: event.userAgent,
    userIdentity: {
      accessKeyId: identity.accessKeyId,
      accountId: identity.accountId,
      arn: identity.arn,
      invokedBy: identity.invokedBy,
      type: identity.type,
      userName: identity.userName,
    },
  });
}

/** The newest event of the chain: what an operator records, and what anchors are compared with. */
export type ChainHead = { sequence: number; hash: string; eventTime: Date };

export type VerifyResult =
  | { intact: true; events: number; head?: ChainHead }
  | { intact: false; events: number; brokenSequence: number; eventId?: string; reason: string };

/** The indexed copies a record carries must say what its body says (LookupEvents answers from them). */
export function indexMismatch(record: AuditEventRecord): string | undefined {
  let event: Record<string, any>;
  try {
    event = JSON.parse(record.body) as Record<string, any>;
  } catch {
    return 'the stored event is not valid JSON';
  }
  if (canonicalJson(event) !== record.body) return 'the stored event is not in canonical form';
  const expected = indexFields(event);
  if (expected.eventId !== record.eventId) return 'eventId differs from the stored event';
  if (expected.accountId !== record.accountId) return 'account differs from the stored event';
  if (expected.eventName !== record.eventName) return 'eventName differs from the stored event';
  if (expected.eventSource !== record.eventSource) return 'eventSource differs from the stored event';
  if (expected.eventTime.getTime() !== record.eventTime.getTime()) return 'eventTime differs from the stored event';
  if (expected.readOnly !== record.readOnly) return 'readOnly differs from the stored event';
  if (expected.accessKeyId !== record.accessKeyId) return 'accessKeyId differs from the stored event';
  if (expected.username !== record.username) return 'username differs from the stored event';
  if (JSON.stringify(expected.resourceNames) !== JSON.stringify(record.resourceNames)) return 'resources differ from the stored event';
  return undefined;
}

/**
 * The lookup columns of an event, derived from the event alone; `eventTime` is its eventTime parsed, which the
 * recorder, holding the call's time, passes instead of parsing the text it has just formatted.
 */
export function indexFields(event: Record<string, any>, eventTime = new Date(String(event.eventTime ?? ''))) {
  return {
    eventId: String(event.eventID ?? ''),
    accountId: String(event.recipientAccountId ?? ''),
    eventName: String(event.eventName ?? ''),
    eventSource: String(event.eventSource ?? ''),
    eventTime,
    readOnly: event.readOnly === true,
    accessKeyId: String(event.userIdentity?.accessKeyId ?? ''),
    username: String(event.userIdentity?.userName ?? ''),
    resourceNames: Array.isArray(event.resources) ? (event.resources as Array<{ ARN?: unknown }>).map((resource) => String(resource.ARN ?? '')) : [],
  };
}

/**
 * Walks the chain in order and names the first event that breaks it: a changed byte (its hash no longer
 * matches), a deleted event (a gap in the sequence, or the next event's prevHash no longer matches), a
 * reordered one (prevHash mismatch). Deleting the newest events leaves no trace in the chain itself: the
 * anchors (anchors.ts) catch that.
 */
export async function verifyChain(
  list: (afterSequence: number, limit: number) => Promise<AuditEventRecord[]>,
  pageSize = 500,
  /** Where the chain stands before the first event checked: its start, or the end of the archived events. */
  start: { sequence: number; hash: string } = { sequence: 0, hash: GENESIS_HASH },
): Promise<VerifyResult> {
  let expectedSequence = start.sequence + 1;
  let prevHash = start.hash;
  let events = 0;
  let head: ChainHead | undefined;
  for (;;) {
    const page = await list(expectedSequence - 1, pageSize);
    for (const record of page) {
      const broken = (reason: string): VerifyResult => ({ intact: false, events, brokenSequence: record.sequence, eventId: record.eventId, reason });
      if (record.sequence !== expectedSequence) {
        return { intact: false, events, brokenSequence: expectedSequence, reason: `event ${expectedSequence} is missing (next stored event is ${record.sequence})` };
      }
      if (record.prevHash !== prevHash) return broken('prevHash does not match the previous event (an event before it was changed, removed or moved)');
      if (chainHash(record.prevHash, record.body) !== record.hash) return broken('hash does not match the event (the event was changed)');
      const mismatch = indexMismatch(record);
      if (mismatch) return broken(mismatch);
      prevHash = record.hash;
      expectedSequence += 1;
      events += 1;
      head = { sequence: record.sequence, hash: record.hash, eventTime: record.eventTime };
    }
    if (page.length < pageSize) return { intact: true, events, head };
  }
}
