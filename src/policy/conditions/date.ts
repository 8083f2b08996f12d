/**
 * Date condition operators. Values are W3C/ISO 8601 dates (`2026-11-23`, `2026-11-23T18:00:00Z`) or epoch
 * seconds (`1795456800`); both sides are compared as instants in milliseconds.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
 */
import { comparing, type OperatorTable } from './operator.js';

const EPOCH_SECONDS = /^\s*\d+(\.\d+)?\s*$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseDateMs(raw: string): number | undefined {
  if (EPOCH_SECONDS.test(raw)) return Number(raw) * 1000;
  const match = ISO_8601.exec(raw.trim());
  if (!match) return undefined;
  // A time without a zone is read as UTC (JavaScript would read it as local time), so evaluation never depends
  // on the server's time zone.
  let text = raw.trim().replace(' ', 'T');
  if (match[1] !== undefined && match[4] === undefined) text += 'Z';
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export const dateOperators: OperatorTable = {
  DateEquals: comparing(false, parseDateMs, 'date', (c, p) => c === p),
  DateNotEquals: comparing(true, parseDateMs, 'date', (c, p) => c === p),
  DateLessThan: comparing(false, parseDateMs, 'date', (c, p) => c < p),
  DateLessThanEquals: comparing(false, parseDateMs, 'date', (c, p) => c <= p),
  DateGreaterThan: comparing(false, parseDateMs, 'date', (c, p) => c > p),
  DateGreaterThanEquals: comparing(false, parseDateMs, 'date', (c, p) => c >= p),
};
