/**
 * Where a request's server CPU goes, thread by thread, same-run A/B of two builds (issue 21, the audit event's
 * cost): `node bench/dist/audit-threads.js --base DIR/dist [--candidate DIR/dist] [--rounds N] [--duration S]
 * [--workloads get-hot,kms-decrypt] [--secrets N]`. As ab-run (one seeded data dir, base then candidate in each
 * round, server pinned to CPU 0, load to CPU 1, 64 connections), but the server's CPU is read per thread from
 * /proc/<pid>/task/<tid>/stat around each measured run: the request thread (tid = pid), the audit writer
 * (the thread named after the worker), V8's helper threads (GC) and the rest, µs per answered request. The writer's
 * figure is what a change to the audit hand-off or its batches moves; the request thread's swings with the machine.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cofferNodeFlags, removeSnapshot, snapshotBuild, snapshotCompareBuild } from './coffer-build.js';
import { prepareFixture } from './fixtures.js';
import { runLoad } from './load.js';
import { log } from './log.js';
import { DEV_KEY, killAllPeers, LOAD_CPUS, pinSelf, SERVER_CPUS, startCoffer } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';
import { WORKLOADS } from './workloads.js';

const TICKS_PER_SECOND = 100;
const PARTS = ['request thread', 'audit writer', 'V8 helpers', 'other threads', 'all threads'] as const;
type Part = (typeof PARTS)[number];

/** CPU ticks of each thread of `pid`, by part. */
function threadTicks(pid: number): Record<Part, number> {
  const ticks: Record<Part, number> = { 'request thread': 0, 'audit writer': 0, 'V8 helpers': 0, 'other threads': 0, 'all threads': 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const used = Number(fields[11]) + Number(fields[12]);
    const part: Part = Number(tid) === pid ? 'request thread' : /^V8|DelayedTask/.test(name) ? 'V8 helpers' : name === 'WorkerThread' ? 'audit writer' : 'other threads';
    ticks[part] += used;
    ticks['all threads'] += used;
  }
  return ticks;
}

function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const options = { base: '', candidate: '', rounds: 3, durationSeconds: 5, workloads: ['get-hot', 'kms-decrypt'], secrets: 2000 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--base') options.base = resolve(value());
    else if (argv[i] === '--candidate') options.candidate = resolve(value());
    else if (argv[i] === '--rounds') options.rounds = Number(value());
    else if (argv[i] === '--duration') options.durationSeconds = Number(value());
    else if (argv[i] === '--workloads') options.workloads = value().split(',');
    else if (argv[i] === '--secrets') options.secrets = Number(value());
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.base) throw new Error('usage: node bench/dist/audit-threads.js --base DIR/dist [--candidate DIR/dist] [--rounds N] [--duration S] [--workloads a,b]');
  options.candidate ||= resolve(new URL('../../dist', import.meta.url).pathname);
  pinSelf(LOAD_CPUS);
  const signer = new Signer(DEV_KEY);
  snapshotBuild(options.candidate);
  const builds = { base: snapshotCompareBuild('base', options.base), candidate: snapshotCompareBuild('candidate', options.candidate) };
  const flagsOf = (dist: string) => {
    const bin = join(dirname(dist), 'bin/coffer');
    return existsSync(bin) ? cofferNodeFlags(bin) : cofferNodeFlags();
  };
  const disk = mkdtempSync(join(tmpdir(), 'coffer-threads-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-threads-') : join(disk, 'scratch');
  const cells: Array<{ build: string; workload: string; perRequest: Record<Part, number> }> = [];
  try {
    const seeded = join(disk, 'seeded');
    const { keyId } = await seedCoffer(seeded, join(scratch, 'seed'), options.secrets, signer);
    for (let round = 1; round <= options.rounds; round++) {
      for (const [build, main] of Object.entries(builds)) {
        const dataDir = join(disk, `data-${build}-${round}`);
        cpSync(seeded, dataDir, { recursive: true });
        const dist = build === 'base' ? options.base : options.candidate;
        const coffer = await startCoffer({ dataDir, cpus: SERVER_CPUS, main, nodeFlags: flagsOf(dist) });
        try {
          const fixture = await prepareFixture(coffer, signer, { corpusSize: options.secrets, randomSetSize: options.secrets, keyId, listPages: 1 });
          if (round === 1) log(`${build} threads: ${threadNames(coffer.pid).join(', ')}`);
          for (const id of options.workloads) {
            const workload = WORKLOADS.find((w) => w.id === id);
            if (!workload) throw new Error(`unknown workload ${id}`);
            await runLoad(coffer, workload.source(coffer.host, signer, fixture), { connections: 64, durationSeconds: 1, timeoutSeconds: 60 });
            const before = threadTicks(coffer.pid);
            const m = await runLoad(coffer, workload.source(coffer.host, signer, fixture), { connections: 64, durationSeconds: options.durationSeconds, timeoutSeconds: 10 });
            const after = threadTicks(coffer.pid);
            const answered = m.requestsPerSecond * m.seconds;
            const perRequest = Object.fromEntries(PARTS.map((part) => [part, ((after[part] - before[part]) * 1e6) / TICKS_PER_SECOND / answered])) as Record<Part, number>;
            cells.push({ build, workload: id, perRequest });
            // The WAL's size says whether checkpoints reset it (SQLite's default: ~4 MB, written again from its start).
            const walBytes = existsSync(join(dataDir, 'audit.db-wal')) ? statSync(join(dataDir, 'audit.db-wal')).size : 0;
            log(`round ${round} ${build} ${id}: ${Math.round(m.requestsPerSecond)} req/s, p99 ${m.p99Ms.toFixed(1)} ms, others ${m.otherCores.toFixed(2)} cores, audit.db-wal ${(walBytes / 1e6).toFixed(1)} MB; µs/req ${PARTS.map((part) => `${part} ${perRequest[part].toFixed(1)}`).join(', ')}`);
          }
        } finally {
          await coffer.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    killAllPeers();
    for (const dir of [disk, scratch]) rmSync(dir, { recursive: true, force: true });
    removeSnapshot();
  }
  const lines = ['| workload | thread | base µs/req (median) | candidate µs/req (median) | candidate/base | rounds (base; candidate) |', '|---|---|---:|---:|---:|---|'];
  for (const workload of options.workloads) {
    for (const part of PARTS) {
      const of = (build: string) => cells.filter((cell) => cell.workload === workload && cell.build === build).map((cell) => cell.perRequest[part]);
      const [base, candidate] = [of('base'), of('candidate')];
      lines.push(`| ${workload} | ${part} | ${median(base).toFixed(1)} | ${median(candidate).toFixed(1)} | ${(median(candidate) / median(base)).toFixed(3)} | ${base.map((v) => v.toFixed(1)).join(', ')}; ${candidate.map((v) => v.toFixed(1)).join(', ')} |`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error) => {
  killAllPeers();
  process.stderr.write(`audit-threads failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
