import { parsePolicy, validateDocument, type PolicyType } from '../policy/index.js';
import { iamError } from './errors.js';

/**
 * Refuses a policy document IAM would refuse (MalformedPolicyDocument), with the first error finding as the
 * message. Only ERROR findings refuse: IAM stores policies that Access Analyzer merely warns about.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html
 */
export function checkPolicyDocument(text: string, policyType: PolicyType): void {
  const parsed = parsePolicy(text);
  if (parsed.findings) throw malformed(parsed.findings[0]?.FindingDetails);
  if (policyType === 'IDENTITY_POLICY' && parsed.document.Statement.some((statement) => statement.Principal !== undefined || statement.NotPrincipal !== undefined)) {
    // IAM's own wording for an identity policy that names a principal.
    throw iamError('MalformedPolicyDocument', 'Has prohibited field Principal');
  }
  const errors = validateDocument(parsed.document, policyType).filter((finding) => finding.FindingType === 'ERROR');
  if (errors.length > 0) throw malformed(errors[0]!.FindingDetails);
}

function malformed(details: string | undefined) {
  return iamError('MalformedPolicyDocument', details ? `Syntax errors in policy. ${details}` : 'Syntax errors in policy.');
}
