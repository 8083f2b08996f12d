/** Per object or array: V8's header and property slots, roughly; what the estimate adds besides contents. */
const OBJECT_OVERHEAD_BYTES = 64;

/** Freezes the record and everything in it, and returns its approximate size in memory (one walk for both). */
export function frozenSize(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return 8;
  if (ArrayBuffer.isView(value)) return value.byteLength + OBJECT_OVERHEAD_BYTES;
  let bytes = OBJECT_OVERHEAD_BYTES;
  for (const member of Object.values(value)) bytes += frozenSize(member);
  Object.freeze(value);
  return bytes;
}
