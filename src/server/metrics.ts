import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AuditRecorder } from '../audit/index.js';
import type { Clock } from '../core/index.js';
import type { RotationDeps } from '../rotation/index.js';
import { KEY_STATES, ROTATION_STEPS, type KmsRepository, type ReadCacheStats, type RotationRepository } from '../store/index.js';
import { HotCounter, HotHistogram, type HotCounterChild, type HotHistogramChild } from './hot-metrics.js';

/**
 * Coffer's Prometheus metrics (docs/ARCHITECTURE.md, "Metrics"). Everything is observed here, in the composition
 * root, around the modules that do the work: the pipeline's end-of-call hook, a timing proxy around the store,
 * a wrapper around the audit recorder, a tap on rotation's outcome events, and store queries run at scrape time.
 * No module below server knows metrics exist.
 *
 * Label values come from fixed sets only: a service's signing name, an operation name of its table, an outcome,
 * a store method, a key state, a rotation step. A secret's name, ARN or value, a key id or an account never
 * becomes a label.
 */

/** How a call ended: `client_error` is a 4xx the caller can fix, `server_error` a 5xx (the protocol's fault). */
export type CallOutcome = 'success' | 'client_error' | 'server_error';
const CALL_OUTCOMES: readonly CallOutcome[] = ['success', 'client_error', 'server_error'];

/** The label of a call that named no operation of any table (an unknown target, a malformed request). */
const UNKNOWN = 'unknown';

/** Request latency buckets (seconds): from a cached read (~0.2 ms) to a slow store or function call. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Store method buckets: a cached point read is microseconds, a PostgreSQL transaction milliseconds. */
const STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Audit write buckets: a group commit (fsync) is about a millisecond; a backlog shows as seconds. */
const AUDIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** A rotation outcome, as rotation hands it to the audit log. */
type RotationAuditEvent = Parameters<RotationDeps['recordEvent']>[0];

/** What the metrics read from the store at scrape time. */
export type MetricsStore = Pick<KmsRepository, 'countKeysByState'> & Pick<RotationRepository, 'rotationLag'>;

export type CofferMetrics = ReturnType<typeof createCofferMetrics>;

/**
 * One process's registry and its instruments. `processMetrics` adds prom-client's default process and Node.js
 * metrics (CPU, memory, event loop lag, GC, handles), which a test that starts many servers in one process leaves off.
 */
export function createCofferMetrics(options: { processMetrics: boolean }) {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'coffer_workers',
    help: 'Server processes whose metrics this scrape holds (1, or the workers of --workers N that answered).',
    registers: [registry],
    collect() {
      this.set(1);
    },
  });
  const requests = requestInstruments(registry);
  const rotations = rotationInstruments(registry);
  const audit = auditInstruments(registry);
  const storeCalls = new HotHistogram({
    name: 'coffer_store_operation_duration_seconds',
    help: 'Time of each store (repository) method call, by method.',
    labelNames: ['method'],
    buckets: STORE_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    /** The pipeline's end-of-call hook: one count and one latency per HTTP API call. */
    observeCall: requests.observe,
    /** Rotation's outcome events, counted on their way to the audit log. */
    observeRotationEvent: rotations.observe,
    /** The audit recorder, with each event's write time and the events not yet durable. */
    observeAudit: audit.wrap,
    /** The store behind a proxy that times every method call. */
    observeStore: <S extends object>(store: S): S => timedStore(store, storeCalls),
    /** Gauges read from the store and its read cache at each scrape. */
    observeStoreState(source: { store: MetricsStore; clock: Clock; readCacheStats?: () => ReadCacheStats }) {
      storeStateCollectors(registry, source);
    },
  };
}

