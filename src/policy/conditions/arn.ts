/**
 * ARN condition operators. ArnEquals and ArnLike behave alike in AWS: both compare the six colon-separated parts
 * separately, case-sensitively, with `*` and `?` wildcards inside a part.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 */
import { anyArnMatcher } from '../wildcard.js';
import type { OperatorSpec, OperatorTable } from './operator.js';

const arnLike = (negated: boolean): OperatorSpec => ({
  negated,
  prepare: (policyValues) => anyArnMatcher(policyValues),
});

export const arnOperators: OperatorTable = {
  ArnEquals: arnLike(false),
  ArnLike: arnLike(false),
  ArnNotEquals: arnLike(true),
  ArnNotLike: arnLike(true),
};
