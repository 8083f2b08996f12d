import { accountRootArn } from '../core/index.js';
import { parsePolicy, validatePolicy, type PolicyFinding, type PrincipalSpec } from '../policy/index.js';
import type { IamPrincipalDirectory } from './ports.js';
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

const SERVICE_TITLES: Record<string, string> = { secretsmanager: 'AWS Secrets Manager', lambda: 'AWS Lambda', ssm: 'AWS Systems Manager' };

/**
 * The key policy of an AWS managed key (`alias/aws/<service>`), as AWS writes it for aws/secretsmanager: any
 * principal of the owning account may use the key, but only through the service (kms:ViaService) and only
 * from the owning account (kms:CallerAccount), so the key can't be used directly nor across accounts; the
 * account may read the key's metadata and revoke grants.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html (key policy of aws/secretsmanager)
 * Migration 7 (store/sqlite/migrations.ts) writes this same text into managed keys made before it.
 */
export function awsManagedKeyPolicy(accountId: string, region: string, service: string): string {
  const title = SERVICE_TITLES[service] ?? service;
  const viaService = `${service}.${region}.amazonaws.com`;
  const sid = `Allow access through ${title} for all principals in the account that are authorized to use ${title}`;
  const policy = {
    Id: `auto-${service}-2`,
    Version: '2012-10-17',
    Statement: [
      {
        Sid: sid,
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': viaService } },
      },
      {
        Sid: sid,
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': accountId }, StringLike: { 'kms:ViaService': viaService } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: [accountRootArn(accountId)] },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
        Resource: '*',
      },
    ],
  };
  return JSON.stringify(policy, null, 2);
}

export const DEFAULT_POLICY_NAME = 'default';

/**
 * Findings that do not make a key policy malformed. AWS: "If either of the required Resource or Action elements
 * are missing from a key policy statement, the policy statement has no effect ... the CreateKey and PutKeyPolicy
 * API requests succeed" (CreateKey's Policy parameter). A statement without Resource simply matches nothing.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 * Duplicate Sids are tolerated too: AWS's own aws/secretsmanager key policy uses one Sid for two statements.
 */
const TOLERATED = new Set(['MISSING_RESOURCE', 'UNIQUE_SIDS_REQUIRED']);

/**
 * Validates a key policy with the policy engine: a resource policy whose every statement names a principal.
 * Throws MalformedPolicyDocumentException naming the first error and where it is.
 */
export function assertValidKeyPolicy(policy: string): void {
  const errors = validatePolicy(policy, 'RESOURCE_POLICY').filter(
    (finding) => finding.FindingType === 'ERROR' && !TOLERATED.has(finding.IssueCode),
  );
  if (errors.length > 0) throw kmsError('MalformedPolicyDocumentException', malformedMessage(errors));
}

function malformedMessage(errors: readonly PolicyFinding[]): string {
  const [first] = errors;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  return `The key policy is not valid: ${first!.FindingDetails}${more}`;
}

/** AWS's message when a new key policy would lock the caller out of PutKeyPolicy (the lockout safety check). */
export const LOCKOUT_MESSAGE = 'The new key policy will not allow you to update the key policy in the future.';

/**
 * The text to compile a stored key policy from. The policy engine refuses duplicate Sids, which key policies
 * may have (see TOLERATED): such statements get distinct Sids (`<Sid>#<index>`) for evaluation only; the
 * stored and returned text stays as written. Any other text is returned unchanged.
 */
export function evaluableKeyPolicy(text: string): string {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return text;
  }
  const statements = (document as { Statement?: unknown }).Statement;
  if (!Array.isArray(statements)) return text;
  const seen = new Set<unknown>();
  let renamed = false;
  const distinct = statements.map((statement: unknown, index) => {
    const sid = (statement as { Sid?: unknown } | null)?.Sid;
    if (sid === undefined || !seen.has(sid)) {
      seen.add(sid);
      return statement;
    }
    renamed = true;
    return { ...(statement as object), Sid: `${String(sid)}#${index}` };
  });
  return renamed ? JSON.stringify({ ...(document as object), Statement: distinct }) : text;
}

/** AWS's message when a key policy names a principal that does not exist. */
export const INVALID_PRINCIPALS_MESSAGE = 'Policy contains a statement with one or more invalid principals.';

/**
 * "The principals in the key policy must exist and be visible to KMS" (CreateKey, Policy): every IAM user and
 * role a valid key policy names (Principal or NotPrincipal) must exist with that ARN, path included. Accounts,
 * account roots, role sessions and `*` are not checked; a wildcard inside a principal ARN is never valid.
 * MalformedPolicyDocumentException otherwise, as AWS answers.
 */
export async function assertPrincipalsExist(principals: IamPrincipalDirectory, policy: string): Promise<void> {
  const { document } = parsePolicy(policy);
  if (!document) return;
  for (const statement of document.Statement) {
    for (const arn of awsPrincipals(statement.Principal).concat(awsPrincipals(statement.NotPrincipal))) {
      if (!(await principalExists(principals, arn))) throw kmsError('MalformedPolicyDocumentException', INVALID_PRINCIPALS_MESSAGE);
    }
  }
}

function awsPrincipals(spec: PrincipalSpec | undefined): readonly string[] {
  return spec === undefined || spec === '*' ? [] : (spec.AWS ?? []);
}

/** Only IAM users and roles are looked up (through IAM's port); accounts, roots and role sessions pass. */
async function principalExists(principals: IamPrincipalDirectory, arn: string): Promise<boolean> {
  if (!/^arn:aws:iam::\d{12}:(user|role)\//.test(arn)) return true;
  return principals.userOrRoleExists(arn);
}
