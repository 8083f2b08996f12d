/**
 * What a record costs in memory, as V8 (64-bit, no pointer compression: Node's build) and Node lay it out; measured
 * with `--expose-gc` (heap used + external per object over 20,000 of each, bench/RESULTS.md "Peak RSS"), so a
 * cache bound in bytes holds about that many bytes. A string is a 16-byte header and its characters (one byte
 * each when all are Latin-1, two otherwise), rounded up to 8; an object a 24-byte header and 8 bytes a property;
 * a Date 88 bytes; a Buffer its bytes and ~190 of bookkeeping (the typed array, its ArrayBuffer and the native
 * backing store that holds the bytes outside the heap).
 */
const OBJECT_HEADER_BYTES = 24;
const SLOT_BYTES = 8;
const STRING_HEADER_BYTES = 16;
const DATE_BYTES = 88;
const BUFFER_OVERHEAD_BYTES = 192;
/** A heap number: a number that is not a small integer (31 bits) is boxed, e.g. an epoch in milliseconds. */
const NUMBER_BYTES = 16;
const SMALL_INTEGER_LIMIT = 2 ** 30;

const NOT_LATIN1 = /[^\u0000-\u00ff]/;

/** Freezes the record and everything in it, and returns its size in memory (one walk for both). */
export function frozenSize(value: unknown): number {
  if (typeof value === 'string') return stringSize(value);
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < SMALL_INTEGER_LIMIT ? 0 : NUMBER_BYTES;
  if (value === null || typeof value !== 'object') return 0;
  if (ArrayBuffer.isView(value)) return value.byteLength + BUFFER_OVERHEAD_BYTES;
  if (value instanceof Date) {
    Object.freeze(value);
    return DATE_BYTES;
  }
  const members = Object.values(value);
  let bytes = OBJECT_HEADER_BYTES + SLOT_BYTES * Math.max(members.length, Array.isArray(value) ? 1 : 3);
  for (const member of members) bytes += frozenSize(member);
  Object.freeze(value);
  return bytes;
}

/**
 * What a cache spends on an entry besides its record: the key string, the entry object beside the record and the
 * Map's slots for it (a Map keeps 3 slots an entry and up to twice the entries it holds).
 */
export function cacheEntryOverhead(key: string): number {
  return stringSize(key) + OBJECT_HEADER_BYTES + 3 * SLOT_BYTES + 6 * SLOT_BYTES;
}

function stringSize(text: string): number {
  const characters = NOT_LATIN1.test(text) ? 2 * text.length : text.length;
  return (STRING_HEADER_BYTES + characters + 7) & ~7;
}
