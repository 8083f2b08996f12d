import { z } from 'zod';
import { Sensitive } from './sensitive.js';

/**
 * Builders for zod schemas that mirror AWS shapes. Each constraint carries AWS's own wording
 * ("Member must have length less than or equal to 4096"), so protocol/validation.ts can render
 * a ValidationException exactly as AWS phrases it.
 */

export function awsString(options: { min?: number; max?: number; pattern?: RegExp } = {}) {
  let schema = z.string({ error: notNullOrType('a string') });
  if (options.min !== undefined) {
    schema = schema.min(options.min, { error: `Member must have length greater than or equal to ${options.min}` });
  }
  if (options.max !== undefined) {
    schema = schema.max(options.max, { error: `Member must have length less than or equal to ${options.max}` });
  }
  if (options.pattern) {
    schema = schema.regex(options.pattern, { error: `Member must satisfy regular expression pattern: ${options.pattern.source}` });
  }
  return schema;
}

export function awsInt(options: { min?: number; max?: number } = {}) {
  let schema = z.number({ error: notNullOrType('an integer') }).int({ error: 'Member must be an integer' });
  if (options.min !== undefined) {
    schema = schema.min(options.min, { error: `Member must have value greater than or equal to ${options.min}` });
  }
  if (options.max !== undefined) {
    schema = schema.max(options.max, { error: `Member must have value less than or equal to ${options.max}` });
  }
  return schema;
}

export function awsBoolean() {
  return z.boolean({ error: notNullOrType('a boolean') });
}

export function awsEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (issue) => (issue.input === undefined ? 'Member must not be null' : `Member must satisfy enum value set: [${values.join(', ')}]`) });
}

export function awsList<T extends z.ZodType>(item: T, options: { min?: number; max?: number } = {}) {
  let schema = z.array(item, { error: notNullOrType('a list') });
  if (options.min !== undefined) {
    schema = schema.min(options.min, { error: `Member must have length greater than or equal to ${options.min}` });
  }
  if (options.max !== undefined) {
    schema = schema.max(options.max, { error: `Member must have length less than or equal to ${options.max}` });
  }
  return schema;
}

export function awsMap<V extends z.ZodType>(key: z.ZodType<string>, value: V) {
  return z.record(key, value, { error: notNullOrType('a map') });
}

/**
 * Base64 as AWS sends it: groups of four from the alphabet, `=` padding (one or two) only at the very end: the
 * same strings as /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/ (held equal by
 * test/unit/core/base64-blob.test.ts). Returns the decoded bytes, or undefined for anything else.
 *
 * No regular expression: a character class over a ciphertext's ~1,500 random characters mispredicts a branch every
 * few characters, ~8 µs per KMS Decrypt (a loop over one string trains the predictor and hides it; bench/RESULTS.md).
 * Node's decoder works in bulk but leniently: it takes base64url's `-` and `_`, reads a non-ASCII character by its low
 * byte, stops at `=` and skips any other character. So those are refused first, and a skipped character shows as
 * fewer bytes than the length promises (one skipped sextet always costs a byte).
 *
 * `ownBuffer` decodes into a buffer of its own, never a slice of Node's shared 64 KiB pool: for a blob that outlives
 * its call (KMS Decrypt's CiphertextBlob does, bench/RESULTS.md), which would pin the whole pool slab it shares with
 * other requests' Buffers, and whose owner frees its bytes at once (kms/api-ciphertext.ts). It costs ≈ 0.3 µs more
 * than a pool slice, and ≈ 0.2 µs less than a pool slice copied.
 */
export function decodeBase64(text: string, ownBuffer = false): Buffer | undefined {
  const length = text.length;
  if (length % 4 !== 0) return undefined;
  const padding = length === 0 || text.charCodeAt(length - 1) !== EQUALS_SIGN ? 0 : text.charCodeAt(length - 2) === EQUALS_SIGN ? 2 : 1;
  const firstEquals = text.indexOf('=');
  if (firstEquals !== -1 && firstEquals < length - padding) return undefined;
  if (text.includes('-') || text.includes('_')) return undefined;
  // Every character ASCII: its UTF-8 is one byte each.
  if (Buffer.byteLength(text, 'utf8') !== length) return undefined;
  const expected = (length / 4) * 3 - padding;
  if (ownBuffer) {
    const own = Buffer.allocUnsafeSlow(expected);
    return own.write(text, 'base64') === expected ? own : undefined;
  }
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === expected ? bytes : undefined;
}

const EQUALS_SIGN = 0x3d;

export function isBase64(text: string): boolean {
  return decodeBase64(text) !== undefined;
}

/**
 * A blob member: base64 on the wire, a Buffer after parsing (`ownBuffer`: see decodeBase64); length limits apply to
 * the decoded bytes. Checked, decoded and measured in one step: each refinement of a zod pipe is a step of its own
 * on every parse. The refusals are the issues separate refinements raised, with AWS's wording.
 */
export function awsBlob(options: { min?: number; max?: number; ownBuffer?: boolean } = {}) {
  const tooShort = `Member must have length greater than or equal to ${options.min}`;
  const tooLong = `Member must have length less than or equal to ${options.max}`;
  return z
    .string({ error: notNullOrType('a base64-encoded blob') })
    .meta({ blob: true })
    .transform((text, ctx) => {
      const bytes = decodeBase64(text, options.ownBuffer);
      const refusal =
        bytes === undefined
          ? 'Member must be valid base64'
          : options.min !== undefined && bytes.length < options.min
            ? tooShort
            : options.max !== undefined && bytes.length > options.max
              ? tooLong
              : undefined;
      if (refusal === undefined) return bytes!;
      ctx.issues.push({ code: 'custom', message: refusal, input: bytes ?? text });
      return z.NEVER;
    });
}

/**
 * Marks a member's schema as sensitive (AWS's `sensitive` trait in the service model): a ValidationException
 * never shows its value (protocol/validation.ts), only where it is. The mark is zod metadata on the schema.
 */
export function markSensitive<T extends z.ZodType>(schema: T): T {
  return schema.meta({ sensitive: true }) as T;
}

/** Whether this very schema (not a wrapper around it) was marked with markSensitive. */
export function isMarkedSensitive(schema: z.ZodType): boolean {
  return z.globalRegistry.get(schema)?.sensitive === true;
}

/** Whether this schema is a blob's base64 text (awsBlob), whose value a ValidationException never shows. */
export function isMarkedBlob(schema: z.ZodType): boolean {
  return z.globalRegistry.get(schema)?.blob === true;
}

/** A blob that holds a plaintext or key: parsed into Sensitive<Buffer> so it can't leak into logs. */
export function sensitiveBlob(options: { min?: number; max?: number } = {}) {
  return markSensitive(awsBlob(options).transform((bytes) => new Sensitive(bytes)));
}

/** A string AWS types sensitive (a secret value, a password, a credential): parsed into Sensitive<string>. */
export function sensitiveString(options: { min?: number; max?: number; pattern?: RegExp } = {}) {
  return markSensitive(awsString(options).transform((text) => new Sensitive(text)));
}

function notNullOrType(expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined || issue.input === null ? 'Member must not be null' : `Member must be ${expected}`;
}
