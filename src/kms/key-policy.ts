import { accountRootArn } from '../core/index.js';
import { kmsError } from './errors.js';

/**
 * The policy CreateKey attaches when none is given: the account root may do everything, which delegates
 * access to IAM policies, exactly as AWS writes it.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export function defaultKeyPolicy(accountId: string): string {
  const policy = {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: accountRootArn(accountId) },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
  return JSON.stringify(policy, null, 2);
}

export const DEFAULT_POLICY_NAME = 'default';

/**
 * Structural checks of a key policy document. Full policy-language validation and enforcement arrive
 * with the access-control work; until then a policy must at least be a JSON object with statements.
 */
export function assertWellFormedPolicy(policy: string): void {
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch {
    throw kmsError('MalformedPolicyDocumentException', 'The new key policy is not valid JSON.');
  }
  const statements = (document as { Statement?: unknown } | null)?.Statement;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw kmsError('MalformedPolicyDocumentException', 'The new key policy must be a JSON object.');
  }
  if (typeof statements !== 'object' || statements === null) {
    throw kmsError('MalformedPolicyDocumentException', 'The new key policy must contain a Statement.');
  }
}
