import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Sensitive } from '../../core/index.js';
import type { DatabaseSecret } from './database-secret.js';
import { loginWith, NETWORK_ERROR_CODES, type DatabaseEngine, type DatabaseSession, type Driver, type FailureKind } from './engine.js';
import { RotatorError, safeMessage } from './errors.js';

/**
 * MySQL and MariaDB for the built-in rotators, after AWS's SecretsManagerRDSMySQLRotationSingleUser and
 * ...MultiUser templates. Values, user and host names included, go in as `?` placeholders; a grant copied
 * from SHOW GRANTS is rebuilt around the grantee and run without placeholders, so a `?` inside it stays as is.
 */

/** Longest a statement of a rotation may run before the step fails. */
const STATEMENT_TIMEOUT_MS = 30_000;

type Dialect = { mariaDb: boolean; major: number };

class MySqlSession implements DatabaseSession {
  readonly #connection: Connection;
  #dialect: Dialect | undefined;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  /** The template's `SET PASSWORD = PASSWORD(%s)`, or `= %s` on MySQL 8 and later where PASSWORD() is gone. */
  async setOwnPassword(username: string, password: Sensitive<string>): Promise<void> {
    const expression = await this.#passwordExpression();
    await this.#run(`SET PASSWORD = ${expression}`, [password.reveal()], `setting the password of MySQL user "${username}"`, password);
  }

  /**
   * As the template does: create the alternate user if missing, copy every grant and the TLS requirement of
   * the current user, then set the password. Done for each host the current user is defined for (the template
   * assumes '%').
   */
  async ensureUserLike(username: string, template: string, password: Sensitive<string>): Promise<void> {
    const hosts = await this.#rows('SELECT Host FROM mysql.user WHERE User = ?', [template], `looking up MySQL user "${template}"`, password);
    if (hosts.length === 0) throw new RotatorError(`MySQL user "${template}" does not exist, so it cannot be cloned as "${username}"`);
    const expression = await this.#passwordExpression();
    for (const row of hosts) {
      const host = String(row.Host);
      const who = `MySQL user "${username}"@"${host}"`;
      const existing = await this.#rows('SELECT 1 AS present FROM mysql.user WHERE User = ? AND Host = ?', [username, host], `looking up ${who}`, password);
      if (existing.length === 0) {
        await this.#run('CREATE USER ?@? IDENTIFIED BY ?', [username, host, password.reveal()], `creating ${who}`, password);
      }
      const grants = await this.#rows('SHOW GRANTS FOR ?@?', [template, host], `reading the grants of "${template}"@"${host}"`, password);
      for (const grant of grants) {
        const line = String(Object.values(grant)[0] ?? '');
        const copy = copyGrant(line, template, username, host);
        if (copy !== undefined) await this.#run(copy, undefined, `copying a grant of "${template}"@"${host}" to ${who}`, password);
      }
      await this.#copyTlsRequirement(template, username, host, password);
      await this.#run(`SET PASSWORD FOR ?@? = ${expression}`, [username, host, password.reveal()], `setting the password of ${who}`, password);
    }
  }

  async check(): Promise<void> {
    await this.#connection.query({ sql: 'SELECT NOW()', timeout: STATEMENT_TIMEOUT_MS });
  }

  async close(): Promise<void> {
    await this.#connection.end().catch(() => this.#connection.destroy());
  }

  async #copyTlsRequirement(template: string, username: string, host: string, password: Sensitive<string>): Promise<void> {
    const [tls] = await this.#rows(
      'SELECT ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ? AND Host = ?',
      [template, host],
      `reading the TLS requirement of "${template}"@"${host}"`,
      password,
    );
    if (!tls) return;
    const text = (value: unknown) => (value === null || value === undefined ? '' : Buffer.isBuffer(value) ? value.toString('utf8') : String(value));
    const type = text(tls.ssl_type).toUpperCase();
    let requirement = 'NONE';
    const values: string[] = [username, host];
    if (type === 'ANY') requirement = 'SSL';
    else if (type === 'X509') requirement = 'X509';
    else if (type === 'SPECIFIED') {
      const parts: string[] = [];
      for (const [keyword, value] of [['CIPHER', text(tls.ssl_cipher)], ['ISSUER', text(tls.x509_issuer)], ['SUBJECT', text(tls.x509_subject)]] as const) {
        if (value) {
          parts.push(`${keyword} ?`);
          values.push(value);
        }
      }
      requirement = parts.length ? parts.join(' AND ') : 'SSL';
    }
    await this.#run(`ALTER USER ?@? REQUIRE ${requirement}`, values, `copying the TLS requirement of "${template}"@"${host}"`, password);
  }

  async #passwordExpression(): Promise<string> {
    const dialect = await this.#dialectOf();
    return dialect.mariaDb || dialect.major < 8 ? 'PASSWORD(?)' : '?';
  }

  async #dialectOf(): Promise<Dialect> {
    if (!this.#dialect) {
      const [rows] = await this.#connection.query<RowDataPacket[]>({ sql: 'SELECT VERSION() AS version', timeout: STATEMENT_TIMEOUT_MS });
      const version = String(rows[0]?.version ?? '');
      this.#dialect = { mariaDb: /mariadb/i.test(version), major: Number.parseInt(version, 10) || 0 };
    }
    return this.#dialect;
  }

  async #rows(sql: string, values: unknown[], action: string, password: Sensitive<string>): Promise<RowDataPacket[]> {
    try {
      const [rows] = await this.#connection.query<RowDataPacket[]>({ sql, values, timeout: STATEMENT_TIMEOUT_MS });
      return rows;
    } catch (error) {
      throw failure(action, error, password);
    }
  }

  async #run(sql: string, values: unknown[] | undefined, action: string, password: Sensitive<string>): Promise<void> {
    try {
      await this.#connection.query({ sql, values, timeout: STATEMENT_TIMEOUT_MS });
    } catch (error) {
      throw failure(action, error, password);
    }
  }
}

