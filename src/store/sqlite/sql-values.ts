/** Conversions between domain values and SQLite columns, shared by every table of the SQLite store. */
import type { BooleanColumns } from '../rows/values.js';

/** Dates as epoch milliseconds, booleans as 0/1, plain objects as JSON, absent values as NULL. */
export function toSqlValue(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value ?? null;
}

/**
 * `column = ?` assignments and their values for a patch object, through a field → column table. Column
 * names come only from the table, never from the patch, so no caller data reaches the SQL text.
 * A field present with `undefined` sets NULL.
 */
export function patchAssignments<P extends object>(patch: P, columns: Record<keyof P, string>): { assignments: string[]; values: unknown[] } {
  const entries = Object.entries(patch) as [keyof P, unknown][];
  return {
    assignments: entries.map(([field]) => `${columns[field]} = ?`),
    values: entries.map(([, value]) => toSqlValue(value)),
  };
}

/** SQLite has no boolean type: booleans are 0/1 integers (the parameter of the shared row mappers in ../rows/). */
export const BOOLEAN_COLUMNS: BooleanColumns = 'integer';
