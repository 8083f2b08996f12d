import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { asPostgres, postgresBin, postgresIds } from './databases.js';

/**
 * A PostgreSQL primary and a streaming, synchronous standby of it, each on its own loopback port, for
 * failover tests: stop the primary hard, promote the standby, and see what the clients of the multi-host
 * connection string do. Both servers run as the postgres OS user from one temp directory; the machine's
 * own cluster on 5432 is never touched.
 *
 * Host connections need the superuser's scram-sha-256 password; the standby replicates over the unix
 * socket in the temp directory (trust), through a replication slot, as application_name `standby1`, the
 * one name in the primary's synchronous_standby_names: a commit on the primary returns only once the
 * standby has flushed it, so every acknowledged write survives the loss of the primary.
 */

/** The two servers by the role they were created in (after a failover, 'standby' is the primary). */
export type ServerRole = 'primary' | 'standby';

export type FailoverCluster = {
  primaryPort: number;
  standbyPort: number;
  /** The superuser every connection string logs in as, and its password. */
  user: string;
  password: string;
  /**
   * `postgres://USER:PASS@127.0.0.1:P1,127.0.0.1:P2/DB?target_session_attrs=read-write`: the `postgres` npm
   * driver's multi-host form, which tries the hosts in order for one that takes the session.
   *
   * Beware: the `postgres` driver (4.2.0) judges `read-write` by default_transaction_read_only alone, which a
   * PostgreSQL ≥ 14 hot standby reports as off, so while the primary is down it connects to the standby
   * (whose transactions are read-only); `primary` checks in_hot_standby and never does
   * (https://github.com/hapostgres/pg_auto_failover/issues/970). PostgresStore tells the driver `primary`
   * when its URL says read-write.
   */
  connectionString(database: string, targetSessionAttrs?: 'read-write' | 'primary'): string;
  /** CREATE DATABASE on the primary (it reaches the standby through replication). */
  createDatabase(name: string): Promise<void>;
  /** Runs one statement on one server (default database `postgres`) and returns the rows. */
  query(server: ServerRole, sql: string, params?: unknown[], database?: string): Promise<Record<string, any>[]>;
  /**
   * Waits until the standby has replayed all the primary has written so far. A synchronous commit returns
   * once the standby has flushed it, not replayed it, so a read on the standby right after may not see it yet.
   */
  standbyReplayed(): Promise<void>;
  /** `pg_ctl stop -m immediate`: the primary dies as in a crash, without a shutdown checkpoint. */
  stopPrimaryHard(): Promise<void>;
  /**
   * Starts the stopped primary again on its port (crash recovery, no failover) and waits until the standby
   * is its synchronous standby again: a restart instead of a promotion.
   */
  startPrimary(): Promise<void>;
  /** `pg_ctl promote`, then waits until the standby accepts writes (pg_is_in_recovery() is false). */
  promoteStandby(): Promise<void>;
  /**
   * `kill -9` of the primary: SIGKILL to its postmaster and every process it started (stopped first with
   * SIGSTOP so that it forks no more meanwhile). Harder than stopPrimaryHard: no process gets a signal it
   * can answer.
   */
  killPrimary(): Promise<void>;
  /**
   * After promoteStandby: the dead primary's data directory is replaced by a pg_basebackup of the promoted
   * server, started on its old port as that server's synchronous standby. The roles swap: from then on
   * 'primary' in query(), stopPrimaryHard(), killPrimary() and promoteStandby() mean the promoted server, so
   * a test can fail over again and again. While this runs, the promoted server commits without a standby.
   */
  rebuildStandby(): Promise<void>;
  /** Stops the standby (fast shutdown): commits on the primary then wait for it. */
  stopStandby(): Promise<void>;
  /** Starts the standby again and waits until it is the primary's synchronous standby once more. */
  startStandby(): Promise<void>;
  /** Stops whatever still runs and removes the temp directory. Safe to call twice. */
  destroy(): Promise<void>;
};

