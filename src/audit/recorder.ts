import { AwsError, type Logger } from '../core/index.js';
import type { AuditEventDraft, AuditEventRecord, AuditRepository } from '../store/index.js';
import { appendMissingAuditEvents } from './append-missing.js';
import { canonicalEventJson, canonicalJson, indexFields } from './chain.js';
import { MAX_EVENT_BYTES, truncatedValue } from './event-bounds.js';
import { buildEvent, isReadOnly, type ApiCall, type AuditEvent } from './event.js';
import { serviceEventRecord, type ServiceEvent } from './service-event.js';

export type AuditRecorderDeps = {
  store: Pick<AuditRepository, 'appendAuditEvents' | 'probeAuditAppend' | 'lookupAuditEvents'>;
  logger: Logger;
  /** Refuse requests whose audit event cannot be written (see docs/ARCHITECTURE.md, "Audit"). */
  failClosed: boolean;
  /**
   * Fail-open only: where the events of a batch the chain did not take are made durable before their calls are
   * answered (server/audit-spool.ts), to be appended later. Without it a failed write is only logged.
   */
  spool?: AuditSpool;
  /** How long a batch that met an unreachable store (a failover) is retried before it is spooled; default 10 s. */
  retryMs?: number;
};

/** The recorder's view of the spool: keep events durably outside the chain, until they can be appended. */
export type AuditSpool = {
  /** Resolves once the drafts are durable (fsync); throws when they cannot be written. */
  keep(drafts: AuditEventDraft[]): Promise<void>;
  /** Whether it holds events not yet in the chain (the store failed recently: spool at once, no retry). */
  holdsEvents(): boolean;
};

const DEFAULT_RETRY_MS = 10_000;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 1_000;

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
 * Fail-open with a spool answers a call only once its event is durable somewhere: a batch the store refused is
 * retried while the store is unreachable (up to `retryMs`), then written to the spool; only when the spool
 * cannot be written either is the call answered with its event lost (logged, as without a spool).
 */
