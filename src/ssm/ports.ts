import type { RequestContext, Sensitive } from '../core/index.js';

/** A secret's value as a Parameter Store reference returns it (GetParameter of `/aws/reference/secretsmanager/…`). */
export type ReferencedSecret = {
  arn: string;
  name: string;
  versionId: string;
  createdDate: Date;
  /** SecretString, or SecretBinary as base64. */
  value: Sensitive<string>;
  /** GetSecretValue's whole answer as JSON text: AWS's SourceResult (it holds the value, so Sensitive too). */
  sourceResult: Sensitive<string>;
};

/**
 * What Parameter Store needs from Secrets Manager: a secret's value read as the caller, so Secrets Manager
 * authorizes it (secretsmanager:GetSecretValue, the secret's resource policy) and audits it as its own call
 * made by ssm.amazonaws.com. compose.ts wires it to the Secrets Manager service; ssm never imports secrets.
 * Errors are Secrets Manager's (ResourceNotFoundException, AccessDeniedException, ...).
 */
export interface SecretsReader {
  getSecretValue(ctx: RequestContext, request: { SecretId: string; VersionId?: string; VersionStage?: string }): Promise<ReferencedSecret>;
}
