import { MAX_EVENT_BYTES } from '../../../src/audit/index.js';
import type { EdgeSettings } from './episodes.js';
import { mib, type FuzzReport } from './run.js';

/**
 * The edge limits the fuzzed server runs with: shorter timeouts than the defaults (10 s, 60 s) so slow clients
 * are dealt with within a run, and fewer connections (1024) so a flood over the limit stays cheap to open.
 */
export const FUZZ_EDGE: EdgeSettings = { headersTimeoutMs: 2_000, requestTimeoutMs: 4_000, maxConnections: 256 };

/**
 * The server's resident memory never goes over this during a run (sampled from /proc/PID/status every 200 ms).
 * The server is the `coffer` executable (run.ts), with bin/coffer's bounds on V8's young generation and glibc's
 * arenas; without them runs peaked at 517–568 MiB with no retention (docs/reliability.md, "Why RSS passed 512 MiB").
 */
export const RSS_BOUND_BYTES = 512 * 1024 * 1024;
/** The audit log (audit.db and its WAL) grows by at most this much per request sent, on average over a run. */
export const AUDIT_BYTES_PER_REQUEST_BOUND = 4 * 1024;
/** No single audit event is larger than the recorder's own bound (audit/event-bounds.ts). */
export const AUDIT_EVENT_BOUND_BYTES = MAX_EVENT_BYTES;

/** Everything that fails a run; empty when it passed. */
export function reportFailures(report: FuzzReport, minimumRequests = 0): string[] {
  const failures: string[] = [];
  if (report.crashed) failures.push(report.crashed);
  if (report.requests < minimumRequests) failures.push(`only ${report.requests} requests sent, ${minimumRequests} wanted`);
  failures.push(...report.problems);
  failures.push(...report.canary.failures.map((failure) => `a well-formed call failed: ${failure}`));
  if (report.rss.maxBytes > RSS_BOUND_BYTES) failures.push(`RSS reached ${mib(report.rss.maxBytes)} MiB, bound ${mib(RSS_BOUND_BYTES)} MiB`);
  if (report.audit.bytesPerRequest > AUDIT_BYTES_PER_REQUEST_BOUND) failures.push(`the audit log grew ${report.audit.bytesPerRequest.toFixed(0)} bytes per request, bound ${AUDIT_BYTES_PER_REQUEST_BOUND}`);
  if (report.audit.maxEventBytes > AUDIT_EVENT_BOUND_BYTES) failures.push(`an audit event of ${report.audit.maxEventBytes} bytes, bound ${AUDIT_EVENT_BOUND_BYTES}`);
  failures.push(...report.serverErrors.map((line) => `the server logged an error: ${line.slice(0, 400)}`));
  return failures;
}

export function describeCaseCount(report: FuzzReport): string {
  return `${report.requests} requests, 0 crashes, 0 5xx, every answer AWS-shaped, ${report.canary.calls} well-formed calls succeeded`;
}

/** The figures of a run, as docs/reliability.md, "Hostile input" quotes them. */
export function formatReport(report: FuzzReport): string {
  const sorted = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([name, count]) => `${name} ${count}`).join(', ');
  return [
    `seed ${report.seed}: ${report.requests} requests in ${(report.elapsedMs / 1000).toFixed(0)} s (${report.notSent} refused by the client library, not sent)`,
    `cases: ${sorted(report.byKind)}`,
    `answers: ${sorted(report.byCode)}`,
    `problems: ${report.problems.length}; crashed: ${report.crashed ?? 'no'}; server error log lines: ${report.serverErrors.length}`,
    `well-formed calls: ${report.canary.calls} in ${report.canary.rounds} rounds, ${report.canary.failures.length} failed`,
    `floods: ${report.floods.map((flood) => `${flood.opened} opened/${flood.dropped} dropped`).join(', ') || 'none'}`,
    `RSS: ${mib(report.rss.beforeBytes)} MiB before, max ${mib(report.rss.maxBytes)} MiB (${report.rss.samples} samples), ${mib(report.rss.afterBytes)} MiB after; bound ${mib(RSS_BOUND_BYTES)} MiB`,
    `audit: ${report.audit.events} events, ${report.audit.growthBytes} bytes (${report.audit.bytesPerRequest.toFixed(0)} per request, bound ${AUDIT_BYTES_PER_REQUEST_BOUND}), largest event ${report.audit.maxEventBytes} bytes (bound ${AUDIT_EVENT_BOUND_BYTES})`,
  ].join('\n');
}