export function createAuditRecorder(deps: AuditRecorderDeps) {
  const spool = deps.failClosed ? undefined : deps.spool;
  const groupCommit = createGroupCommit(deps.store, spool && ((drafts, error) => keepFailedBatch(drafts, error, spool)));

  /**
   * The failure path of a fail-open batch: retried while the store is unreachable (not when the spool already
   * holds events: the store is known to be failing, and the spool's own retry will append them), else spooled.
   * Resolves with the records of the events the chain took, undefined for spooled ones; throws if the spool failed.
   */
  async function keepFailedBatch(drafts: AuditEventDraft[], error: unknown, spool: AuditSpool): Promise<Array<AuditEventRecord | undefined>> {
    let lastError = error;
    if (isUnreachableStore(error) && !spool.holdsEvents()) {
      const deadline = Date.now() + (deps.retryMs ?? DEFAULT_RETRY_MS);
      for (let delay = FIRST_RETRY_DELAY_MS; Date.now() < deadline; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
        await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
        try {
          // The failed attempt's COMMIT may have landed before its connection was lost: append only what is missing.
          const records = await appendMissingAuditEvents(deps.store, drafts);
          deps.logger.warn('audit events appended on a retry: the audit log was unreachable', { events: drafts.length, error: describe(error) });
          return records;
        } catch (retryError) {
          lastError = retryError;
        }
      }
    }
    await spool.keep(drafts);
    deps.logger.warn('audit events spooled: the audit log could not be written; they are appended when it can be', {
      events: drafts.length,
      requestIds: drafts.map((draft) => requestIdOf(draft.body)),
      error: describe(lastError),
    });
    return drafts.map(() => undefined);
  }

  /**
   * Fail-closed: the probe a mutation waits for before it runs. Undefined when there is nothing to probe (fail-open
   * auditing admits every call, and a read changes nothing), so the common call awaits no promise.
   */
  function admit(call: Pick<ApiCall, 'requestId' | 'operation'>): Promise<void> | undefined {
    if (!deps.failClosed || (call.operation !== undefined && isReadOnly(call.operation))) return undefined;
    return probeBeforeMutation(call);
  }

  async function probeBeforeMutation(call: Pick<ApiCall, 'requestId' | 'operation'>): Promise<void> {
    try {
      await deps.store.probeAuditAppend();
    } catch (error) {
      deps.logger.error('audit log unavailable; mutation refused before it ran', { requestId: call.requestId, operation: call.operation, error: describe(error) });
      throw new AuditUnavailableError(call.requestId, { cause: error });
    }
  }

  /**
   * Builds the call's event before it returns (the pipeline lets go of the output then), and resolves once the
   * event is durable: with its record, or undefined when fail-open auditing could not write it.
   */
  function record(call: ApiCall): Promise<AuditEventRecord | undefined> {
    let body: string | undefined;
    try {
      // At most MAX_EVENT_BYTES whatever the caller sent (event-bounds.ts).
      const bounded = withinEventCap(buildEvent(call));
      body = bounded.body;
      // The index columns come from the event object itself: its body is that object's canonical JSON.
      // The store seals it (prevHash, hash) when it appends it at the chain's head.
      const appended = groupCommit.append({ ...indexFields(bounded.event, new Date(call.time.getTime())), body });
      // Only the names are held while the event waits to be durable, not the call (its output may be large).
      const { requestId, operation } = call;
      return appended.batch.then(
        (records) => records[appended.index],
        (error: unknown) => notWritten(requestId, operation, body, error),
      );
    } catch (error) {
      return new Promise((resolve) => resolve(notWritten(call.requestId, call.operation, body, error)));
    }
  }

  /** Fail-open: the spool could not be written either (or there is none): the event is only in this log line. */
  function notWritten(requestId: string, operation: string | undefined, body: string | undefined, error: unknown): undefined {
    deps.logger.error('audit event could not be written', { requestId, operation, event: body, error: describe(error) });
    if (deps.failClosed) throw new AuditUnavailableError(requestId, { cause: error });
    return undefined;
  }

  /**
   * Writes a service's own event (rotation outcomes). Never throws: the work it reports has happened, and
   * a failed write is logged with the event (which holds no values), fail-open or not.
   */
  async function recordServiceEvent(event: ServiceEvent): Promise<void> {
    const record = serviceEventRecord(event);
    const body = canonicalJson(record);
    try {
      const appended = groupCommit.append({ ...indexFields(record), body });
      await appended.batch;
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
    if (fitsEventCap(body)) break;
    if (event[part] === null) continue;
    event = { ...event, [part]: truncatedValue(canonicalJson(event[part])) };
    body = canonicalEventJson(event);
  }
  return { event, body };
}

/** A UTF-16 unit is at most 3 bytes of UTF-8: the exact count is needed only for a body near the cap. */
function fitsEventCap(body: string): boolean {
  return body.length * 3 <= MAX_EVENT_BYTES || Buffer.byteLength(body) <= MAX_EVENT_BYTES;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A store that could not be reached or lost its connection (a PostgreSQL failover): its 503, worth retrying. */
function isUnreachableStore(error: unknown): boolean {
  return error instanceof AwsError && error.code === 'ServiceUnavailable';
}

function requestIdOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { requestID?: unknown }).requestID;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The events waiting for the next append, and the one promise they all wait on: each caller reads its own record
 * at its index, so a batch costs one promise, not one per event.
 */
type Batch = {
  drafts: AuditEventDraft[];
  settled: Promise<Array<AuditEventRecord | undefined>>;
  resolve: (records: Array<AuditEventRecord | undefined>) => void;
  reject: (error: unknown) => void;
};

/** What a batch the store refused becomes: each draft's record, or undefined when it is kept elsewhere (spooled). */
type FailedBatchHandler = (drafts: AuditEventDraft[], error: unknown) => Promise<Array<AuditEventRecord | undefined>>;

/**
 * Group commit: the events of every request that finishes while no append is under way (in the same turn of
 * the event loop) are appended in one transaction, and those that finish while one is under way wait and go
 * together in the next, so a burst of requests shares one durable write instead of one each. Every request
 * still waits for its event to be on disk before its response is sent. A batch the store refuses goes to
 * `onFailure` (fail-open with a spool) while the next batch waits: still one batch in flight.
 */
function createGroupCommit(store: Pick<AuditRepository, 'appendAuditEvents'>, onFailure?: FailedBatchHandler) {
  let next: Batch | undefined;
  /** A flush is scheduled or running: appends made meanwhile join the next one. */
  let busy = false;

  /** Queues the draft; `batch` settles once the batch it joined is appended (or kept elsewhere, or failed). */
  function append(draft: AuditEventDraft): { batch: Promise<Array<AuditEventRecord | undefined>>; index: number } {
    next ??= newBatch();
    const index = next.drafts.push(draft) - 1;
    if (!busy) {
      busy = true;
      setImmediate(flush);
    }
    return { batch: next.settled, index };
  }

  async function flush(): Promise<void> {
    const batch = next!;
    next = undefined;
    try {
      batch.resolve(await store.appendAuditEvents(batch.drafts));
    } catch (error) {
      await settleFailedBatch(batch, error);
    }
    if (next) setImmediate(flush);
    else busy = false;
  }

  async function settleFailedBatch(batch: Batch, error: unknown): Promise<void> {
    try {
      if (!onFailure) throw error;
      batch.resolve(await onFailure(batch.drafts, error));
    } catch (failure) {
      batch.reject(failure);
    }
  }

  return { append };
}

function newBatch(): Batch {
  let resolve!: Batch['resolve'];
  let reject!: Batch['reject'];
  const settled = new Promise<Array<AuditEventRecord | undefined>>((resolveBatch, rejectBatch) => {
    resolve = resolveBatch;
    reject = rejectBatch;
  });
  return { drafts: [], settled, resolve, reject };
}
