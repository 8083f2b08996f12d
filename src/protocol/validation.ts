import type { ZodError, ZodType } from 'zod';
import { commonError, isMarkedBlob, isMarkedSensitive, type AwsError } from '../core/index.js';

type Issue = ZodError['issues'][number];

/**
 * Turns zod issues into AWS's ValidationException text:
 * "1 validation error detected: Value 'alias/x!' at 'aliasName' failed to satisfy constraint: Member must satisfy
 * regular expression pattern: ^[a-zA-Z0-9:/_-]+$"; several: "2 validation errors detected: …; …" (at most 10).
 * Member paths are written as AWS writes them (lower camel case, list items as `tags.1.member.tagKey`); a
 * problem inside a map is reported on the map member, as AWS does ("Map value must satisfy constraint: [...]"),
 * because map keys are caller data, not member names.
 * The offending value is shown as AWS shows it (`Value '…'`, `Value null` when missing) only for a string,
 * number or boolean member that is not sensitive: never for a member marked sensitive in the schema (the
 * service model's `sensitive` trait, core/shapes.ts markSensitive) or inside one, never for a member whose name
 * says it holds a secret, a blob, a map's content, a list or a structure ("Value at '…'"). So a secret sent in
 * the wrong member can't come back in an error, an audit event or a log.
 * Pass the schema that was parsed, and the input it was given, so map and sensitive members can be told apart.
 */
export function validationError(error: ZodError, schema?: ZodType, input?: unknown): AwsError {
  const issues = error.issues.slice(0, 10);
  const parts = issues.map((issue) => {
    const { path, inMap, sensitive, blob } = memberPath(issue.path, schema);
    const constraint = inMap ? mapConstraint(issue) : issue.message;
    const missing = !inMap && issue.message === 'Member must not be null';
    const shown = missing || inMap || sensitive || blob ? undefined : shownValue(valueAt(input, issue.path));
    const value = missing ? ' null' : shown === undefined ? '' : ` '${shown}'`;
    return `Value${value} at '${path}' failed to satisfy constraint: ${constraint}`;
  });
  const count = issues.length;
  return commonError('ValidationException', `${count} validation error${count === 1 ? '' : 's'} detected: ${parts.join('; ')}`);
}

/** Member names that hold a secret whatever their schema says (the same families the audit redaction drops). */
const SENSITIVE_NAME = /password|plaintext|secretstring|secretbinary|privatekey|secretaccesskey|sharedsecret|keymaterial|credential|sessiontoken/i;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment as string];
  }
  return current;
}

/** How AWS prints a scalar value; undefined for anything else. */
function shownValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function mapConstraint(issue: Issue): string {
  if (issue.code === 'invalid_key') {
    return `Map keys must satisfy constraint: [${issue.issues.map((inner) => inner.message).join(', ')}]`;
  }
  return `Map value must satisfy constraint: [${issue.message}]`;
}

/**
 * The AWS member path of an issue, cut at the first map member (the segments after it are map keys), and whether
 * the member or one around it is sensitive (by its schema's mark or by its name) or a blob.
 */
function memberPath(path: readonly PropertyKey[], schema: ZodType | undefined): { path: string; inMap: boolean; sensitive: boolean; blob: boolean } {
  const segments: string[] = [];
  let current = schema;
  let sensitive = current !== undefined && chainIsSensitive(current);
  for (const segment of path) {
    current = unwrap(current);
    if (current && defOf(current).type === 'record') return { path: segments.join('.'), inMap: true, sensitive, blob: false };
    if (typeof segment === 'number') {
      segments.push(`${segment + 1}.member`);
      current = current && defOf(current).type === 'array' ? (defOf(current).element as ZodType) : undefined;
    } else {
      segments.push(lowerFirst(String(segment)));
      if (SENSITIVE_NAME.test(String(segment))) sensitive = true;
      const shape = current && defOf(current).type === 'object' ? (defOf(current).shape as Record<string, ZodType>) : undefined;
      current = shape?.[String(segment)];
    }
    if (current && chainIsSensitive(current)) sensitive = true;
  }
  // Without the schema, or for a member it does not describe, nothing is shown: only a checked member's value is.
  if (current === undefined) sensitive = true;
  return { path: segments.join('.'), inMap: false, sensitive, blob: current !== undefined && isBlob(current) };
}

/** Whether a schema, or one it wraps (optional, default, pipe), carries the sensitive mark. */
function chainIsSensitive(schema: ZodType): boolean {
  let current: ZodType | undefined = schema;
  for (let depth = 0; current && depth < 20; depth++) {
    if (isMarkedSensitive(current)) return true;
    const def = defOf(current);
    current = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  }
  return false;
}

/** A blob member (core/shapes.ts awsBlob), or one wrapping it. */
function isBlob(schema: ZodType): boolean {
  let current: ZodType | undefined = schema;
  for (let depth = 0; current && depth < 20; depth++) {
    if (isMarkedBlob(current)) return true;
    const def = defOf(current);
    current = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  }
  return false;
}

type Def = { type: string; innerType?: ZodType; in?: ZodType; element?: ZodType; shape?: Record<string, ZodType> };

function defOf(schema: ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Looks through optional, nullable, default and pipe (refine/transform) wrappers to the shape inside. */
function unwrap(schema: ZodType | undefined): ZodType | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 20; depth++) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
  return current;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
