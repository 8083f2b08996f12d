import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { isPlainRead } from '../plain-read.js';
import { isUnreachable, unavailable } from './unavailable.js';

type Row = Record<string, any>;

/** The driver's connection pool (the `postgres` package): one per PostgresStore. */
export type Pool = postgres.Sql;

/** What a transaction body may do: run statements on the transaction's one connection. */
export type Sql = {
  /** The rows of a statement. */
  rows(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** The first row of a statement, undefined when none. */
  one(text: string, params?: readonly unknown[]): Promise<Row | undefined>;
  /** Runs a statement; returns how many rows it inserted, updated or deleted. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
};

/**
 * SQLSTATEs after which the whole transaction is run again from the start: 40001 serialization_failure (the
 * database chose this transaction as the loser of a conflict; what CockroachDB, YugabyteDB and Aurora DSQL
 * return for every conflict) and 40P01 deadlock_detected (PostgreSQL aborted it to break a cycle). Both
 * roll the transaction back entirely, so running it again is safe.
 */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);
/**
 * How long a transaction keeps being retried. Writers of one row (a secret's versions, the audit chain's end)
 * lose to each other in turn: with n of them at once the last may need about n rounds, so the budget is time,
 * not a small count. Past it the caller gets a retryable 503 (unavailable.ts), never a hang.
 */
export const RETRY_BUDGET_MS = 10_000;

/**
 * Runs `body` in one SERIALIZABLE transaction, and again from the start on a serialization failure: the one
 * place where conflicts are retried. `body` must only touch the database (it may run several times) and
 * must read what it decides on inside the transaction, never before.
 *
 * Why SERIALIZABLE rather than REPEATABLE READ: several methods read, decide and write (a key limit counted
 * before an insert, tags merged before an update). Under REPEATABLE READ two such transactions can both read
 * the old state and both write (write skew: three keys under a limit of two); under SERIALIZABLE one of them
 * fails with 40001 and its retry sees the other's write. It is also the level the distributed engines run
 * by default (CockroachDB, YugabyteDB's serializable mode), so the same code is correct there.
 *
 * A lost connection is not retried here: whether its COMMIT took effect is unknown, so the caller gets the
 * error as a retryable 503 (unavailable.ts) rather than a write that may have happened twice. So does a
 * COMMIT slower than `commitWaitMs`, when given (see beginWithCommitDeadline).
 */
export async function inTransaction<T>(pool: Pool, body: (sql: Sql) => Promise<T>, options: { commitWaitMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return options.commitWaitMs === undefined
        ? ((await pool.begin('isolation level serializable', (transaction) => body(sqlOn(transaction)))) as T)
        : await beginWithCommitDeadline(pool, body, options.commitWaitMs);
    } catch (error) {
      if (isUnreachable(error)) throw unavailable(error);
      if (!isRetryable(error)) throw error;
      if (Date.now() >= deadline) throw unavailable(error);
    }
    await sleep(retryDelayMs(attempt));
  }
}

/**
 * One transaction whose COMMIT gets `commitWaitMs` to finish, after which the caller is answered as if the
 * connection had been lost (QUERY_TIMEOUT: unavailable, outcome unknown) without waiting for it.
 *
 * Why: with synchronous_commit a COMMIT waits for the synchronous standby. When the standby is down that wait
 * would last until the driver's query_timeout cancels it, and PostgreSQL answers a cancelled wait with
 * success ("the transaction has already committed locally, but might not have been replicated to the
 * standby"): the call would be acknowledged though the standby never got the write, and lost if the primary
 * then failed. Answered before that cancel (commitWaitMs is below the query timeout), the write is not
 * acknowledged; whether it committed is settled by the client's retry with the same ClientRequestToken. (A
 * late COMMIT lands after the store's read cache was emptied for this call, so the node may serve the state
 * before it for up to the cache's age, as it does for another node's write.)
 */
async function beginWithCommitDeadline<T>(pool: Pool, body: (sql: Sql) => Promise<T>, commitWaitMs: number): Promise<T> {
  const deadline = commitDeadline(commitWaitMs);
  const transaction = pool.begin('isolation level serializable', async (connection) => {
    const result = await body(sqlOn(connection));
    // The body is done: what follows is the driver's COMMIT.
    deadline.start();
    return result;
  });
  return (await deadline.race(transaction)) as T;
}

/**
 * A commit's deadline: once started, `waitMs` later the raced work's caller gets the commit timeout (the
 * connection-lost answer) instead of waiting on. Once the deadline has answered, the work's own outcome
 * (committed, cancelled) is nobody's.
 */
