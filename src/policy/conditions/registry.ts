/**
 * Resolves an operator name (`ForAnyValue:StringLikeIfExists`) to its family's spec and builds the test of one
 * condition key, applying AWS's rules for absent keys, IfExists and the set prefixes.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
import { arnOperators } from './arn.js';
import { booleanOperators } from './boolean.js';
import { dateOperators } from './date.js';
import { ipAddressOperators } from './ip-address.js';
import { NULL_OPERATOR, prepareNull } from './null-check.js';
import { numericOperators } from './numeric.js';
import type { OperatorSpec, OperatorTable } from './operator.js';
import { stringOperators } from './string.js';

const families: readonly OperatorTable[] = [
  stringOperators,
  numericOperators,
  dateOperators,
  booleanOperators,
  arnOperators,
  ipAddressOperators,
];

const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map(families.flatMap((table) => Object.entries(table)));

/** Every base operator name Coffer understands (without prefix or suffix). */
export const OPERATOR_NAMES: readonly string[] = [...OPERATORS.keys(), NULL_OPERATOR];

export const SET_OPERATORS = ['ForAnyValue', 'ForAllValues'] as const;
export type SetOperator = (typeof SET_OPERATORS)[number];

export type ParsedOperator = {
  readonly name: string;
  readonly base: string;
  readonly set: SetOperator | undefined;
  readonly ifExists: boolean;
};

/**
 * The test of one condition key against the request context; `values` is undefined when the key is absent.
 * An empty list counts as absent.
 */
export type KeyTest = (values: readonly string[] | undefined) => boolean;

export type OperatorProblem = { readonly issue: 'INVALID_CONDITION_OPERATOR' | 'NULL_WITH_IF_EXISTS'; readonly message: string };

export function parseOperator(name: string): ParsedOperator | OperatorProblem {
  let rest = name;
  let set: SetOperator | undefined;
  for (const prefix of SET_OPERATORS) {
    if (rest.startsWith(`${prefix}:`)) {
      set = prefix;
      rest = rest.slice(prefix.length + 1);
      break;
    }
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (rest === NULL_OPERATOR) {
    if (ifExists) return { issue: 'NULL_WITH_IF_EXISTS', message: 'The Null operator cannot take the IfExists suffix.' };
    if (set) return { issue: 'INVALID_CONDITION_OPERATOR', message: `The Null operator cannot take the ${set} prefix.` };
    return { name, base: rest, set, ifExists };
  }
  if (!OPERATORS.has(rest)) return { issue: 'INVALID_CONDITION_OPERATOR', message: `The condition operator ${name} is not valid.` };
  return { name, base: rest, set, ifExists };
}

/** Builds the test for one key, or a message when a policy value is malformed for the operator. */
export function buildKeyTest(operator: ParsedOperator, policyValues: readonly string[]): KeyTest | string {
  if (operator.base === NULL_OPERATOR) {
    const presence = prepareNull(policyValues);
    if (typeof presence === 'string') return presence;
    return (values) => presence(values !== undefined && values.length > 0);
  }
  const spec = OPERATORS.get(operator.base);
  if (!spec) return `The condition operator ${operator.name} is not valid.`;
  const match = spec.prepare(policyValues);
  if (typeof match === 'string') return match;
  const { negated } = spec;
  const holds = negated ? (value: string) => !match(value) : match;
  const { set, ifExists } = operator;
  return (values) => {
    if (values === undefined || values.length === 0) {
      // "If the key that you specify in a policy condition is not present in the request context, the values do
      // not match and the condition is false. If the policy condition requires that the key is not matched, such
      // as StringNotLike or ArnNotLike, and the right key is not present, the condition is true." (operators page)
      // ForAllValues: "It also returns true if there are no context keys in the request." (multivalued keys page)
      // ForAnyValue on an absent key is false, even with IfExists, as AWS answers in practice:
      // https://repost.aws/questions/QU9HFmDzP0QGuU-fd7rS6B7w/foranyvalue-stringequalsifexists-behaving-unexpectedly
      // Otherwise IfExists makes an absent key true.
      if (set === 'ForAllValues') return true;
      if (set === 'ForAnyValue') return false;
      if (ifExists) return true;
      return negated;
    }
    if (set === 'ForAllValues') return values.every(holds);
    if (set === 'ForAnyValue') return values.some(holds);
    // A plain operator on a key with several values: a positive operator needs one value to match, a negated one
    // needs no value to match (the safe reading; AWS asks for a set operator on multivalued keys).
    return negated ? !values.some(match) : values.some(match);
  };
}
