/**
 * Pieces of an operation's `parseCommon` (operation.ts): a hand-written parse of the well-formed input the hot paths
 * get on nearly every call (Decrypt, GetSecretValue), which gives exactly what the operation's zod schema gives and
 * answers undefined for anything it does not recognise, so the schema parses (or refuses) that input as before. Zod's
 * walk of an object schema costs ≈ 1 µs a call (bench/RESULTS.md, decrypt-glue); these checks a few dozen ns.
 */

/** A length range as `awsString` and `awsBlob` take it, shared by the schema and its parseCommon. */
export type LengthRange = { readonly min: number; readonly max: number };

/** Whether `value` is a string whose length (UTF-16 units, as zod's min/max count them) is within `range`. */
export function isStringWithin(value: unknown, range: LengthRange): value is string {
  return typeof value === 'string' && value.length >= range.min && value.length <= range.max;
}

/**
 * `awsMap(awsString(), awsString())`'s result for a plain object of string values: a copy with the same members in
 * the same order. Undefined for anything else (not a plain object, a value that is not a string, a member named
 * `__proto__`, which zod's copy drops), left to the schema.
 */
export function stringMapCopy(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const copy: Record<string, string> = {};
  for (const name in value) {
    const member = (value as Record<string, unknown>)[name];
    if (!Object.hasOwn(value, name) || typeof member !== 'string' || name === '__proto__') return undefined;
    copy[name] = member;
  }
  return copy;
}
