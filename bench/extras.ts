/**
 * The figures beside the load runs: the SQLite footprint, the disk's flush latency (what bounds the durable
 * write rate) and a description of the machine.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { REPO_ROOT } from './coffer-build.js';
import { motoServerPath } from './peers.js';

export type SqliteFootprint = { fileBytes: number; auditFileBytes: number; secrets: number; versions: number; bytesPerVersion: number };

/**
 * Size of the database (with its WAL) over the secret versions it holds, and beside it the audit log's own
 * file (audit.db, one event per request served). Open it only when no server is running.
 */
export function sqliteFootprint(dataDir: string): SqliteFootprint {
  const path = join(dataDir, 'coffer.db');
  const size = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  const fileBytes = size(path) + size(`${path}-wal`);
  const auditPath = join(dataDir, 'audit.db');
  const auditFileBytes = size(auditPath) + size(`${auditPath}-wal`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const versions = db.prepare('SELECT count(*) FROM secret_versions').pluck().get() as number;
    const secrets = db.prepare('SELECT count(*) FROM secrets').pluck().get() as number;
    return { fileBytes, auditFileBytes, secrets, versions, bytesPerVersion: fileBytes / Math.max(versions, 1) };
  } finally {
    db.close();
  }
}

/** Median time of a 4 KiB write + fdatasync in `dir`: one synchronous SQLite commit waits at least this. */
export function flushLatencyMs(dir: string, samples = 200): number {
  const path = join(dir, 'flush-probe');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      writeSync(fd, block, 0, block.length, (i % 16) * block.length);
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return median(times);
}

export type Machine = {
  cores: number;
  /** CPUs this process may run on (its affinity): fewer than `cores` means the run was confined. */
  usableCores: number;
  cpuModel: string;
  kernel: string;
  node: string;
  moto: string;
  commit: string;
  /** Files under src/ that differ from the commit: the measured code is the working tree. */
  srcChanges: number;
  loadAverageAtStart: number[];
};

export function describeMachine(): Machine {
  return {
    cores: cpus().length,
    usableCores: availableParallelism(),
    cpuModel: /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown',
    kernel: release(),
    node: process.version,
    moto: motoVersion(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    srcChanges: git(['status', '--porcelain', 'src']).split('\n').filter(Boolean).length,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

function motoVersion(): string {
  try {
    const interpreter = readFileSync(motoServerPath(), 'utf8').split('\n', 1)[0]!.replace(/^#!\s*/, '').trim();
    return execFileSync(interpreter, ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function median(values: number[]): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const middle = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

/** The value after `flag` in argv (`--flag value`), undefined when absent. */
export function valueOf(argv: string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index === -1 ? undefined : argv[index + 1];
}

/** Every value given after a repeatable `flag`. */
export function valuesOf(argv: string[], flag: string): string[] {
  return argv.flatMap((arg, index) => (arg === flag ? [argv[index + 1]!] : []));
}

/** `LABEL=VALUE` as its two parts. */
export function splitSpec(spec: string): [string, string] {
  const at = spec.indexOf('=');
  if (at <= 0) throw new Error(`expected LABEL=VALUE: ${spec}`);
  return [spec.slice(0, at), spec.slice(at + 1)];
}
