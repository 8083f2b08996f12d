import type { ZodError, ZodType } from 'zod';
import { commonError, type AwsError } from '../core/index.js';

type Issue = ZodError['issues'][number];

/**
 * Turns zod issues into AWS's ValidationException text:
 * "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null".
 * Member paths are written as AWS writes them (lower camel case, list items as `tags.1.member.tagKey`); a
 * problem inside a map is reported on the map member, as AWS does ("Map value must satisfy constraint: [...]"),
 * because map keys are caller data, not member names.
 * Safe choice where AWS echoes the offending value: Coffer never does, so a secret sent in the wrong
 * member can't come back in an error or a log; only a missing value is shown, as `null`.
 * Pass the schema that was parsed so map members can be told apart from structure members.
 */
export function validationError(error: ZodError, schema?: ZodType): AwsError {
  const issues = error.issues.slice(0, 10);
  const parts = issues.map((issue) => {
    const { path, inMap } = memberPath(issue.path, schema);
    const constraint = inMap ? mapConstraint(issue) : issue.message;
    const missing = !inMap && issue.message === 'Member must not be null';
    return `Value${missing ? ' null' : ''} at '${path}' failed to satisfy constraint: ${constraint}`;
  });
  const count = issues.length;
  return commonError('ValidationException', `${count} validation error${count === 1 ? '' : 's'} detected: ${parts.join('; ')}`);
}

function mapConstraint(issue: Issue): string {
  if (issue.code === 'invalid_key') {
    return `Map keys must satisfy constraint: [${issue.issues.map((inner) => inner.message).join(', ')}]`;
  }
  return `Map value must satisfy constraint: [${issue.message}]`;
}

/** The AWS member path of an issue, cut at the first map member (the segments after it are map keys). */
function memberPath(path: readonly PropertyKey[], schema: ZodType | undefined): { path: string; inMap: boolean } {
  const segments: string[] = [];
  let current = schema;
  for (const segment of path) {
    current = unwrap(current);
    if (current && defOf(current).type === 'record') return { path: segments.join('.'), inMap: true };
    if (typeof segment === 'number') {
      segments.push(`${segment + 1}.member`);
      current = current && defOf(current).type === 'array' ? (defOf(current).element as ZodType) : undefined;
    } else {
      segments.push(lowerFirst(String(segment)));
      const shape = current && defOf(current).type === 'object' ? (defOf(current).shape as Record<string, ZodType>) : undefined;
      current = shape?.[String(segment)];
    }
  }
  return { path: segments.join('.'), inMap: false };
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