const STANDBY_NAME = 'standby1';
const SUPERUSER = 'postgres';
/** Ports are drawn from 55432 … 60431, away from the machine's 5432 and from most fixed test ports. */
const PORT_BASE = 55432;
const PORT_SPREAD = 5000;
const WAIT_TIMEOUT_MS = 20_000;

/** Settings of the primary (the standby inherits them through pg_basebackup, and overrides one). */
const PRIMARY_SETTINGS = `
# --- coffer failover test harness
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
synchronous_standby_names = '${STANDBY_NAME}'
synchronous_commit = on
hot_standby = on
shared_buffers = 16MB
password_encryption = 'scram-sha-256'
`;

/**
 * The standby, once promoted, is a primary without a standby of its own: were it to keep
 * synchronous_standby_names, every commit after the failover would wait forever. When the primary restarts
 * instead, the standby reconnects within 200 ms rather than the default 5 s, in which the primary's commits
 * wait for it.
 */
const STANDBY_SETTINGS = `
# --- coffer failover test harness: no synchronous standby after promotion; quick to reconnect
synchronous_standby_names = ''
wal_retrieve_retry_interval = 200ms
`;

/** One PostgreSQL server: its data directory, port and whether this harness has it running. */
type LocalServer = { name: ServerRole; dataDir: string; logFile: string; port: number; running: boolean };

/**
 * Servers still running, so that a test process that exits without destroy() (a crash, a forgotten after())
 * does not leave PostgreSQL processes behind.
 */
const live = new Set<{ servers: LocalServer[]; root: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const cluster of live) {
      for (const server of cluster.servers.filter((candidate) => candidate.running)) stopNowSync(server);
      rmSync(cluster.root, { recursive: true, force: true });
    }
  });
}

