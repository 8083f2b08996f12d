import type { RequestContext } from '../../core/index.js';
import { stsError } from '../errors.js';
import { principalName } from '../identity-policies.js';

/**
 * AssumeRole refuses an account's root user, with its long-term key or a session of it from GetSessionToken:
 * "You cannot use AWS account root user credentials to call AssumeRole. You must use credentials for an IAM user
 * or an IAM role to call AssumeRole." AWS answers AccessDenied (403) "Roles may not be assumed by root accounts.",
 * before it looks at the role, so the answer tells nothing about the role.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
export function refuseRootCaller(ctx: RequestContext): void {
  if (principalName(ctx.principal.arn).kind === 'root') throw stsError('AccessDenied', 'Roles may not be assumed by root accounts.');
}
