import { kmsError } from './errors.js';

/**
 * Markers for lists that are paged by position (tags, rotations, policies): the offset, as text.
 * Store-backed lists use the store's own marker.
 */
export function pageByOffset<T>(items: T[], limit: number, marker: string | undefined) {
  const start = marker === undefined ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0 || String(start) !== marker && marker !== undefined) {
    throw kmsError('InvalidMarkerException', 'The marker is not valid.');
  }
  const page = items.slice(start, start + limit);
  const next = start + limit < items.length ? String(start + limit) : undefined;
  return { page, NextMarker: next, Truncated: next !== undefined };
}
