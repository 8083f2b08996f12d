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
