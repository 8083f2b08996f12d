/**
 * Numeric condition operators: integers and decimals, compared as numbers. A policy value that is not a number is
 * a finding; a context value that is not a number matches nothing.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
 */
import { comparing, type OperatorTable } from './operator.js';

const NUMBER = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

export function parseNumber(raw: string): number | undefined {
  return NUMBER.test(raw) ? Number(raw) : undefined;
}

export const numericOperators: OperatorTable = {
  NumericEquals: comparing(false, parseNumber, 'number', (c, p) => c === p),
  NumericNotEquals: comparing(true, parseNumber, 'number', (c, p) => c === p),
  NumericLessThan: comparing(false, parseNumber, 'number', (c, p) => c < p),
  NumericLessThanEquals: comparing(false, parseNumber, 'number', (c, p) => c <= p),
  NumericGreaterThan: comparing(false, parseNumber, 'number', (c, p) => c > p),
  NumericGreaterThanEquals: comparing(false, parseNumber, 'number', (c, p) => c >= p),
};
