import type { Logger } from '../core/index.js';
import type { AuditEventDraft, AuditEventRecord, AuditRepository } from '../store/index.js';
import { canonicalEventJson, canonicalJson, indexFields } from './chain.js';
import { MAX_EVENT_BYTES, truncatedValue } from './event-bounds.js';
import { buildEvent, isReadOnly, type ApiCall, type AuditEvent } from './event.js';
import { serviceEventRecord, type ServiceEvent } from './service-event.js';

export type AuditRecorderDeps = {
  store: Pick<AuditRepository, 'appendAuditEvents' | 'probeAuditAppend'>;
  logger: Logger;
  /** Refuse requests whose audit event cannot be written (see docs/ARCHITECTURE.md, "Audit"). */
  failClosed: boolean;
};

/** Thrown when fail-closed auditing refuses a call; the pipeline renders it as the service's internal error. */
export class AuditUnavailableError extends Error {
  constructor(requestId: string, options?: { cause?: unknown }) {
    super(`the audit log cannot be written; request ${requestId} refused (fail-closed auditing)`, options);
    this.name = 'AuditUnavailableError';
  }
}

/**
 * Writes the one audit event of each API call. Fail-open (the default) logs a failed write and lets the call's
 * response through; fail-closed refuses the call instead:
 * - before a mutating operation runs, `admit` checks that an event can be appended now (a rolled-back probe
 *   write), so a refused mutation does not happen at all;
 * - after any operation, a failed `record` replaces the response with a 5xx: a read's result (a secret value,
 *   a plaintext) never leaves unaudited. A mutation that passed the probe and still could not be recorded has
 *   happened; the caller sees a 5xx (and retries idempotently), and the error log carries the redacted event.
 */
export function createAuditRecorder(deps: AuditRecorderDeps) {
  const groupCommit = createGroupCommit(deps.store);

  async function admit(call: Pick<ApiCall, 'requestId' | 'operation'>): Promise<void> {
    if (!deps.failClosed || (call.operation !== undefined && isReadOnly(call.operation))) return;
    try {
      await deps.store.probeAuditAppend();
    } catch (error) {
      deps.logger.error('audit log unavailable; mutation refused before it ran', { requestId: call.requestId, operation: call.operation, error: describe(error) });
      throw new AuditUnavailableError(call.requestId, { cause: error });
    }
  }

  async function record(call: ApiCall): Promise<AuditEventRecord | undefined> {
    let body: string | undefined;
    try {
      // At most MAX_EVENT_BYTES whatever the caller sent (event-bounds.ts).
      const bounded = withinEventCap(buildEvent(call));
      const event = bounded.event;
      body = bounded.body;
      // The index columns come from the event object itself: its body is that object's canonical JSON.
      // The store seals it (prevHash, hash) when it appends it at the chain's head.
      return await groupCommit.append({ ...indexFields(event), body });
    } catch (error) {
      deps.logger.error('audit event could not be written', { requestId: call.requestId, operation: call.operation, event: body, error: describe(error) });
      if (deps.failClosed) throw new AuditUnavailableError(call.requestId, { cause: error });
      return undefined;
    }
  }

  /**
   * Writes a service's own event (rotation outcomes). Never throws: the work it reports has happened, and
   * a failed write is logged with the event (which holds no values), fail-open or not.
   */
  async function recordServiceEvent(event: ServiceEvent): Promise<void> {
    const record = serviceEventRecord(event);
    const body = canonicalJson(record);
    try {
      await groupCommit.append({ ...indexFields(record), body });
    } catch (error) {
      deps.logger.error('audit event could not be written', { operation: event.eventName, event: body, error: describe(error) });
    }
  }

  return { admit, record, recordServiceEvent, failClosed: deps.failClosed };
}

export type AuditRecorder = ReturnType<typeof createAuditRecorder>;

/**
 * The event and its canonical text within MAX_EVENT_BYTES: as it is when it fits (the usual case, one
 * serialization), else with requestParameters and then responseElements replaced by a TruncatedValue of their
 * own canonical JSON, as CloudTrail truncates an oversized field.
 */
function withinEventCap(event: AuditEvent): { event: AuditEvent; body: string } {
  let body = canonicalEventJson(event);
  for (const part of ['requestParameters', 'responseElements'] as const) {
    if (Buffer.byteLength(body) <= MAX_EVENT_BYTES) break;
    if (event[part] === null) continue;
    event = { ...event, [part]: truncatedValue(canonicalJson(event[part])) };
    body = canonicalEventJson(event);
  }
  return { event, body };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type PendingAppend = {
  draft: AuditEventDraft;
  resolve: (record: AuditEventRecord) => void;
  reject: (error: unknown) => void;
};

/**
 * Group commit: the events of every request that finishes while no append is under way (in the same turn of
 * the event loop) are appended in one transaction, and those that finish while one is under way wait and go
 * together in the next, so a burst of requests shares one durable write instead of one each. Every request
 * still waits for its event to be on disk before its response is sent.
 */
function createGroupCommit(store: Pick<AuditRepository, 'appendAuditEvents'>) {
  let pending: PendingAppend[] = [];
  /** A flush is scheduled or running: appends made meanwhile join the next one. */
  let busy = false;

  function append(draft: AuditEventDraft): Promise<AuditEventRecord> {
    return new Promise((resolve, reject) => {
      pending.push({ draft, resolve, reject });
      if (!busy) {
        busy = true;
        setImmediate(flush);
      }
    });
  }

  async function flush(): Promise<void> {
    const batch = pending;
    pending = [];
    try {
      const records = await store.appendAuditEvents(batch.map((item) => item.draft));
      batch.forEach((item, index) => item.resolve(records[index]!));
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
    if (pending.length > 0) setImmediate(flush);
    else busy = false;
  }

  return { append };
}
