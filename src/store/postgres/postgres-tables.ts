import type { BooleanColumns } from '../rows/values.js';
import type { Sql } from './transaction.js';

/** How a table class runs its statements: each method one transaction, retried as a whole (transaction.ts). */
export type RunInTransaction = <T>(body: (sql: Sql) => Promise<T>) => Promise<T>;

/** How a table class runs a point read of one SELECT: without a transaction around it (transaction.ts, outsideTransaction). */
export type RunPointRead = RunInTransaction;

/** How a table class runs one statement that writes and commits on its own (transaction.ts, autocommitStatement). */
export type RunAutocommit = RunInTransaction;

/** Dates as epoch milliseconds, plain objects as JSON text, absent values as NULL; booleans and Buffers as they are. */
export function toSqlValue(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !Array.isArray(value)) return JSON.stringify(value);
  return value ?? null;
}

/**
 * `column = $n` assignments and their values for a patch object, through a field → column table, numbered
 * from `firstParameter`. Column names come only from the table, never from the patch, so no caller data
 * reaches the SQL text. A field present with `undefined` sets NULL.
 */
export function patchAssignments<P extends object>(
  patch: P,
  columns: Record<keyof P, string>,
  firstParameter = 1,
): { assignments: string[]; values: unknown[] } {
  const entries = Object.entries(patch) as [keyof P, unknown][];
  return {
    assignments: entries.map(([field], index) => `${columns[field]} = $${firstParameter + index}`),
    values: entries.map(([, value]) => toSqlValue(value)),
  };
}

/** Rows were fetched with limit + 1, so an extra row means there is a next page, after the last one shown. */
export function toPage<T>(items: T[], limit: number, markerOf: (item: T) => string): { items: T[]; nextMarker?: string } {
  if (items.length <= limit) return { items };
  const pageItems = items.slice(0, limit);
  return { items: pageItems, nextMarker: markerOf(pageItems[pageItems.length - 1]!) };
}

/** Booleans are BOOLEAN columns (the parameter of the shared row mappers in ../rows/). Dates are BIGINT epoch milliseconds, read back as numbers: see PostgresStore's type parser. */
export const BOOLEAN_COLUMNS: BooleanColumns = 'native';
