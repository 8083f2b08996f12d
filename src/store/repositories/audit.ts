import type { AuditEventDraft, AuditEventRecord, AuditLookup } from '../records/audit.js';

/**
 * The audit log: an append-only hash chain of CloudTrail-shaped events (formula in ../audit-hash.ts).
 * The SQLite backend keeps it in its own file (audit.db) written by one writer (sqlite/audit-writer.ts).
 * The invariants of every repository are Store's (../store.ts).
 */
export interface AuditRepository {
  /**
   * Appends an audit event at the end of the hash chain: reads the last event, seals the draft against it
   * (prevHash = its hash, hash = SHA-256(prevHash ‖ body), see audit-hash.ts) and inserts it as the next
   * sequence number, in one transaction. Throws when the event cannot be written.
   */
  appendAuditEvent(draft: AuditEventDraft): Promise<AuditEventRecord>;
  /**
   * Appends several events in order, in ONE transaction (group commit: one durable write for a batch of
   * requests); all or none. Returns the stored records in the same order.
   */
  appendAuditEvents(drafts: AuditEventDraft[]): Promise<AuditEventRecord[]>;
  /**
   * Writes a throwaway event and rolls it back: throws exactly when an append would fail now. Fail-closed
   * auditing asks this before a mutation runs.
   */
  probeAuditAppend(): Promise<void>;
  /** Events in chain order with sequence > `afterSequence`, at most `limit`: for verification. */
  listAuditEvents(afterSequence: number, limit: number): Promise<AuditEventRecord[]>;
  /**
   * Deletes the events with sequence <= `throughSequence`, oldest first, but never the newest event of the chain
   * (the next append seals against it): audit retention, after those events were written to archive files.
   * Several short transactions, so appends wait only briefly. Returns how many were deleted.
   */
  pruneAuditEvents(throughSequence: number): Promise<number>;
  /** Events matching the lookup, newest (highest sequence) first. */
  lookupAuditEvents(lookup: AuditLookup): Promise<AuditEventRecord[]>;
  /**
   * The newest event (highest sequence) from `eventSource` with one of `eventNames`, that names `resourceName`
   * among its resources and succeeded (its body has no errorCode); undefined when there is none. Served by an
   * index on (event_name, sequence): for each name the scan walks back from the end through that operation's
   * events only (KMS's GetKeyLastUsage).
   */
  lastSuccessfulAuditEvent(query: { eventSource: string; eventNames: readonly string[]; resourceName: string }): Promise<AuditEventRecord | undefined>;
}
