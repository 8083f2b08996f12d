import { z } from 'zod';
import { operation, type OperationSpec } from '../core/index.js';
import type { AuditRepository } from '../store/index.js';
import { verifyChain } from './chain.js';

/**
 * `VerifyAuditChain`: Coffer's own read-only operation beside LookupEvents (same target prefix, SigV4 service
 * `cloudtrail`, authorized as the action `cloudtrail:VerifyAuditChain` like any other), so the web console can
 * show the chain's state. CloudTrail has no API for this (its log file validation is a CLI command over S3
 * digests). It runs the check `coffer audit verify` runs first (audit/chain.ts), over the whole log; the
 * anchors need the root key and stay the CLI's. The answer names sequences and a fixed reason only, never an
 * event's content, so it says nothing about another account's calls.
 */
const verifyAuditChainSchema = z.object({}).strict();

export function verifyAuditChainOperation(deps: { store: Pick<AuditRepository, 'listAuditEvents'> }): OperationSpec<z.infer<typeof verifyAuditChainSchema>, unknown> {
  return operation(verifyAuditChainSchema, async () => {
    const result = await verifyChain((afterSequence, limit) => deps.store.listAuditEvents(afterSequence, limit));
    if (result.intact) {
      return { Intact: true, EventsVerified: result.events, HeadSequence: result.head?.sequence, HeadHash: result.head?.hash, HeadEventTime: result.head?.eventTime };
    }
    return { Intact: false, EventsVerified: result.events, BrokenSequence: result.brokenSequence, BrokenEventId: result.eventId, Reason: result.reason };
  });
}
