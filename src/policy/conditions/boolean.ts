/**
 * The Bool operator: `true` or `false`, case-insensitive (`aws:SecureTransport`, `aws:ViaAWSService`).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
 */
import { comparing, type OperatorTable } from './operator.js';

export function parseBool(raw: string): boolean | undefined {
  const lower = raw.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

export const booleanOperators: OperatorTable = {
  Bool: comparing(false, parseBool, 'boolean', (c, p) => c === p),
};
