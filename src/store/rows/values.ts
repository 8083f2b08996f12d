/**
 * Column encodings both backends share (src/store/sqlite/, src/store/postgres/): dates are stored as epoch
 * milliseconds, and rows are read as plain objects keyed by column name.
 */

/** A row as the driver returns it: column name to value. */
export type Row = Record<string, any>;

/** A nullable epoch-millisecond column as an optional Date. */
export function optionalDate(ms: number | null | undefined): Date | undefined {
  return ms === null || ms === undefined ? undefined : new Date(ms);
}

/**
 * How a backend stores a boolean column: SQLite has no boolean type and stores 0/1 integers, PostgreSQL
 * has BOOLEAN. The one column encoding where the backends differ, so shared mappers take it as a parameter.
 */
export type BooleanColumns = 'integer' | 'native';

export function readBoolean(value: unknown, booleans: BooleanColumns): boolean {
  return booleans === 'integer' ? value === 1 : value === true;
}

export function writeBoolean(value: boolean, booleans: BooleanColumns): number | boolean {
  return booleans === 'integer' ? (value ? 1 : 0) : value;
}
