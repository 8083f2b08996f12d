import type { AuditRow } from './audit.js';

const BUCKETS = 24;
const WIDTH = 600;
const HEIGHT = 120;

/**
 * Calls over time of the events on screen: BUCKETS columns from the oldest to the newest, each split into
 * succeeded and refused/failed calls. Plain SVG with classes (no inline style: the CSP forbids it).
 */
export function CallsChart({ rows }: { rows: AuditRow[] }) {
  if (rows.length === 0) return null;
  const times = rows.map((row) => row.time.getTime());
  const oldest = Math.min(...times);
  const newest = Math.max(...times);
  const span = Math.max(newest - oldest, 1);
  const buckets = Array.from({ length: BUCKETS }, () => ({ ok: 0, failed: 0 }));
  for (const row of rows) {
    const index = Math.min(BUCKETS - 1, Math.floor(((row.time.getTime() - oldest) / span) * BUCKETS));
    buckets[index]![row.errorCode ? 'failed' : 'ok'] += 1;
  }
  const highest = Math.max(...buckets.map((bucket) => bucket.ok + bucket.failed), 1);
  const barWidth = WIDTH / BUCKETS;
  const scale = (count: number) => (count / highest) * (HEIGHT - 4);
  const failures = rows.filter((row) => row.errorCode).length;
  return (
    <figure class="calls-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={`Calls over time: ${rows.length} calls, ${failures} refused or failed`} id="calls-chart">
        {buckets.map((bucket, index) => {
          const okHeight = scale(bucket.ok);
          const failedHeight = scale(bucket.failed);
          return (
            <g key={index}>
              <rect class="bar-ok" x={index * barWidth + 1} width={barWidth - 2} y={HEIGHT - okHeight} height={okHeight} />
              <rect class="bar-failed" x={index * barWidth + 1} width={barWidth - 2} y={HEIGHT - okHeight - failedHeight} height={failedHeight} />
            </g>
          );
        })}
      </svg>
      <figcaption>
        {rows.length} calls from {new Date(oldest).toISOString().slice(0, 19)}Z to {new Date(newest).toISOString().slice(0, 19)}Z; <span class="failed">{failures} refused or failed</span>
      </figcaption>
    </figure>
  );
}
