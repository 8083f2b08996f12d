/**
 * Column encodings both backends share (src/store/sqlite/, src/store/postgres/): dates are stored as epoch
 * milliseconds, and rows are read as plain objects keyed by column name.
 */

import { remembered } from '../../core/remembered.js';

/** A row as the driver returns it: column name to value. */
export type Row = Record<string, any>;

/** A nullable epoch-millisecond column as an optional Date (a shared one: see sharedDate). */
export function optionalDate(ms: number | null | undefined): Date | undefined {
  return ms === null || ms === undefined ? undefined : sharedDate(ms);
}

/**
 * One Date for an epoch-millisecond value that rows repeat: a secret's created and last-changed dates and its
 * first version's created date are one instant, and last-accessed dates are kept to the day, so the read cache's
 * 10,000 secrets held five Dates each (88 bytes a Date) for about one distinct value each (≈ 4 MB of the peak
 * heap's 4.7 MB of Dates at 100,000 secrets, bench/RESULTS.md, issue 21). Records are read-only (the read cache
 * freezes them) and no code changes a Date in place, which is what makes sharing one safe. The table keeps the
 * last SHARED_DATES_LIMIT distinct values and starts over.
 */
export function sharedDate(ms: number): Date {
  let date = sharedDates.get(ms);
  if (date === undefined) {
    if (sharedDates.size >= SHARED_DATES_LIMIT) sharedDates.clear();
    date = new Date(ms);
    sharedDates.set(ms, date);
  }
  return date;
}

const SHARED_DATES_LIMIT = 4096;
const sharedDates = new Map<number, Date>();

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
