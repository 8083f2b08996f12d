/**
 * The PostgreSQL side of the PostgreSQL suite: a fresh database on the machine's server (127.0.0.1:5432, user
 * postgres, trust authentication, as the tests use it), the server's settings that bound the write rate, and
 * the CPU spent by the server's backends serving that database (read from /proc: the server runs on the same
 * two cores as everything else).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import postgres from 'postgres';
import { processCpuMicros } from './proc-stats.js';

const SERVER = 'postgres://postgres@127.0.0.1:5432';

export type DatabaseSettings = Record<string, string>;

/** Settings of the server that shape the figures (durability of a commit, connection limit, memory). */
const REPORTED_SETTINGS = ['server_version', 'max_connections', 'synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay', 'shared_buffers', 'default_transaction_isolation'];

export type BenchDatabase = {
  name: string;
  url: string;
  settings: DatabaseSettings;
  /** CPU microseconds so far of each server backend connected to this database, by pid. */
  backendCpu(): Promise<Map<number, number>>;
  /** Connections open to the whole server now (every database), beside its max_connections. */
  serverConnections(): Promise<number>;
  /**
   * Where the server's log ends now, to count what a run logs after it (serializationFailuresSince); undefined
   * when the log cannot be read (not root, another layout).
   */
  logPosition(): number | undefined;
  /** Serialization failures (SQLSTATE 40001, each one a transaction run again) this database logged after `position`. */
  serializationFailuresSince(position: number | undefined): number | undefined;
  /**
   * ANALYZE of the whole database, after seeding: the statistics autovacuum would have gathered within a minute of
   * the seeding on a server where it runs. This machine's server runs with autovacuum off, and without statistics a
   * prepared statement's generic plan picked the wrong index for a secret read by name (secrets_by_last_accessed,
   * every secret of the account filtered: ≈ 1.6 ms of PostgreSQL's CPU per read that misses the node's cache).
   */
  analyze(): Promise<void>;
  /** Drops the database (ending any connection still open to it) and closes the admin connection. */
  drop(): Promise<void>;
};

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const admin = postgres(`${SERVER}/postgres`, { max: 1, onnotice: () => undefined });
  const name = `coffer_bench_${randomBytes(4).toString('hex')}`;
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end({ timeout: 5 });
    throw error;
  }
  const rows = await admin.unsafe('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])', [REPORTED_SETTINGS]);
  const settings: DatabaseSettings = {};
  for (const row of rows) settings[row.name] = row.unit ? `${row.setting} × ${row.unit}` : row.setting;
  return {
    name,
    url: `${SERVER}/${name}`,
    settings,
    async backendCpu() {
      const pids = await admin.unsafe('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name]);
      return new Map(pids.map((row) => [Number(row.pid), processCpuMicros(Number(row.pid))]));
    },
    logPosition() {
      try {
        return statSync(serverLog(settings)).size;
      } catch {
        return undefined;
      }
    },
    serializationFailuresSince(position) {
      if (position === undefined) return undefined;
      try {
        const text = readFrom(serverLog(settings), position);
        const marker = `@${name} ERROR:  could not serialize access`;
        let count = 0;
        for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) count += 1;
        return count;
      } catch {
        return undefined;
      }
    },
    async serverConnections() {
      const [row] = await admin.unsafe('SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = $1', ['client backend']);
      return Number(row?.n ?? 0);
    },
    async analyze() {
      const sql = postgres(`${SERVER}/${name}`, { max: 1, onnotice: () => undefined });
      try {
        await sql.unsafe('ANALYZE');
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
    async drop() {
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}

/**
 * The server's log: Debian's layout (stderr of the cluster to /var/log/postgresql/postgresql-<major>-main.log,
 * every ERROR logged with its statement), or PGLOG.
 */
function serverLog(settings: DatabaseSettings): string {
  return process.env.PGLOG ?? `/var/log/postgresql/postgresql-${settings.server_version?.split('.')[0] ?? '15'}-main.log`;
}

function readFrom(path: string, position: number): string {
  const fd = openSync(path, 'r');
  try {
    const length = Math.max(0, statSync(path).size - position);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** CPU spent between two readings of backendCpu(): backends that appeared meanwhile count from zero. */
export function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let micros = 0;
  for (const [pid, now] of after) micros += Math.max(0, now - (before.get(pid) ?? 0));
  return micros;
}
