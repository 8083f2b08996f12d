/**
 * The request context as conditions see it: key names lower-cased ("Context key names are not case-sensitive"),
 * values as lists of strings (their case kept: "Case-sensitivity of context key values depends on the condition
 * operator"). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 */
import type { AuthorizationRequest, ContextValue, RequestContextValues } from './types.js';

/** Keys to their values; `multivalued` names the keys given as lists, which cannot be policy variables. */
export type NormalizedContext = ReadonlyMap<string, readonly string[]> & { readonly multivalued: ReadonlySet<string> };

function toStrings(value: Exclude<ContextValue, undefined>): readonly string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'boolean' || typeof value === 'number') return [String(value)];
  return value;
}

/**
 * Normalizes the context once per request. `aws:PrincipalArn` and `aws:PrincipalAccount`, which AWS always
 * sets, are filled from the request's principal when the caller left them out (`aws:PrincipalArn` of a role
 * session is the role's ARN).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 */
export function normalizeContext(request: AuthorizationRequest): NormalizedContext {
  const multivalued = new Set<string>();
  const context = Object.assign(new Map<string, readonly string[]>(), { multivalued });
  const values = request.context;
  for (const key in values) {
    const value = values[key];
    if (value === undefined) continue;
    const name = lowerCaseKey(key);
    context.set(name, toStrings(value));
    if (Array.isArray(value)) multivalued.add(name);
  }
  if (request.principal.service === undefined) {
    if (!context.has('aws:principalarn')) context.set('aws:principalarn', [request.principal.roleArn ?? request.principal.arn]);
    if (!context.has('aws:principalaccount')) context.set('aws:principalaccount', [request.principal.accountId]);
  }
  return context;
}

/**
 * Lower-cased key names, remembered: the same few dozen names (aws:CurrentTime, kms:ViaService, ...) come with
 * every request. Bounded, since tag and encryption context keys are the caller's: past the bound a name is
 * lower-cased each time.
 */
const LOWER_CASE_KEYS = new Map<string, string>();
const MAX_REMEMBERED_KEYS = 1_024;

function lowerCaseKey(key: string): string {
  let lower = LOWER_CASE_KEYS.get(key);
  if (lower === undefined) {
    lower = key.toLowerCase();
    if (LOWER_CASE_KEYS.size < MAX_REMEMBERED_KEYS) LOWER_CASE_KEYS.set(key, lower);
  }
  return lower;
}

/**
 * The tag keys of a request that sets or removes tags: aws:RequestTag/<key> for each tag set, and aws:TagKeys,
 * the list of keys set or removed. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requesttag
 */
export function requestTagContext(tags: ReadonlyArray<readonly [key: string, value: string | undefined]>): RequestContextValues {
  const context: Record<string, ContextValue> = { 'aws:TagKeys': tags.map(([key]) => key) };
  for (const [key, value] of tags) if (value !== undefined) context[`aws:RequestTag/${key}`] = value;
  return context;
}
