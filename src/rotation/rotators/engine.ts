import type { Sensitive } from '../../core/index.js';
import type { DatabaseSecret, SecretRules } from './database-secret.js';
import { RotatorError, safeMessage } from './errors.js';

/**
 * What the four-step skeleton needs from a database engine: log in with a secret's credentials, and run the
 * few statements a rotation needs. postgres.ts and mysql.ts implement it; only they know SQL.
 */
export interface DatabaseEngine extends SecretRules {
  /** Characters GetRandomPassword must leave out of this engine's passwords (as the AWS template does). */
  readonly excludeCharacters: string;
  /** The longest user name the engine takes, so `<user>_clone` is refused before any version is written. */
  readonly maxUsernameLength: number;
  /**
   * Logs in with the secret's credentials. The server refusing them (wrong password, unknown user or database)
   * is `{ ok: false }`, as in the templates; a database that cannot be reached (connection refused, unknown
   * host, timeout) or spoken to (TLS required and failing) throws a RotatorError, since no other credentials
   * would fare better.
   */
  login(secret: DatabaseSecret, options: ConnectOptions): Promise<LoginResult>;
}

export type ConnectOptions = { connectTimeoutMs: number };

export type LoginResult = { ok: true; session: DatabaseSession } | { ok: false; reason: string };

export interface DatabaseSession {
  /** Single user: the logged-in user sets its own password. */
  setOwnPassword(username: string, password: Sensitive<string>): Promise<void>;
  /**
   * Alternating users, logged in as the master user: creates `username` with the privileges of `template` if it
   * does not exist, and sets its password.
   */
  ensureUserLike(username: string, template: string, password: Sensitive<string>): Promise<void>;
  /** The templates' test query (SELECT NOW()). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** How a driver error is to be read: the server said no, the server is out of reach, or anything else. */
export type FailureKind = 'refused' | 'unreachable' | 'timeout' | 'other';

/** One connection attempt of a driver, and how to read its errors. */
export type Driver<S extends DatabaseSession> = {
  label: string;
  attempt(secret: DatabaseSecret, useTls: boolean, connectTimeoutMs: number): Promise<S>;
  classify(error: unknown): FailureKind;
};

/**
 * Logs in following the secret's TLS mode. As in the AWS templates, with no `ssl` member a TLS connection is
 * tried first and a plain one after it fails; a failure that says the host is out of reach is final at once,
 * so an unreachable database fails a step within one connection timeout.
 */
export async function loginWith<S extends DatabaseSession>(driver: Driver<S>, secret: DatabaseSecret, options: ConnectOptions): Promise<LoginResult> {
  const where = `${driver.label} at ${secret.host}:${secret.port}`;
  const plan = secret.tls === 'require' ? [true] : secret.tls === 'disable' ? [false] : [true, false];
  for (const [index, useTls] of plan.entries()) {
    try {
      return { ok: true, session: await driver.attempt(secret, useTls, options.connectTimeoutMs) };
    } catch (error) {
      const kind = driver.classify(error);
      const message = safeMessage(error, [secret.password.reveal()]);
      if (kind === 'timeout') throw new RotatorError(`cannot reach ${where}: no answer within ${options.connectTimeoutMs} ms (${message})`);
      if (kind === 'unreachable') throw new RotatorError(`cannot reach ${where}: ${message}`);
      if (index < plan.length - 1) continue;
      if (kind === 'refused') return { ok: false, reason: message };
      throw new RotatorError(`cannot connect to ${where}${useTls ? ' over TLS' : ''}: ${message}`);
    }
  }
  throw new RotatorError(`cannot connect to ${where}`);
}

/** Error codes Node gives a socket that never reached a server. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
]);
