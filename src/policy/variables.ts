/**
 * Policy variables: `${aws:username}` in a Resource/NotResource entry or in the value of a String or ARN condition
 * is replaced by that key's value in the request context, once, when the statement is evaluated.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 * - Only in policies with `"Version": "2012-10-17"`; in older (or missing) versions the text is literal.
 * - `${*}`, `${?}`, `${$}` stand for a literal `*`, `?`, `$` (never a wildcard).
 * - `${key, 'default'}` uses the default when the key has no single value (`''` inside the quotes is one quote).
 * - A key that is absent or multivalued ("You can't use a multivalued condition key as a variable") leaves the
 *   value without one: "the value is effectively null. There is no equal or like value", so a Resource entry
 *   holding it matches no resource, StringEquals/StringLike do not match it and StringNotEquals/StringNotLike do.
 * - Substituted values and defaults are literal text: a `*` or `?` in them is not a wildcard (Coffer's choice; AWS
 *   does not say, and IAM names and tag values cannot hold them).
 * - Substitution happens in every part of an ARN, not only after the fifth colon: AWS forbids variables there,
 *   and a Deny written that way should still apply rather than compare `${...}` as text.
 */
import type { NormalizedContext } from './context-keys.js';
import { literalWildcards } from './wildcard.js';

/** A piece of a policy value: text as written (wildcards active), a fixed character, or a variable. */
type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'variable'; readonly key: string; readonly fallback: string | undefined };

export type Template = readonly TemplatePart[];

const VARIABLE_BODY = /^\s*([^\s,'{}]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$/;
const SPECIAL_CHARACTERS = new Set(['*', '?', '$']);

/** True when a policy value contains something that may be a variable. */
export function hasVariable(value: string): boolean {
  return value.includes('${');
}

/** Splits a policy value into text, fixed characters and variables. Malformed `${...` stays text. */
export function parseTemplate(value: string): Template {
  const parts: TemplatePart[] = [];
  let text = '';
  let index = 0;
  while (index < value.length) {
    const start = value.indexOf('${', index);
    if (start < 0) break;
    const end = closingBrace(value, start + 2);
    if (end < 0) break;
    const part = variablePart(value.slice(start + 2, end));
    if (part) {
      text += value.slice(index, start);
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push(part);
    } else {
      text += value.slice(index, end + 1);
    }
    index = end + 1;
  }
  text += value.slice(index);
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

/** The keys (lower case) a template reads, so a caller can load costly keys (resource tags) it needs. */
export function templateKeys(template: Template): string[] {
  return template.flatMap((part) => (part.kind === 'variable' ? [part.key] : []));
}

/**
 * The value with its variables replaced, or undefined when a variable has no value and no default (the value is
 * null). `forGlob`: the result goes to a wildcard matcher, so fixed and substituted characters are marked
 * literal; otherwise it is plain text for an exact comparison.
 */
export function resolveTemplate(template: Template, context: NormalizedContext, forGlob: boolean): string | undefined {
  let result = '';
  for (const part of template) {
    if (part.kind === 'text') {
      result += part.text;
      continue;
    }
    const value = part.kind === 'literal' ? part.text : (singleValue(context, part.key) ?? part.fallback);
    if (value === undefined) return undefined;
    result += forGlob ? literalWildcards(value) : value;
  }
  return result;
}

function singleValue(context: NormalizedContext, key: string): string | undefined {
  const values = context.get(key);
  if (values === undefined || values.length !== 1 || context.multivalued.has(key)) return undefined;
  return values[0];
}

/** The index of the `}` closing a variable opened before `from`, skipping quoted defaults; -1 when none. */
function closingBrace(value: string, from: number): number {
  let quoted = false;
  for (let index = from; index < value.length; index++) {
    const char = value[index];
    if (char === "'") quoted = !quoted;
    else if (char === '}' && !quoted) return index;
  }
  return -1;
}

function variablePart(body: string): TemplatePart | undefined {
  if (SPECIAL_CHARACTERS.has(body)) return { kind: 'literal', text: body };
  const match = VARIABLE_BODY.exec(body);
  if (!match || !match[1]!.includes(':')) return undefined;
  return { kind: 'variable', key: match[1]!.toLowerCase(), fallback: match[2]?.replaceAll("''", "'") };
}
