/**
 * Column encodings both backends share (src/store/sqlite/, src/store/postgres/): dates are stored as epoch
 * milliseconds, and rows are read as plain objects keyed by column name.
 */

import { remembered } from '../../core/remembered.js';

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

/**
 * One shared copy of a text that many records repeat (an account id, a region, a KMS key ARN, a stage label): the
 * driver returns a new string for every row read, and the read cache holds thousands of records, so with 100,000
 * secrets each such text was kept ten or twenty thousand times over (≈ 5 MB of the peak heap, bench/RESULTS.md,
 * issue 21). Only short texts are shared, and the table of them starts over at its bound.
 */
export const sharedText: (text: string) => string = remembered((text) => text, { limit: 4096, longestKey: 256 });

/** `sharedText` of a nullable column, as an optional value. */
export function optionalSharedText(text: string | null | undefined): string | undefined {
  return text === null || text === undefined ? undefined : sharedText(text);
}
