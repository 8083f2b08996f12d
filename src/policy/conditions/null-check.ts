/**
 * The Null operator tests presence, not value: `"Null": {"k": "true"}` is true when k is absent from the request
 * context (or an empty list), `"false"` when it is present. It takes no IfExists suffix and no set prefix.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
 */
import { parseBool } from './boolean.js';

export const NULL_OPERATOR = 'Null';

/** The presence test for one key, or a message naming the malformed policy value. */
export function prepareNull(policyValues: readonly string[]): ((present: boolean) => boolean) | string {
  const wanted: boolean[] = [];
  for (const raw of policyValues) {
    const value = parseBool(raw);
    if (value === undefined) return `the value "${raw}" is not true or false`;
    wanted.push(value);
  }
  return (present) => wanted.some((absentWanted) => absentWanted === !present);
}