/** An 'exit' listener cannot wait for a promise: pg_ctl stop -m immediate, synchronously. */
function stopNowSync(server: LocalServer): void {
  try {
    const stop = [postgresBin('pg_ctl'), '-D', server.dataDir, '-m', 'immediate', '-w', 'stop'];
    execFileSync('runuser', ['-u', 'postgres', '--', ...stop], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    // already gone
  }
}

/**
 * initdb a primary, pg_basebackup a standby from it, start both on free ports and wait until the standby
 * is the primary's synchronous standby. Takes a few seconds. On failure nothing is left behind.
 */
export async function createFailoverCluster(options: { ports?: { base: number; spread: number } } = {}): Promise<FailoverCluster> {
  const ports = options.ports ?? { base: PORT_BASE, spread: PORT_SPREAD };
  installExitHook();
  const { uid, gid } = await postgresIds();
  const root = mkdtempSync(join(tmpdir(), 'coffer-pgfailover-'));
  chownSync(root, uid, gid);
  chmodSync(root, 0o700);
  const socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  chownSync(socketDir, uid, gid);
  const password = randomBytes(16).toString('hex');
  const primary: LocalServer = { name: 'primary', dataDir: join(root, 'primary'), logFile: join(root, 'primary.log'), port: 0, running: false };
  const standby: LocalServer = { name: 'standby', dataDir: join(root, 'standby'), logFile: join(root, 'standby.log'), port: 0, running: false };
  const entry = { servers: [primary, standby], root };
  /** The servers by the role they have now (rebuildStandby swaps them). */
  const now = { primary, standby };
  live.add(entry);

  const destroy = async () => {
    if (!live.has(entry)) return;
    try {
      for (const server of [standby, primary]) await stopServer(server, 'immediate').catch(() => undefined);
    } finally {
      live.delete(entry);
      rmSync(root, { recursive: true, force: true });
    }
  };

  try {
    await initPrimary(primary, root, password, uid, gid);
    await startOnFreePort(primary, socketDir, new Set(), ports);
    await baseBackup(standby, primary, socketDir);
    appendFileSync(join(standby.dataDir, 'postgresql.conf'), STANDBY_SETTINGS);
    await startOnFreePort(standby, socketDir, new Set([primary.port]), ports);
    await waitForSyncStandby(primary, password);
  } catch (error) {
    await destroy();
    throw error;
  }

  async function standbyReplayed(): Promise<void> {
    const [written] = await adminQuery(now.primary, password, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await waitUntil(`the standby replayed the primary's WAL up to ${written!.lsn}`, async () => {
      const [replayed] = await adminQuery(now.standby, password, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [written!.lsn]);
      return replayed?.done === true;
    });
  }

  return {
    primaryPort: primary.port,
    standbyPort: standby.port,
    user: SUPERUSER,
    password,
    connectionString: (database, targetSessionAttrs = 'read-write') =>
      `postgres://${SUPERUSER}:${password}@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/${database}?target_session_attrs=${targetSessionAttrs}`,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await adminQuery(now.primary, password, `CREATE DATABASE ${name}`);
      // A synchronous commit waits for the standby's flush, not its replay: until the standby has replayed the
      // CREATE DATABASE, a client landing there (the multi-host URL while the primary is down) finds no such
      // database (3D000) instead of a read-only server.
      await standbyReplayed();
    },
    query: (server, sql, params = [], database = 'postgres') =>
      adminQuery(server === 'primary' ? now.primary : now.standby, password, sql, params, database),
    standbyReplayed,
    stopPrimaryHard: () => stopServer(now.primary, 'immediate'),
    async startPrimary() {
      await startServer(now.primary, socketDir);
      await waitForSyncStandby(now.primary, password);
    },
    async promoteStandby() {
      await asPostgres([postgresBin('pg_ctl'), '-D', now.standby.dataDir, '-w', '-t', '30', 'promote']);
      await waitUntil('the promoted standby accepts writes', async () => {
        const [row] = await adminQuery(now.standby, password, 'SELECT pg_is_in_recovery() AS recovering');
        return row?.recovering === false;
      });
    },
    killPrimary: () => killServer(now.primary),
    async rebuildStandby() {
      const [promoted, dead] = [now.standby, now.primary];
      if (dead.running) throw new Error('rebuildStandby: the old primary still runs (stop or kill it, and promote the standby, first)');
      // The promoted server must not wait for a standby while there is none, and its copy must not either once
      // it is promoted in turn: only postgresql.conf's '' (STANDBY_SETTINGS) until the new standby is in sync.
      await adminQuery(promoted, password, 'ALTER SYSTEM RESET synchronous_standby_names');
      await adminQuery(promoted, password, 'SELECT pg_reload_conf()');
      rmSync(dead.dataDir, { recursive: true, force: true });
      // The killed postmaster may still be a zombie its new parent has not reaped: PostgreSQL would take the PID in
      // its socket lock file for a live server and refuse to start. It is dead; its socket files go with it.
      for (const file of [`.s.PGSQL.${dead.port}`, `.s.PGSQL.${dead.port}.lock`]) rmSync(join(socketDir, file), { force: true });
      await baseBackup(dead, promoted, socketDir);
      appendFileSync(join(dead.dataDir, 'postgresql.conf'), STANDBY_SETTINGS);
      await startServer(dead, socketDir);
      await adminQuery(promoted, password, `ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`);
      await adminQuery(promoted, password, 'SELECT pg_reload_conf()');
      await waitForSyncStandby(promoted, password);
      now.primary = promoted;
      now.standby = dead;
    },
    stopStandby: () => stopServer(now.standby, 'fast'),
    async startStandby() {
      await startServer(now.standby, socketDir);
      await waitForSyncStandby(now.primary, password);
    },
    destroy,
  };
}

/** initdb with a scram-sha-256 superuser for host connections and trust on the unix socket. */
async function initPrimary(primary: LocalServer, root: string, password: string, uid: number, gid: number): Promise<void> {
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  try {
    await asPostgres([
      postgresBin('initdb'),
      '-D',
      primary.dataDir,
      '-U',
      SUPERUSER,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--no-sync',
    ]);
  } finally {
    rmSync(pwfile, { force: true });
  }
  appendFileSync(join(primary.dataDir, 'postgresql.conf'), PRIMARY_SETTINGS);
}

/**
 * pg_basebackup -R: copies the running primary and writes standby.signal and primary_conninfo (with
 * application_name=standby1 and the replication slot it creates, so the primary keeps the WAL a stopped
 * standby still needs).
 */
async function baseBackup(standby: LocalServer, primary: LocalServer, socketDir: string): Promise<void> {
  await asPostgres([
    postgresBin('pg_basebackup'),
    '-D',
    standby.dataDir,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
    '-C',
    '-S',
    STANDBY_NAME,
    '--no-sync',
    '-d',
    `host=${socketDir} port=${primary.port} user=${SUPERUSER} application_name=${STANDBY_NAME}`,
  ]);
  const autoConf = readFileSync(join(standby.dataDir, 'postgresql.auto.conf'), 'utf8');
  if (!autoConf.includes(`application_name=${STANDBY_NAME}`)) throw new Error(`pg_basebackup -R wrote no application_name:\n${autoConf}`);
}

/** Starts the server on a port that is free now; if another process takes it first, on another one. */
async function startOnFreePort(server: LocalServer, socketDir: string, taken: Set<number>, ports: { base: number; spread: number }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    server.port = await pickFreePort(taken, ports);
    try {
      await startServer(server, socketDir);
      return;
    } catch (error) {
      const lostPortRace = /could not bind|Address already in use/i.test(logTail(server));
      if (!lostPortRace || attempt >= 3) throw error;
      taken.add(server.port);
    }
  }
}

