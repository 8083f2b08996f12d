// Issue 21: the audit writer thread's batches in a running server, for one build of Coffer.
//   node bench/audit-writer-batches.mjs --dist DIR --out OUT     makes OUT/dist, a copy of the build whose writer thread
//                                                                 (dist/bundle/audit-writer.js) logs its batches
//   node bench/dist/audit-threads.js --base OUT/dist ...          runs a server of that copy under load (or any bench)
//   node bench/audit-writer-batches.mjs --summary OUT             the medians of what it logged
// Every ~2 s of appends the copy's writer thread appends one JSON line to OUT/writer-batches.jsonl: batches, events,
// batches of a single event, its thread's CPU (process.threadCpuUsage) inside the appends (user, system), and its
// whole CPU, per batch; the CPU inside the append of a single event and of a larger batch (with their mean size).
// What is outside the append (the thread's whole CPU less the appends') is the hand-off: wake-up, the message, the reply.
// The copy is patched as text: a build whose writer has no `const sealed = append(request.rows);` is refused.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { takeOption } from './script-options.mjs';

const args = process.argv.slice(2);
const summaryOf = takeOption(args, '--summary', undefined);
if (summaryOf) summary(resolve(summaryOf));
else instrument(resolve(takeOption(args, '--dist', 'dist')), resolve(takeOption(args, '--out', '/tmp/coffer-writer-batches')));

function instrument(dist, out) {
  const log = join(out, 'writer-batches.jsonl');
  rmSync(join(out, 'dist'), { recursive: true, force: true });
  cpSync(dist, join(out, 'dist'), { recursive: true });
  // The bundle is the server's writer thread (bin/coffer); the unbundled module is the one an in-process bench's
  // openCoffer() starts (bench/dist/skeleton-in-process.js --build OUT/dist, ab-in-process.js).
  for (const file of ['dist/bundle/audit-writer.js', 'dist/store/sqlite/audit-writer.js']) {
    const writer = join(out, file);
    const anchor = 'const sealed = append(request.rows);';
    const text = readFileSync(writer, 'utf8');
    if (text.split(anchor).length !== 2) throw new Error(`${writer} has no single "${anchor}": this build's writer is not one this script knows`);
    const counted = `const batchCpu0 = process.threadCpuUsage();
        ${anchor}
        (${countBatch.toString()})(request.rows.length, process.threadCpuUsage(batchCpu0), ${JSON.stringify(log)}, globalThis);`;
    writeFileSync(writer, text.replace(anchor, counted));
  }
  rmSync(log, { force: true });
  console.log(`instrumented copy: ${join(out, 'dist')}; its writer logs to ${log}`);
}

/** Runs in the writer thread after each append (its text is pasted into the copy: no outside names). */
function countBatch(events, cpu, log, global) {
  const used = cpu.user + cpu.system;
  const s = (global.writerBatches ??= { since: Date.now(), start: process.threadCpuUsage(), batches: 0, events: 0, singles: 0, user: 0, system: 0, singleCpu: 0, otherCpu: 0, otherEvents: 0 });
  s.batches += 1;
  s.events += events;
  s.user += cpu.user;
  s.system += cpu.system;
  if (events === 1) (s.singles += 1), (s.singleCpu += used);
  else (s.otherCpu += used), (s.otherEvents += events);
  if (Date.now() - s.since < 2000) return;
  const thread = process.threadCpuUsage(s.start);
  const others = s.batches - s.singles;
  const line = {
    batches: s.batches, events: s.events, singles: s.singles,
    appendUserPerBatch: s.user / s.batches, appendSystemPerBatch: s.system / s.batches,
    threadPerBatch: (thread.user + thread.system) / s.batches,
    singleAppendCpu: s.singles ? s.singleCpu / s.singles : null,
    otherBatchMeanEvents: others ? s.otherEvents / others : null, otherAppendCpuPerBatch: others ? s.otherCpu / others : null,
  };
  process.getBuiltinModule('node:fs').appendFileSync(log, `${JSON.stringify(line)}\n`);
  global.writerBatches = undefined;
}

function summary(out) {
  const log = join(out, 'writer-batches.jsonl');
  if (!existsSync(log)) throw new Error(`${log} is missing: run a server of ${join(out, 'dist')} first`);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const median = (list) => {
    const sorted = list.filter((value) => value !== null).sort((a, b) => a - b);
    return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
  };
  const of = (key) => median(lines.map((line) => line[key]));
  const batches = lines.reduce((sum, line) => sum + line.batches, 0);
  const events = lines.reduce((sum, line) => sum + line.events, 0);
  const singles = lines.reduce((sum, line) => sum + line.singles, 0);
  const outside = median(lines.map((line) => line.threadPerBatch - line.appendUserPerBatch - line.appendSystemPerBatch));
  console.log(`${lines.length} intervals of ~2 s: ${batches} batches, ${events} events (mean ${(events / batches).toFixed(1)}), ${singles} of a single event (${((100 * singles) / batches).toFixed(0)} %)`);
  console.log('µs of the writer thread\'s CPU (medians of the intervals):');
  console.log(`  per batch: whole thread ${of('threadPerBatch').toFixed(0)}, inside the append ${(of('appendUserPerBatch') + of('appendSystemPerBatch')).toFixed(0)} (system ${of('appendSystemPerBatch').toFixed(0)}), outside it ${outside.toFixed(0)}`);
  console.log(`  the append of a single event ${of('singleAppendCpu').toFixed(0)}; of a larger batch ${of('otherAppendCpuPerBatch').toFixed(0)} (mean ${of('otherBatchMeanEvents').toFixed(1)} events)`);
  console.log(`  the singles' share per event: ${(((of('singleAppendCpu') + outside) * singles) / events).toFixed(2)} µs (their appends and hand-offs over all events)`);
}
