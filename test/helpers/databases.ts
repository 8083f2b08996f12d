import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';

/**
 * Real databases for the rotation tests: a throwaway PostgreSQL cluster with scram-sha-256 authentication
 * (the machine's PostgreSQL trusts every local connection, so an old password would still "work" there), the
 * machine's MariaDB on 127.0.0.1:3306, login probes, and TCP helpers that make a database unreachable and
 * reachable again.
 */

const run = promisify(execFile);

/** Random lower-case letters and digits, for user and database names no other test uses. */
export function randomName(prefix: string, bytes = 4): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// ---------------------------------------------------------------------------------------------- PostgreSQL

export type Credentials = { host: string; port: number; user: string; password: string; database?: string };

export type ScramPostgres = {
  host: string;
  port: number;
  superuser: string;
  superPassword: string;
  /** Runs one statement as the superuser. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
  start(): Promise<void>;
  cleanup(): Promise<void>;
};

/** A tool of the newest PostgreSQL installed under /usr/lib/postgresql (initdb, pg_ctl, pg_basebackup...). */
export function postgresBin(tool: string): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin/${tool}`;
}

/** Runs a command as the postgres OS user (the server refuses to run as root). */
export async function asPostgres(args: string[]): Promise<void> {
  await run('runuser', ['-u', 'postgres', '--', ...args], { timeout: 60_000 });
}

/** The postgres OS user's uid and gid, to hand it the directories its servers run in. */
export async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

/**
 * initdb + pg_ctl start, as the postgres OS user, in a temp dir, on a free loopback port; host connections
 * need a scram-sha-256 password, so a wrong or old password fails as on a real server.
 */
export async function startScramPostgres(): Promise<ScramPostgres> {
  const { uid, gid } = await postgresIds();
  const root = mkdtempSync(join(tmpdir(), 'coffer-pg-'));
  chownSync(root, uid, gid);
  chmodSync(root, 0o700);
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  chownSync(socketDir, uid, gid);
  const superPassword = randomBytes(12).toString('hex');
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, superPassword + '\n', { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  await asPostgres([
    postgresBin('initdb'),
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth-host=scram-sha-256',
    '--auth-local=trust',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  rmSync(pwfile);
  const port = await freePort();
  const ctl = (action: 'start' | 'stop') =>
    action === 'start'
      ? asPostgres([
          postgresBin('pg_ctl'),
          '-D',
          dataDir,
          '-l',
          join(root, 'postgres.log'),
          '-w',
          '-o',
          `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off -c password_encryption=scram-sha-256`,
          'start',
        ])
      : asPostgres([postgresBin('pg_ctl'), '-D', dataDir, '-m', 'fast', '-w', 'stop']);
  let running = false;
  const cluster: ScramPostgres = {
    host: '127.0.0.1',
    port,
    superuser: 'postgres',
    superPassword,
    async query(sql, params) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'postgres' });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    async start() {
      if (running) return;
      await ctl('start');
      running = true;
    },
    async stop() {
      if (!running) return;
      await ctl('stop');
      running = false;
    },
    async cleanup() {
      try {
        await cluster.stop();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}

/** True when the credentials log in; false when PostgreSQL refuses them; throws on anything else. */
export async function postgresLogsIn(credentials: Credentials): Promise<boolean> {
  const client = new pg.Client({ ...credentials, database: credentials.database ?? 'postgres', connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (error instanceof pg.DatabaseError && (error.code === '28P01' || error.code === '28000')) return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one query as the given user and returns the rows. */
export async function postgresQuery(credentials: Credentials, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ ...credentials, database: credentials.database ?? 'postgres', connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

// ------------------------------------------------------------------------------------------------- MariaDB

export const MARIADB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

/** A connection to the machine's MariaDB as root (empty password over TCP). */
export function mariadbRoot(): Promise<mysql.Connection> {
  return mysql.createConnection({ ...MARIADB, connectTimeout: 5_000 });
}

/** True when the credentials log in; false when MariaDB refuses them (access denied); throws on anything else. */
export async function mysqlLogsIn(credentials: Credentials): Promise<boolean> {
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection({ ...credentials, connectTimeout: 5_000 });
    await connection.query('SELECT 1');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR') return false;
    throw error;
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

/** Runs one query as the given user and returns the rows. */
export async function mysqlQuery(credentials: Credentials, sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const connection = await mysql.createConnection({ ...credentials, connectTimeout: 5_000 });
  try {
    const [rows] = await connection.query(sql, values);
    return rows as Record<string, unknown>[];
  } finally {
    await connection.end();
  }
}

// ----------------------------------------------------------------------------------------------------- TCP

export type Listener = { port: number; close(): Promise<void> };

async function listen(server: Server, port: number, sockets: Set<Socket>): Promise<Listener> {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Forwards 127.0.0.1:`port` to the target: a database that was unreachable on that port becomes reachable. */
export function startTcpProxy(port: number, target: { host: string; port: number }): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return listen(server, port, sockets);
}

/** Accepts connections and never answers: a database that hangs, for connection timeouts. */
export function startSilentServer(): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => socket.on('error', () => undefined));
  return listen(server, 0, sockets);
}