function commitDeadline(waitMs: number) {
  let timer: NodeJS.Timeout | undefined;
  let tooSlow!: (error: Error) => void;
  const gaveUp = new Promise<never>((_, reject) => (tooSlow = reject));
  return {
    start(): void {
      timer = setTimeout(() => tooSlow(commitTimeout(waitMs)), waitMs);
    },
    async race<T>(work: Promise<T>): Promise<T> {
      work.catch(() => undefined);
      try {
        return await Promise.race([work, gaveUp]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function commitTimeout(commitWaitMs: number): Error {
  return Object.assign(new Error(`COMMIT did not finish within ${commitWaitMs} ms (waiting for the synchronous standby?)`), { code: 'QUERY_TIMEOUT' });
}

/**
 * Runs `body`, a point read of exactly one SELECT, on the pool without BEGIN and COMMIT around it: one round
 * trip instead of three. One statement is atomic on its own and reads one snapshot of committed data, so a
 * transaction adds nothing to it; what it gives up is taking part in SERIALIZABLE's conflict checks, which the
 * store's read cache (read-cache.ts, up to 500 ms stale) never offered its callers either. Every method that
 * reads to decide a write still reads inside that write's transaction. A second statement, or one that is not
 * a SELECT, is a programming error and throws before it runs.
 */
export async function outsideTransaction<T>(pool: Pool, body: (sql: Sql) => Promise<T>): Promise<T> {
  try {
    return await body(oneStatementOn(pool, isPlainRead, 'outsideTransaction runs exactly one SELECT'));
  } catch (error) {
    if (isUnreachable(error)) throw unavailable(error);
    throw error;
  }
}

/**
 * Runs `body`, exactly one statement that writes, on the pool without BEGIN and COMMIT around it: it commits on
 * its own, in one round trip instead of four. One statement is atomic, so what it adds it adds whole or not at
 * all; it runs at the session's default level (READ COMMITTED), so whatever must stay true across nodes rests on
 * its constraints, never on what it reads (audit-tables.ts's optimistic append rests on the primary key). Not
 * retried: an error goes to the caller, which knows what the statement meant. As in beginWithCommitDeadline, a
 * statement not answered within `commitWaitMs` (its commit waiting for a synchronous standby) answers the caller
 * as a lost connection: a retryable 503, outcome unknown, never an acknowledgement the standby did not get.
 */
export async function autocommitStatement<T>(pool: Pool, body: (sql: Sql) => Promise<T>, options: { commitWaitMs?: number } = {}): Promise<T> {
  const statement = body(oneStatementOn(pool, () => true, 'autocommitStatement runs exactly one statement'));
  try {
    if (options.commitWaitMs === undefined) return await statement;
    // The statement's commit is part of it: its deadline runs from the start.
    const deadline = commitDeadline(options.commitWaitMs);
    deadline.start();
    return await deadline.race(statement);
  } catch (error) {
    if (isUnreachable(error)) throw unavailable(error);
    throw error;
  }
}

/**
 * Statements on the pool for a body that may run only one, and only one that `allowed` accepts: a second, or
 * another kind, is a programming error and throws `misuse` before it runs (outsideTransaction, autocommitStatement).
 */
function oneStatementOn(pool: Pool, allowed: (text: string) => boolean, misuse: string): Sql {
  const sql = sqlOn(pool);
  let statements = 0;
  const checked = (text: string) => {
    statements += 1;
    if (statements > 1 || !allowed(text)) throw new Error(misuse);
    return text;
  };
  return {
    rows: (text, params) => sql.rows(checked(text), params),
    one: (text, params) => sql.one(checked(text), params),
    run: (text, params) => sql.run(checked(text), params),
  };
}

export function isRetryable(error: unknown): boolean {
  return error instanceof postgres.PostgresError && RETRYABLE_SQLSTATES.has(error.code);
}

/** Exponential backoff with full jitter (up to 2 ms, 4 ms, … 50 ms), so transactions that collided do not collide again. */
function retryDelayMs(attempt: number): number {
  return Math.random() * Math.min(50, 2 ** attempt);
}

/**
 * Statements with parameters go as prepared statements (parsed once per connection); a statement without
 * parameters goes by the simple protocol, which is what lets a migration hold several statements.
 */
export function sqlOn(connection: postgres.Sql | postgres.TransactionSql): Sql {
  const query = (text: string, params: readonly unknown[]) =>
    params.length === 0 ? connection.unsafe(text) : connection.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
  return {
    async rows(text, params = []) {
      return (await query(text, params)) as Row[];
    },
    async one(text, params = []) {
      return (await query(text, params))[0];
    },
    async run(text, params = []) {
      return (await query(text, params)).count ?? 0;
    },
  };
}
