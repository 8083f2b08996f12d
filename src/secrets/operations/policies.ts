import type { RequestContext } from '../../core/index.js';
import { isPublic, parsePolicy, validateDocument, warnAboutNeverSetKeys, type PolicyFinding } from '../../policy/index.js';
import type { SecretsDeps } from '../deps.js';
import { secretsError } from '../errors.js';
import type { SecretAccess } from '../secret-access.js';
import type { SecretsInput } from '../schemas.js';

const PUT = 'secretsmanager:PutResourcePolicy';
const VALIDATE = 'secretsmanager:ValidateResourcePolicy';

/**
 * A secret's resource policy: who else may act on it, and explicit denies that bind even the account root.
 * Stored as the caller's JSON text and compiled (once per distinct text) when a request is authorized.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_resource-policies.html
 */
export function createPolicyOperations(deps: SecretsDeps, access: SecretAccess) {
  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetResourcePolicy.html */
  async function getResourcePolicy(ctx: RequestContext, input: SecretsInput<'GetResourcePolicy'>) {
    const secret = await access.authorizedSecret(ctx, input.SecretId, 'secretsmanager:GetResourcePolicy');
    return { ARN: secret.arn, Name: secret.name, ResourcePolicy: secret.resourcePolicy };
  }

  /**
   * A policy with syntax errors is refused with MalformedPolicyDocumentException; with BlockPublicPolicy, one
   * that grants access to everyone is refused with PublicPolicyException.
   * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html
   */
  async function putResourcePolicy(ctx: RequestContext, input: SecretsInput<'PutResourcePolicy'>) {
    const blockPublic = input.BlockPublicPolicy ?? false;
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, PUT, { 'secretsmanager:BlockPublicPolicy': blockPublic });
    const parsed = parsePolicy(input.ResourcePolicy);
    if (parsed.findings) throw malformed(parsed.findings);
    const errors = validateDocument(parsed.document, 'RESOURCE_POLICY').filter((finding) => finding.FindingType === 'ERROR');
    if (errors.length > 0) throw malformed(errors);
    if (blockPublic && isPublic(parsed.document)) {
      throw secretsError('PublicPolicyException', 'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.');
    }
    const updated = await deps.store.setSecretResourcePolicy(secret.arn, input.ResourcePolicy);
    warnAboutNeverSetKeys(deps.logger, { requestId: ctx.requestId, operation: 'PutResourcePolicy', resource: secret.arn }, parsed.document, 'RESOURCE_POLICY');
    return { ARN: secret.arn, Name: (updated ?? secret).name };
  }

  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteResourcePolicy.html */
  async function deleteResourcePolicy(ctx: RequestContext, input: SecretsInput<'DeleteResourcePolicy'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:DeleteResourcePolicy');
    await deps.store.setSecretResourcePolicy(secret.arn, undefined);
    return { ARN: secret.arn, Name: secret.name };
  }

  /**
   * Checks a policy without storing it: syntax, the grammar of a resource policy, and broad (public) access.
   * Errors and security warnings fail validation and are listed; warnings and suggestions do not. Text that is
   * not JSON at all is MalformedPolicyDocumentException, as for PutResourcePolicy. AWS requires both
   * ValidateResourcePolicy and PutResourcePolicy permissions, on the secret when SecretId names one.
   * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ValidateResourcePolicy.html
   */
  async function validateResourcePolicy(ctx: RequestContext, input: SecretsInput<'ValidateResourcePolicy'>) {
    if (input.SecretId !== undefined) {
      const secret = await access.authorizedSecret(ctx, input.SecretId, VALIDATE);
      await access.authorizeOn(ctx, secret, PUT);
    } else {
      await access.authorizeAction(ctx, VALIDATE);
      await access.authorizeAction(ctx, PUT);
    }
    const parsed = parsePolicy(input.ResourcePolicy);
    if (parsed.findings?.some((finding) => finding.IssueCode === 'JSON_SYNTAX_ERROR')) throw malformed(parsed.findings);
    const findings = parsed.findings ?? validateDocument(parsed.document, 'RESOURCE_POLICY');
    const failures = findings.filter((finding) => finding.FindingType === 'ERROR' || finding.FindingType === 'SECURITY_WARNING');
    return {
      PolicyValidationPassed: failures.length === 0,
      ValidationErrors: failures.map((finding) => ({ CheckName: finding.IssueCode, ErrorMessage: finding.FindingDetails })),
    };
  }

  return { getResourcePolicy, putResourcePolicy, deleteResourcePolicy, validateResourcePolicy };
}

/** MalformedPolicyDocumentException naming what is wrong (the findings describe the policy, never a secret value). */
function malformed(findings: readonly PolicyFinding[]) {
  const details = findings.slice(0, 3).map((finding) => `${finding.IssueCode}: ${finding.FindingDetails}`).join(' ');
  return secretsError('MalformedPolicyDocumentException', `The resource policy has syntax errors. ${details}`.trim());
}
