import type { ParameterType } from '../store/index.js';
import { ssmError } from './errors.js';

/**
 * PutParameter's rules for values, tiers, data types and parameter policies: pure functions, unit-tested in
 * test/unit/ssm/. https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-policies.html
 */

export const TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const;
export type Tier = 'Standard' | 'Advanced';

export const STANDARD_VALUE_BYTES = 4096;
export const ADVANCED_VALUE_BYTES = 8192;
export const MAX_POLICIES = 10;
export const DATA_TYPES = ['text', 'aws:ec2:image', 'aws:ssm:integration'] as const;

/**
 * The tier a write lands in: the one asked for, Intelligent-Tiering choosing Advanced only when the value or
 * policies need it; an Advanced parameter never goes back to Standard.
 */
export function resolveTier(asked: string | undefined, valueBytes: number, hasPolicies: boolean, current: string | undefined): Tier {
  const needsAdvanced = valueBytes > STANDARD_VALUE_BYTES || hasPolicies;
  let tier: Tier;
  if (asked === 'Advanced') tier = 'Advanced';
  else if (asked === 'Intelligent-Tiering') tier = needsAdvanced || current === 'Advanced' ? 'Advanced' : 'Standard';
  else if (asked === 'Standard') tier = 'Standard';
  else tier = current === 'Advanced' ? 'Advanced' : 'Standard';
  if (tier === 'Standard' && current === 'Advanced') {
    throw ssmError(
      'ValidationException',
      "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
    );
  }
  return tier;
}

/** Standard values hold at most 4 KB, Advanced 8 KB. */
export function assertValueFits(tier: Tier, valueBytes: number): void {
  if (tier === 'Standard' && valueBytes > STANDARD_VALUE_BYTES) {
    throw ssmError(
      'ValidationException',
      `Standard tier parameters support a maximum parameter value of ${STANDARD_VALUE_BYTES} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`,
    );
  }
  if (valueBytes > ADVANCED_VALUE_BYTES) {
    throw ssmError('ValidationException', `Advanced tier parameters support a maximum parameter value of ${ADVANCED_VALUE_BYTES} characters.`);
  }
}

/** Values may not nest other parameters (`{{ssm:name}}`, any `{{...}}`). */
export function assertNotNested(value: string): void {
  if (/\{\{.*\}\}/s.test(value)) throw ssmError('ValidationException', 'Parameter value can\'t nest another parameter. Do not use "{{}}" in the value.');
}

/** The data type is known, and `aws:ec2:image` holds an AMI id on a String parameter. */
export function assertDataType(dataType: string, type: ParameterType, value: string): void {
  if (!(DATA_TYPES as readonly string[]).includes(dataType)) {
    throw ssmError('ValidationException', `The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
  }
  if (dataType === 'aws:ec2:image') {
    if (type !== 'String') throw ssmError('ValidationException', 'The aws:ec2:image data type is supported only for parameters of type String.');
    if (!/^ami-[a-z0-9]{8,17}$/.test(value)) throw ssmError('ValidationException', 'Parameter value is not a valid AMI id (ami-12345abcdeEXAMPLE).');
  }
}

const POLICY_TYPES = ['Expiration', 'ExpirationNotification', 'NoChangeNotification'] as const;
const UNITS = ['Days', 'Hours'];

export type ParsedPolicies = {
  /** The JSON text of the list as stored (each policy as given). */
  text: string;
  /** When the Expiration policy deletes the parameter. */
  expiresAt?: Date;
};

/**
 * Parses the Policies member: a JSON list of at most 10 policies, each `{Type, Version: "1.0", Attributes}`, at
 * most one of each type. Expiration needs a Timestamp in the future; the notifications a positive whole number
 * (`Before` / `After`) of Days or Hours.
 */
export function parsePolicies(text: string, now: Date): ParsedPolicies {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw ssmError('InvalidPolicyAttributeException', 'Parameter policies must be a JSON list of policies.');
  }
  if (!Array.isArray(list)) throw ssmError('InvalidPolicyAttributeException', 'Parameter policies must be a JSON list of policies.');
  if (list.length > MAX_POLICIES) throw ssmError('PoliciesLimitExceededException', `A parameter can have a maximum of ${MAX_POLICIES} policies.`);
  const seen = new Set<string>();
  let expiresAt: Date | undefined;
  for (const policy of list as Array<Record<string, any>>) {
    const type = policy?.Type;
    if (!(POLICY_TYPES as readonly string[]).includes(type)) {
      throw ssmError('InvalidPolicyTypeException', 'The policy type is not supported. Parameter Store supports the following policy types: Expiration, ExpirationNotification, and NoChangeNotification.');
    }
    if (seen.has(type)) throw ssmError('IncompatiblePolicyException', `You can specify only one ${type} policy for a parameter.`);
    seen.add(type);
    if (policy.Version !== undefined && policy.Version !== '1.0') throw ssmError('InvalidPolicyAttributeException', 'The policy Version must be 1.0.');
    const attributes = policy.Attributes;
    if (attributes === null || typeof attributes !== 'object') throw ssmError('InvalidPolicyAttributeException', `The ${type} policy needs Attributes.`);
    if (type === 'Expiration') expiresAt = expirationOf(attributes, now);
    else assertPeriod(type, attributes, type === 'ExpirationNotification' ? 'Before' : 'After');
  }
  if (seen.has('ExpirationNotification') && !seen.has('Expiration')) {
    throw ssmError('IncompatiblePolicyException', 'An ExpirationNotification policy needs an Expiration policy.');
  }
  return { text, expiresAt };
}

function expirationOf(attributes: Record<string, unknown>, now: Date): Date {
  const timestamp = attributes.Timestamp;
  const expiresAt = typeof timestamp === 'string' ? new Date(timestamp) : undefined;
  if (!expiresAt || Number.isNaN(expiresAt.getTime())) {
    throw ssmError('InvalidPolicyAttributeException', 'The Expiration policy needs a Timestamp in ISO 8601 format.');
  }
  if (expiresAt <= now) throw ssmError('InvalidPolicyAttributeException', 'The Expiration policy Timestamp must be in the future.');
  return expiresAt;
}

function assertPeriod(type: string, attributes: Record<string, unknown>, member: 'Before' | 'After'): void {
  const amount = attributes[member];
  if (typeof amount !== 'string' || !/^[1-9]\d*$/.test(amount)) {
    throw ssmError('InvalidPolicyAttributeException', `The ${type} policy needs ${member} as a positive whole number.`);
  }
  if (!UNITS.includes(attributes.Unit as string)) throw ssmError('InvalidPolicyAttributeException', `The ${type} policy Unit must be Days or Hours.`);
}

/** Policies as GetParameterHistory and DescribeParameters show them: one entry per policy, with its state. */
export function policyViews(text: string | undefined): Array<{ PolicyText: string; PolicyType: string; PolicyStatus: string }> | undefined {
  if (text === undefined) return undefined;
  const list = JSON.parse(text) as Array<Record<string, unknown>>;
  return list.map((policy) => ({ PolicyText: JSON.stringify(policy), PolicyType: String(policy.Type), PolicyStatus: 'Pending' }));
}
