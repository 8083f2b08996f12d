/**
 * String condition operators. Equals compares exactly and case-sensitively; IgnoreCase folds case; Like accepts
 * `*` and `?` wildcards (case-sensitive).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
 * Policy variables (`${aws:username}`) are substituted before these tests see the values (variables.ts).
 */
import { globMatcher } from '../wildcard.js';
import type { OperatorSpec, OperatorTable } from './operator.js';

const equals = (negated: boolean): OperatorSpec => ({
  negated,
  prepare(policyValues) {
    const values = new Set(policyValues);
    return (contextValue) => values.has(contextValue);
  },
});

const equalsIgnoreCase = (negated: boolean): OperatorSpec => ({
  negated,
  prepare(policyValues) {
    const values = new Set(policyValues.map((value) => value.toLowerCase()));
    return (contextValue) => values.has(contextValue.toLowerCase());
  },
});

const like = (negated: boolean): OperatorSpec => ({
  negated,
  prepare: (policyValues) => globMatcher(policyValues, { ignoreCase: false }),
});

export const stringOperators: OperatorTable = {
  StringEquals: equals(false),
  StringNotEquals: equals(true),
  StringEqualsIgnoreCase: equalsIgnoreCase(false),
  StringNotEqualsIgnoreCase: equalsIgnoreCase(true),
  StringLike: like(false),
  StringNotLike: like(true),
};
