/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and says where the time went: self time by function, by
 * file and by area (Coffer's modules, npm packages, Node internals, GC), and inclusive time of Coffer's own
 * functions (async functions are cut at each await, so their inclusive time is what runs before it). A window (in the profile's own clock: CLOCK_MONOTONIC microseconds, the clock of
 * process.hrtime) restricts it to the samples taken under load.
 */
import { readFileSync } from 'node:fs';

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

export type Entry = { name: string; where: string; micros: number };
export type ProfileSummary = {
  sampledMicros: number;
  busyMicros: number;
  gcMicros: number;
  selfByFunction: Entry[];
  selfByFile: Entry[];
  selfByArea: Entry[];
  /** Inclusive time of functions in Coffer's own files (dist/). */
  inclusiveCoffer: Entry[];
};

const IDLE = '(idle)';

export function summarizeProfile(path: string, window?: { fromMicros: number; toMicros: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  const selfByFunction = new Map<string, Entry>();
  const selfByFile = new Map<string, Entry>();
  const selfByArea = new Map<string, Entry>();
  const inclusive = new Map<string, Entry>();
  let sampledMicros = 0;
  let busyMicros = 0;
  let gcMicros = 0;

  // Sample i is taken at startTime + sum(timeDeltas[0..i]); its weight is the time until the next sample.
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    const weight = profile.timeDeltas[i + 1] ?? 0;
    if (window && (time < window.fromMicros || time > window.toMicros)) continue;
    const node = nodes.get(profile.samples[i]!)!;
    sampledMicros += weight;
    const frame = node.callFrame;
    if (frame.functionName === IDLE) continue;
    busyMicros += weight;
    if (frame.functionName === '(garbage collector)') gcMicros += weight;
    add(selfByFunction, functionKey(frame), functionName(frame), where(frame), weight);
    add(selfByFile, shortUrl(frame.url) || '(native)', shortUrl(frame.url) || '(native)', '', weight);
    add(selfByArea, area(frame), area(frame), '', weight);
    // Inclusive: every distinct Coffer function on the stack, once per sample.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
      const stackFrame = nodes.get(id)!.callFrame;
      if (!isCoffer(stackFrame.url)) continue;
      const key = functionKey(stackFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, functionName(stackFrame), where(stackFrame), weight);
    }
  }
  const sorted = (map: Map<string, Entry>) => [...map.values()].sort((a, b) => b.micros - a.micros);
  return {
    sampledMicros,
    busyMicros,
    gcMicros,
    selfByFunction: sorted(selfByFunction),
    selfByFile: sorted(selfByFile),
    selfByArea: sorted(selfByArea),
    inclusiveCoffer: sorted(inclusive),
  };
}

/** The summary as text; with `requests`, every entry also in microseconds per request. */
export function renderProfile(summary: ProfileSummary, options: { top?: number; requests?: number } = {}): string {
  const top = options.top ?? 15;
  const perRequest = (micros: number) => (options.requests ? `${(micros / options.requests).toFixed(1).padStart(7)} µs/req` : '');
  const share = (micros: number) => `${((100 * micros) / Math.max(summary.busyMicros, 1)).toFixed(1).padStart(5)} %`;
  const table = (title: string, entries: Entry[]) => [
    title,
    ...entries.slice(0, top).map((entry) => `  ${share(entry.micros)} ${perRequest(entry.micros)}  ${entry.name}${entry.where ? `  ${entry.where}` : ''}`),
    '',
  ];
  const lines = [
    `sampled ${(summary.sampledMicros / 1e3).toFixed(0)} ms, busy ${(summary.busyMicros / 1e3).toFixed(0)} ms ` +
      `(${((100 * summary.busyMicros) / Math.max(summary.sampledMicros, 1)).toFixed(0)} % of the window), GC ${share(summary.gcMicros).trim()} of busy` +
      (options.requests ? `; ${options.requests} requests → ${(summary.busyMicros / options.requests).toFixed(1)} µs busy per request` : ''),
    '',
    ...table(`Top ${top} by self time (share of busy time${options.requests ? ', per request' : ''}):`, summary.selfByFunction),
    ...table('By area:', summary.selfByArea),
    ...table('By file:', summary.selfByFile),
    ...table(`Coffer's functions by inclusive time:`, summary.inclusiveCoffer),
  ];
  return lines.join('\n');
}

function add(map: Map<string, Entry>, key: string, name: string, location: string, micros: number): void {
  const entry = map.get(key);
  if (entry) entry.micros += micros;
  else map.set(key, { name, where: location, micros });
}

function functionKey(frame: CallFrame): string {
  return `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}`;
}

function functionName(frame: CallFrame): string {
  return frame.functionName || '(anonymous)';
}

function where(frame: CallFrame): string {
  const url = shortUrl(frame.url);
  return url ? `${url}:${frame.lineNumber + 1}` : '';
}

/** node:internal/..., the npm package path, or the path of Coffer's own files under the build (store/...). */
function shortUrl(url: string): string {
  if (!url) return '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + '/node_modules/'.length);
  const build = cofferBuildPrefix(url);
  if (build !== -1) return url.slice(build);
  return url.replace(/^file:\/\//, '');
}

/** Coffer's compiled files live under dist/ or the bench's snapshot of it, bench/dist/coffer-build/. */
function cofferBuildPrefix(url: string): number {
  if (url.includes('/node_modules/')) return -1;
  const snapshot = url.indexOf('/coffer-build/');
  if (snapshot !== -1) return snapshot + '/coffer-build/'.length;
  if (url.includes('/bench/dist/')) return -1;
  const dist = url.indexOf('/dist/');
  return dist === -1 ? -1 : dist + '/dist/'.length;
}

function isCoffer(url: string): boolean {
  return cofferBuildPrefix(url) !== -1;
}

function area(frame: CallFrame): string {
  const { url, functionName: name } = frame;
  if (!url) return name.startsWith('(') ? name : '(native: V8 builtins, C++ bindings)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return `npm ${parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node ${parts[0] === 'internal' ? `internal/${parts[1] ?? ''}` : parts[0]}`.replace(/\.js$/, '');
  }
  if (isCoffer(url)) return `coffer ${url.slice(cofferBuildPrefix(url)).split('/')[0]}`;
  return url;
}
