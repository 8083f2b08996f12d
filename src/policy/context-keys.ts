/**
 * The request context as conditions see it: key names lower-cased ("Context key names are not case-sensitive"),
 * values as lists of strings (their case kept: "Case-sensitivity of context key values depends on the condition
 * operator"). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 */
import type { AuthorizationRequest, ContextValue, RequestContextValues } from './types.js';

/**
 * The request context by lower-cased key name: its values as strings, and whether the request gave it as a list
 * (`multivalued`; such a key cannot be a policy variable). Only what evaluation and simulation ask of it.
 */
export interface NormalizedContext {
  get(key: string): readonly string[] | undefined;
  has(key: string): boolean;
  readonly multivalued: { has(key: string): boolean };
}

function toStrings(value: Exclude<ContextValue, undefined>): readonly string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'boolean' || typeof value === 'number') return [String(value)];
  return value;
}

/**
 * The request's context as conditions see it. `aws:PrincipalArn` and `aws:PrincipalAccount`, which AWS always
 * sets, are filled from the request's principal when the caller left them out (`aws:PrincipalArn` of a role
 * session is the role's ARN).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 */
export function normalizeContext(request: AuthorizationRequest, derived?: DerivedContextKeys): NormalizedContext {
  return new LazyContext(request, derived);
}

/**
 * Keys a checker can tell without building them all (access.ts: the global keys of a check), asked by lower-cased
 * name only when `request.context` has no defined value under that name. `own` is `request.context`, for the rule
 * that a key it lists with an undefined value hides the derived key of exactly that name, as an assignment of
 * undefined over a built record would.
 */
export type DerivedContextKeys = (key: string, own: RequestContextValues) => ContextValue;

/**
 * Reads a key when a condition or policy variable first asks for it, and remembers it for the rest of the
 * request: a request's context holds some twenty global keys, and a policy's conditions read one or two, so
 * converting and lower-casing all of them up front (as a Map did) was most of a KMS check's cost. When two
 * names differ only in case, the later defined one wins, as it did in the Map.
 */
class LazyContext implements NormalizedContext {
  readonly #request: AuthorizationRequest;
  readonly #derived: DerivedContextKeys | undefined;
  readonly #read = new Map<string, { values: readonly string[]; multivalued: boolean } | null>();
  readonly multivalued = { has: (key: string): boolean => this.#entry(key)?.multivalued === true };

  constructor(request: AuthorizationRequest, derived: DerivedContextKeys | undefined) {
    this.#request = request;
    this.#derived = derived;
  }

  get(key: string): readonly string[] | undefined {
    return this.#entry(key)?.values;
  }

  has(key: string): boolean {
    return this.#entry(key) !== undefined;
  }

  #entry(key: string): { values: readonly string[]; multivalued: boolean } | undefined {
    let entry = this.#read.get(key);
    if (entry === undefined) {
      entry = this.#find(key) ?? null;
      this.#read.set(key, entry);
    }
    return entry ?? undefined;
  }

  #find(key: string): { values: readonly string[]; multivalued: boolean } | undefined {
    const values = this.#request.context;
    let found: Exclude<ContextValue, undefined> | undefined;
    for (const name in values) {
      const value = values[name];
      if (value !== undefined && lowerCaseKey(name) === key) found = value;
    }
    found ??= this.#derived?.(key, values);
    if (found !== undefined) return { values: toStrings(found), multivalued: Array.isArray(found) };
    const principal = this.#request.principal;
    if (principal.service !== undefined) return undefined;
    if (key === 'aws:principalarn') return { values: [principal.roleArn ?? principal.arn], multivalued: false };
    if (key === 'aws:principalaccount') return { values: [principal.accountId], multivalued: false };
    return undefined;
  }
}

/**
 * Lower-cased key names, remembered: the same few dozen names (aws:CurrentTime, kms:ViaService, ...) come with
 * every request. Bounded, since tag and encryption context keys are the caller's: past the bound a name is
 * lower-cased each time.
 */
const LOWER_CASE_KEYS = new Map<string, string>();
const MAX_REMEMBERED_KEYS = 1_024;

export function lowerCaseKey(key: string): string {
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