function requestInstruments(registry: Registry) {
  const total = new HotCounter({
    name: 'coffer_requests_total',
    help: 'API calls answered, by service (signing name), operation and outcome (success, client_error = 4xx, server_error = 5xx).',
    labelNames: ['service', 'operation', 'outcome'],
    registers: [registry],
  });
  const duration = new HotHistogram({
    name: 'coffer_request_duration_seconds',
    help: 'Time from a request entering the pipeline to its response (audit write included), by service and operation.',
    labelNames: ['service', 'operation'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  type Children = { counts: Record<CallOutcome, HotCounterChild>; latency: HotHistogramChild };
  // The children of each (service, operation), made at its first call: later calls look them up and add numbers.
  const byService = new Map<string, Map<string, Children>>();
  const childrenOf = (service: string, operation: string): Children => {
    let byOperation = byService.get(service);
    if (!byOperation) byService.set(service, (byOperation = new Map()));
    let children = byOperation.get(operation);
    if (!children) {
      const counts = Object.fromEntries(CALL_OUTCOMES.map((outcome) => [outcome, total.labels(service, operation, outcome)])) as Children['counts'];
      children = { counts, latency: duration.labels(service, operation) };
      byOperation.set(operation, children);
    }
    return children;
  };
  return {
    /** `startedMs` is the call's performance.now() when it entered the pipeline. */
    observe(service: string | undefined, operation: string | undefined, outcome: CallOutcome, startedMs: number): void {
      const children = childrenOf(service ?? UNKNOWN, operation ?? UNKNOWN);
      children.counts[outcome].inc();
      children.latency.observe((performance.now() - startedMs) / 1000);
    },
  };
}

const ROTATION_OUTCOMES: Record<RotationAuditEvent['eventName'], string> = {
  RotationStarted: 'started',
  RotationSucceeded: 'succeeded',
  RotationFailed: 'failed',
  RotationAbandoned: 'abandoned',
};

function rotationInstruments(registry: Registry) {
  const total = new Counter({
    name: 'coffer_rotations_total',
    help: 'Rotation outcomes (started, succeeded, failed = one failed attempt, abandoned = retries used up), with the step that failed (empty otherwise).',
    labelNames: ['outcome', 'step'],
    registers: [registry],
  });
  const steps = new Set<string>(ROTATION_STEPS);
  return {
    observe(event: Pick<RotationAuditEvent, 'eventName' | 'details'>): void {
      const step = typeof event.details.Step === 'string' && steps.has(event.details.Step) ? event.details.Step : '';
      total.inc({ outcome: ROTATION_OUTCOMES[event.eventName] ?? UNKNOWN, step });
    },
  };
}

const isRecorded = (record: unknown) => record !== undefined;
const alwaysWritten = () => true;

function auditInstruments(registry: Registry) {
  const written = new HotHistogram({
    name: 'coffer_audit_write_duration_seconds',
    help: 'Time from a call handing its audit event to the recorder until the event is durable (group commit included).',
    buckets: AUDIT_BUCKETS,
    registers: [registry],
  });
  const events = new HotCounter({
    name: 'coffer_audit_events_total',
    help: 'Audit events handed to the recorder, by outcome (written, failed: not written, logged instead).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  let backlog = 0;
  new Gauge({
    name: 'coffer_audit_backlog_events',
    help: 'Audit events handed to the recorder and not yet durable (each one holds its response).',
    registers: [registry],
    collect() {
      this.set(backlog);
    },
  });
  const counted = { written: events.labels('written'), failed: events.labels('failed') };
  const durations = written.labels();

  /** The write's promise, counted and timed when it settles (no async frame: every audited call comes here). */
  function timed<T>(write: () => Promise<T>, isWritten: (result: T) => boolean): Promise<T> {
    const started = performance.now();
    backlog += 1;
    const settled = () => {
      backlog -= 1;
      durations.observe((performance.now() - started) / 1000);
    };
    let writing: Promise<T>;
    try {
      writing = write();
    } catch (error) {
      settled();
      counted.failed.inc();
      return Promise.reject(error);
    }
    return writing.then(
      (result) => {
        settled();
        (isWritten(result) ? counted.written : counted.failed).inc();
        return result;
      },
      (error: unknown) => {
        settled();
        counted.failed.inc();
        throw error;
      },
    );
  }

  return {
    wrap(recorder: AuditRecorder): AuditRecorder {
      return {
        ...recorder,
        // record() answers undefined when fail-open auditing could not write the event.
        record: (call) => timed(() => recorder.record(call), isRecorded),
        recordServiceEvent: (event) => timed(() => recorder.recordServiceEvent(event), alwaysWritten),
      };
    },
  };
}

/**
 * The store's methods, each timed under its own name. Only functions are wrapped (once each, on first use); they
 * run with the store itself as `this`, so a backend's private fields work as before.
 */
function timedStore<S extends object>(store: S, histogram: HotHistogram): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let timed = wrapped.get(property);
      if (!timed) {
        const child = histogram.labels(property);
        const method = value as (...args: unknown[]) => unknown;
        timed = function (this: unknown, ...args: unknown[]) {
          const started = performance.now();
          const result = method.apply(target, args);
          if (!(result instanceof Promise)) {
            child.observe((performance.now() - started) / 1000);
            return result;
          }
          // then() rather than finally(): finally() makes two more promises per call.
          return result.then(
            (settled: unknown) => {
              child.observe((performance.now() - started) / 1000);
              return settled;
            },
            (error: unknown) => {
              child.observe((performance.now() - started) / 1000);
              throw error;
            },
          );
        };
        wrapped.set(property, timed);
      }
      return timed;
    },
  });
}

/** Keys by state, rotation lag and the read cache: asked at each scrape, so every node shows the store's numbers. */
function storeStateCollectors(registry: Registry, source: { store: MetricsStore; clock: Clock; readCacheStats?: () => ReadCacheStats }): void {
  new Gauge({
    name: 'coffer_kms_keys',
    help: 'KMS keys in the store, every account and Region, by key state.',
    labelNames: ['state'],
    registers: [registry],
    // The same on every worker: a cluster's scrape shows it once, not summed.
    aggregator: 'max',
    async collect() {
      const counts = await source.store.countKeysByState();
      for (const state of KEY_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'coffer_rotation_overdue_secrets',
    help: 'Secrets with rotation on whose rotation window closed without a rotation.',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      this.set((await source.store.rotationLag(source.clock.now())).overdueSecrets);
    },
  });
  new Gauge({
    name: 'coffer_rotation_lag_seconds',
    help: 'How long the longest-overdue secret has been due for rotation (0 when none is overdue).',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      const now = source.clock.now();
      const { oldestDueDate } = await source.store.rotationLag(now);
      this.set(oldestDueDate ? Math.max(0, (now.getTime() - oldestDueDate.getTime()) / 1000) : 0);
    },
  });
  const readCacheStats = source.readCacheStats;
  if (!readCacheStats) return;
  new Counter({
    name: 'coffer_store_read_cache_requests_total',
    help: "Point reads the store's read cache answered (hit) or passed to the database (miss).",
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const stats = readCacheStats();
      this.reset();
      this.inc({ result: 'hit' }, stats.hits);
      this.inc({ result: 'miss' }, stats.misses);
    },
  });
  new Gauge({
    name: 'coffer_store_read_cache_entries',
    help: "Records the store's read cache holds now.",
    registers: [registry],
    collect() {
      this.set(readCacheStats().entries);
    },
  });
  new Gauge({
    name: 'coffer_store_read_cache_bytes',
    help: "Memory the store's read cache holds now, in bytes as it counts them (bounded by --read-cache-size).",
    registers: [registry],
    collect() {
      this.set(readCacheStats().bytes);
    },
  });
}
