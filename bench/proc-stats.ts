/**
 * Process accounting from /proc (Linux): CPU time and resident memory of a server process together with
 * every process it started (a cluster's workers count as the server too).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = readClockTicks();

/** User + system CPU time of `pid` and its live descendants, in microseconds. */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    const stat = readStat(member);
    if (stat) ticks += stat.utime + stat.stime;
  }
  return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** User + system CPU time of the single process `pid` (0 when it is gone), in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readStat(pid);
  return stat ? ((stat.utime + stat.stime) * 1e6) / CLOCK_TICKS_PER_SECOND : 0;
}

export type Memory = { rssBytes: number; peakRssBytes: number };

/** Resident set size (and its high-water mark) of `pid` and its live descendants. */
export function treeMemory(pid: number): Memory {
  let rssBytes = 0;
  let peakRssBytes = 0;
  for (const member of processTree(pid)) {
    const status = readStatus(member);
    rssBytes += (status.VmRSS ?? 0) * 1024;
    peakRssBytes += (status.VmHWM ?? 0) * 1024;
  }
  return { rssBytes, peakRssBytes };
}

function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const tree: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function readStat(pid: number): { ppid: number; utime: number; stime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // The command name (field 2) is in parentheses and may hold spaces; fields after it are space-separated.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]) };
}

function readStatus(pid: number): Record<string, number> {
  const values: Record<string, number> = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const match = /^(\w+):\s+(\d+)/.exec(line);
      if (match) values[match[1]!] = Number(match[2]);
    }
  } catch {
    // gone meanwhile
  }
  return values;
}

function readClockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Busy CPU time of the whole machine (all cores, everything but idle and iowait), in microseconds. */
export function systemBusyMicros(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1e6) / CLOCK_TICKS_PER_SECOND;
}