async function startServer(server: LocalServer, socketDir: string): Promise<void> {
  try {
    await asPostgres([
      postgresBin('pg_ctl'),
      '-D',
      server.dataDir,
      '-l',
      server.logFile,
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${server.port} -k ${socketDir}`,
      'start',
    ]);
  } catch (error) {
    throw new Error(`the ${server.name} did not start on port ${server.port}: ${(error as Error).message}\n--- log\n${logTail(server)}`);
  }
  server.running = true;
}

async function stopServer(server: LocalServer, mode: 'immediate' | 'fast'): Promise<void> {
  if (!server.running) return;
  await asPostgres([postgresBin('pg_ctl'), '-D', server.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
  server.running = false;
}

/** A random port in base … base + spread - 1 (default 55432 … 60431) that nothing listens on right now. */
async function pickFreePort(taken: Set<number>, { base, spread }: { base: number; spread: number }): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = base + randomInt(spread);
    if (!taken.has(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port in ${base} … ${base + spread - 1} after 50 tries`);
}

/** SIGSTOP the postmaster (no more forks), SIGKILL each of its children, then it; waits until all are gone. */
async function killServer(server: LocalServer): Promise<void> {
  if (!server.running) return;
  const postmaster = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(postmaster, 'SIGSTOP');
  const victims = [...childrenOf(postmaster), postmaster];
  for (const pid of victims) signal(pid, 'SIGKILL');
  server.running = false;
  await waitUntil(`the killed ${server.name}'s processes are gone`, async () => victims.every((pid) => !existsSync(`/proc/${pid}`) || isZombie(pid)));
}

function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command name (which is in parentheses and may contain anything): state, ppid, ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function waitForSyncStandby(primary: LocalServer, password: string): Promise<void> {
  await waitUntil(`${STANDBY_NAME} is the primary's synchronous standby`, async () => {
    const rows = await adminQuery(primary, password, 'SELECT sync_state FROM pg_stat_replication WHERE application_name = $1', [STANDBY_NAME]);
    return rows[0]?.sync_state === 'sync';
  });
}

async function adminQuery(server: LocalServer, password: string, sql: string, params: unknown[] = [], database = 'postgres') {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: SUPERUSER, password, database, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined); // a server stopped under an open client must not end the test process
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls `check` every 50 ms; a check that throws counts as not yet (the server may still be starting). */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${WAIT_TIMEOUT_MS} ms waiting until ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await sleep(50);
  }
}

/** The end of a server's log, for error messages. */
function logTail(server: LocalServer): string {
  if (!existsSync(server.logFile)) return '(no log)';
  return readFileSync(server.logFile, 'utf8').split('\n').slice(-20).join('\n');
}
