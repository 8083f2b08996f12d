import type { AuditEventDraft, AuditEventRecord, AuditRepository } from '../store/index.js';

export type MissingAppender = Pick<AuditRepository, 'appendAuditEvents' | 'lookupAuditEvents'>;

/**
 * Appends the drafts whose eventID the chain does not hold yet, in one transaction, and returns each draft's
 * record (undefined for one that was already there). The way an event whose first append failed goes in again
 * — a retry after a lost connection (whose COMMIT may have landed) or a replay of the spool (whose removal may
 * not have) — so that it is in the chain exactly once. One lookup per event: a failure path, not the hot one.
 */
export async function appendMissingAuditEvents(store: MissingAppender, drafts: AuditEventDraft[]): Promise<Array<AuditEventRecord | undefined>> {
  const present = await Promise.all(
    drafts.map(async (draft) => (await store.lookupAuditEvents({ accountId: undefined, attribute: { key: 'EventId', value: draft.eventId }, limit: 1 })).length > 0),
  );
  const missing = drafts.filter((_, index) => !present[index]);
  const records = missing.length > 0 ? await store.appendAuditEvents(missing) : [];
  let next = 0;
  return present.map((there) => (there ? undefined : records[next++]));
}
