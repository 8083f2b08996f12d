import type { Logger, RequestContext } from '../core/index.js';
import { parsePolicy, validateDocument, warnAboutNeverSetKeys } from '../policy/index.js';
import { iamError } from './errors.js';

/** An inline policy of a user or role, or a role's trust policy (a resource policy whose resource is the role). */
export type IamPolicyKind = 'identity' | 'trust';

/**
 * Refuses a policy document IAM would refuse (MalformedPolicyDocument), with the first error finding as the
 * message. Only ERROR findings refuse: IAM stores policies that Access Analyzer merely warns about. IAM's own
 * wording is used for a member a kind may not have: identity policies name no principal, trust policies no
 * resource. https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_policies.html
 */
export function checkPolicyDocument(text: string, kind: IamPolicyKind): void {
  const parsed = parsePolicy(text);
  if (parsed.findings) throw malformed(parsed.findings[0]?.FindingDetails);
  const statements = parsed.document.Statement;
  if (kind === 'identity' && statements.some((statement) => statement.Principal !== undefined || statement.NotPrincipal !== undefined)) {
    throw iamError('MalformedPolicyDocument', 'Has prohibited field Principal');
  }
  if (kind === 'trust' && statements.some((statement) => statement.Resource !== undefined || statement.NotResource !== undefined)) {
    throw iamError('MalformedPolicyDocument', 'Has prohibited field Resource');
  }
  const errors = validateDocument(parsed.document, kind === 'identity' ? 'IDENTITY_POLICY' : 'RESOURCE_POLICY').filter(
    (finding) => finding.FindingType === 'ERROR' && !(kind === 'trust' && finding.IssueCode === 'MISSING_RESOURCE'),
  );
  if (errors.length > 0) throw malformed(errors[0]!.FindingDetails);
}

/** Logs the conditions of a stored document on keys Coffer never sets (see policy/key-catalog.ts). */
export function warnAboutStoredPolicy(logger: Logger | undefined, ctx: RequestContext, operation: string, resource: string, text: string, kind: IamPolicyKind): void {
  if (logger) warnAboutNeverSetKeys(logger, { requestId: ctx.requestId, operation, resource }, text, kind === 'identity' ? 'IDENTITY_POLICY' : 'RESOURCE_POLICY');
}

function malformed(details: string | undefined) {
  return iamError('MalformedPolicyDocument', details ? `Syntax errors in policy. ${details}` : 'Syntax errors in policy.');
}
