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
 * Base64 as AWS sends it: groups of four from the alphabet, `=` padding (one or two) only at the very end. The
 * length is checked apart and the pattern has no groups: the same strings as
 * /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, at a fraction of its cost on a
 * ciphertext (every KMS Decrypt parses one).
 */
const BASE64_CHARACTERS = /^[A-Za-z0-9+/]*={0,2}$/;

export function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  // Fast path: text that node's encoder writes back unchanged from its decoding is canonical base64, so the
  // pattern would accept it; the native round trip costs a quarter of the pattern's character-by-character scan
  // on a 1 KiB ciphertext. Anything else (non-zero padding bits, '-', '_', spaces, which node's lenient decoder
  // takes) is decided by the pattern, so exactly the same strings pass.
  return Buffer.from(text, 'base64').toString('base64') === text || BASE64_CHARACTERS.test(text);
}

/** A blob member: base64 on the wire, a Buffer after parsing; length limits apply to the decoded bytes. */
export function awsBlob(options: { min?: number; max?: number } = {}) {
  return z
    .string({ error: notNullOrType('a base64-encoded blob') })
    .meta({ blob: true })
    .refine(isBase64, { error: 'Member must be valid base64' })
    .transform((text) => Buffer.from(text, 'base64'))
    .refine((bytes) => options.min === undefined || bytes.length >= options.min, {
      error: `Member must have length greater than or equal to ${options.min}`,
    })
    .refine((bytes) => options.max === undefined || bytes.length <= options.max, {
      error: `Member must have length less than or equal to ${options.max}`,
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
