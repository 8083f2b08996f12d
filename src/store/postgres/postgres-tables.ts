import type { Sql } from './transaction.js';

/** How a table class runs its statements: each method one transaction, retried as a whole (transaction.ts). */
export type RunInTransaction = <T>(body: (sql: Sql) => Promise<T>) => Promise<T>;

/** Dates are stored as epoch milliseconds (BIGINT, read back as numbers: see PostgresStore's type parser). */
export function optionalDate(ms: number | null | undefined): Date | undefined {
  return ms === null || ms === undefined ? undefined : new Date(ms);
}