/** A RotatorError for a failed statement; the driver error is dropped because its `.sql` holds the password. */
function failure(action: string, error: unknown, password: Sensitive<string>): RotatorError {
  const code = (error as { code?: unknown } | null)?.code;
  return new RotatorError(`${action} failed: ${safeMessage(error, [password.reveal()])}${typeof code === 'string' ? ` (${code})` : ''}`);
}

/**
 * One SHOW GRANTS line of `template`@`host`, rewritten for `username`@`host`. The grantee clause and what
 * follows it (MariaDB adds `IDENTIFIED BY PASSWORD '<hash>'`, REQUIRE and resource limits there) are replaced;
 * only WITH GRANT OPTION / WITH ADMIN OPTION are kept. Lines that are not grants are skipped.
 */
export function copyGrant(line: string, template: string, username: string, host: string): string | undefined {
  const from = `${quoteName(template)}@${quoteName(host)}`;
  const to = `${quoteName(username)}@${quoteName(host)}`;
  const rewrite = (keyword: string) => {
    const marker = ` ${keyword} ${from}`;
    const at = line.lastIndexOf(marker);
    if (at < 0) {
      throw new RotatorError(`cannot copy a grant of MySQL user "${template}"@"${host}": a SHOW GRANTS line does not name the user as expected`);
    }
    const rest = line.slice(at + marker.length);
    const options = ['WITH GRANT OPTION', 'WITH ADMIN OPTION'].filter((option) => rest.toUpperCase().includes(option));
    return [`${line.slice(0, at)} ${keyword} ${to}`, ...options].join(' ');
  };
  if (/^GRANT\s/i.test(line)) return rewrite('TO');
  if (/^SET DEFAULT ROLE\s/i.test(line)) return rewrite('FOR');
  return undefined;
}

/**
 * A user or host name quoted as SHOW GRANTS prints it: in backticks, a backtick doubled. (escapeId would
 * split a host such as `10.0.%` at its dots, as if it were a qualified table name.)
 */
function quoteName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

const driver: Driver<MySqlSession> = {
  label: 'MySQL',
  async attempt(secret: DatabaseSecret, useTls: boolean, connectTimeoutMs: number) {
    // mysql2 is imported on the first rotation rather than at start-up (it costs ~100 ms of cold start).
    const mysql = (await import('mysql2/promise')).default;
    const connection = await mysql.createConnection({
      host: secret.host,
      port: secret.port,
      user: secret.username,
      password: secret.password.reveal(),
      database: secret.dbname,
      connectTimeout: connectTimeoutMs,
      ssl: useTls ? {} : undefined,
      multipleStatements: false,
    });
    // A connection that breaks later emits 'error'; the failing query reports it, the event must not crash the process.
    connection.on('error', () => undefined);
    return new MySqlSession(connection);
  },
  classify(error: unknown): FailureKind {
    const record = (error ?? {}) as { code?: unknown; sqlState?: unknown; errno?: unknown };
    if (typeof record.sqlState === 'string' || (typeof record.code === 'string' && record.code.startsWith('ER_'))) return 'refused';
    if (typeof record.code === 'string' && NETWORK_ERROR_CODES.has(record.code)) return 'unreachable';
    if (record.code === 'ETIMEDOUT') return 'timeout';
    return 'other';
  },
};

export const mysqlEngine: DatabaseEngine = {
  engineLabel: 'MySQL',
  // MariaDB counts as MySQL, as do Aurora MySQL's engine names.
  engines: ['mysql', 'mariadb', 'aurora-mysql', 'aurora'],
  defaultPort: 3306,
  excludeCharacters: '/@"\'\\',
  // MySQL 5.7+ takes 32 characters (the template's 16 is MySQL 5.6's limit); MariaDB takes more.
  maxUsernameLength: 32,
  login: (secret, options) => loginWith(driver, secret, options),
};
