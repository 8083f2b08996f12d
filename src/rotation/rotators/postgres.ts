import type PgModule from 'pg';
import type { Client as PgClient } from 'pg';
import type { Sensitive } from '../../core/index.js';
import type { DatabaseSecret } from './database-secret.js';
import { loginWith, NETWORK_ERROR_CODES, type DatabaseEngine, type DatabaseSession, type Driver, type FailureKind } from './engine.js';
import { RotatorError, safeMessage } from './errors.js';

/**
 * PostgreSQL for the built-in rotators, after AWS's SecretsManagerRDSPostgreSQLRotationSingleUser and
 * ...MultiUser templates. Identifiers are quoted with the pg client's escapeIdentifier and passwords with
 * escapeLiteral (PostgreSQL takes no bind parameters in utility statements such as ALTER ROLE).
 */

/** The pg module, imported on the first rotation rather than at start-up (it costs ~80 ms of cold start). */
let pg: typeof PgModule | undefined;
async function loadPg(): Promise<typeof PgModule> {
  pg ??= (await import('pg')).default;
  return pg;
}

/** Longest a statement of a rotation may run before the step fails. */
const STATEMENT_TIMEOUT_MS = 30_000;

class PostgresSession implements DatabaseSession {
  readonly #client: PgClient;
  readonly #pg: typeof PgModule;

  constructor(client: PgClient, pgModule: typeof PgModule) {
    this.#client = client;
    this.#pg = pgModule;
  }

  /** https://www.postgresql.org/docs/current/sql-alterrole.html */
  async setOwnPassword(username: string, password: Sensitive<string>): Promise<void> {
    await this.#run(
      `ALTER USER ${this.#pg.escapeIdentifier(username)} WITH PASSWORD ${this.#pg.escapeLiteral(password.reveal())}`,
      `setting the password of PostgreSQL user "${username}"`,
      password,
    );
  }

  /**
   * As the template does: a missing alternate user is created with LOGIN and made a member of the current user,
   * so it has the same privileges; an existing one only gets its new password.
   */
  async ensureUserLike(username: string, template: string, password: Sensitive<string>): Promise<void> {
    const user = this.#pg.escapeIdentifier(username);
    const literal = () => this.#pg.escapeLiteral(password.reveal());
    await this.#run('BEGIN', 'starting a transaction', password);
    try {
      const existing = await this.#client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
      if (existing.rowCount === 0) {
        await this.#run(`CREATE ROLE ${user} WITH LOGIN PASSWORD ${literal()}`, `creating PostgreSQL user "${username}"`, password);
        await this.#run(`GRANT ${this.#pg.escapeIdentifier(template)} TO ${user}`, `granting "${template}" to PostgreSQL user "${username}"`, password);
      } else {
        await this.#run(`ALTER USER ${user} WITH PASSWORD ${literal()}`, `setting the password of PostgreSQL user "${username}"`, password);
      }
      await this.#run('COMMIT', `committing the change of PostgreSQL user "${username}"`, password);
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof RotatorError) throw error;
      throw new RotatorError(`changing PostgreSQL user "${username}" failed: ${safeMessage(error, [password.reveal()])}`);
    }
  }

  async check(): Promise<void> {
    await this.#client.query('SELECT NOW()');
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => undefined);
  }

  async #run(sql: string, action: string, password: Sensitive<string>): Promise<void> {
    try {
      await this.#client.query(sql);
    } catch (error) {
      const code = error instanceof this.#pg.DatabaseError && error.code ? ` (SQLSTATE ${error.code})` : '';
      throw new RotatorError(`${action} failed: ${safeMessage(error, [password.reveal()])}${code}`);
    }
  }
}

const driver: Driver<PostgresSession> = {
  label: 'PostgreSQL',
  async attempt(secret: DatabaseSecret, useTls: boolean, connectTimeoutMs: number) {
    const pgModule = await loadPg();
    const client = new pgModule.Client({
      host: secret.host,
      port: secret.port,
      user: secret.username,
      password: secret.password.reveal(),
      database: secret.dbname ?? 'postgres',
      ssl: useTls,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: STATEMENT_TIMEOUT_MS,
      application_name: 'coffer-rotation',
    });
    // A connection that breaks later emits 'error'; the failing query reports it, the event must not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return new PostgresSession(client, pgModule);
  },
  classify(error: unknown): FailureKind {
    if (pg && error instanceof pg.DatabaseError) return 'refused';
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return 'unreachable';
    const message = error instanceof Error ? error.message : '';
    if (code === 'ETIMEDOUT' || /timeout/i.test(message)) return 'timeout';
    return 'other';
  },
};

export const postgresEngine: DatabaseEngine = {
  engineLabel: 'PostgreSQL',
  engines: ['postgres', 'aurora-postgresql'],
  defaultPort: 5432,
  // The PostgreSQL template's default: ':' also stays out, for connection URIs and .pgpass lines.
  excludeCharacters: ':/@"\'\\',
  maxUsernameLength: 63,
  login: (secret, options) => loginWith(driver, secret, options),
};
