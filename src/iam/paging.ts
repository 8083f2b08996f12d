import { iamError } from './errors.js';

const DEFAULT_MAX_ITEMS = 100;

/**
 * IAM's Marker/MaxItems/IsTruncated over a list read whole (users, roles and policies per account are few).
 * The marker is the offset of the next item, opaque to the caller.
 */
export function pageOf<T>(items: readonly T[], input: { Marker?: string; MaxItems?: number }): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const start = input.Marker === undefined ? 0 : decodeMarker(input.Marker);
  const limit = input.MaxItems ?? DEFAULT_MAX_ITEMS;
  const page = items.slice(start, start + limit);
  const next = start + page.length;
  return next < items.length ? { items: page, IsTruncated: true, Marker: Buffer.from(String(next)).toString('base64') } : { items: page, IsTruncated: false };
}

function decodeMarker(marker: string): number {
  const offset = Number(Buffer.from(marker, 'base64').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw iamError('InvalidInput', 'Invalid Marker.');
  return offset;
}
