/**
 * Loaded into a measured server with `node --import bench/dist/tail-preload.js` (bench/tail-probe.ts does it):
 * writes to $TAIL_PROBE_OUT, one line each, every garbage collection of every thread (its kind, start as epoch
 * ms, pause in ms) and, every 250 ms, each thread's V8 heap (committed and used MB: the audit writer's isolate is
 * not in /metrics) and the main thread's event-loop delay (p50, p99, max) and utilisation. The
 * probe lines these up with each request's start and end to see what a slow request overlapped.
 * Diagnosis only: it costs the server a little CPU (an observer callback per collection, a file append per 250 ms).
 */
import { appendFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const out = process.env.TAIL_PROBE_OUT;
const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

/** The process's memory outside V8's heap that V8 is told about (Buffers' and other ArrayBuffers' bytes). */
function external(): string {
  const usage = process.memoryUsage();
  return ` external ${(usage.external / 1048576).toFixed(1)} arrayBuffers ${(usage.arrayBuffers / 1048576).toFixed(1)}`;
}

if (out) {
  const lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) appendFileSync(out, lines.join('\n') + '\n');
    lines.length = 0;
  };
  const thread = isMainThread ? 'main' : `worker${threadId}`;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[((entry as { detail?: unknown }).detail as { kind: number }).kind] ?? 'other';
      lines.push(`gc ${thread} ${kind} ${(performance.timeOrigin + entry.startTime).toFixed(3)} ${entry.duration.toFixed(3)}`);
    }
  }).observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let utilisation = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, utilisation);
    utilisation = now;
    if (isMainThread) {
      const ms = (ns: number) => (ns / 1e6).toFixed(2);
      lines.push(`loop ${thread} ${(performance.timeOrigin + performance.now()).toFixed(3)} ${ms(delay.percentile(50))} ${ms(delay.percentile(99))} ${ms(delay.max)} ${window.utilization.toFixed(3)}`);
    }
    delay.reset();
    const heap = getHeapStatistics();
    // Old and large-object space used: what the main thread allocates there directly counts against the limit.
    const used = (name: string) => ((getHeapSpaceStatistics().find((space) => space.space_name === name)?.space_used_size ?? 0) / 1048576).toFixed(1);
    lines.push(`heap ${thread} ${(performance.timeOrigin + performance.now()).toFixed(3)} ${(heap.total_heap_size / 1048576).toFixed(1)} ${(heap.used_heap_size / 1048576).toFixed(1)} old ${used('old_space')} lo ${used('large_object_space')}${isMainThread ? external() : ''}`);
    flush();
  }, 250).unref();
  process.once('exit', flush);
}
