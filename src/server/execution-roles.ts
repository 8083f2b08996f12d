import type { ExecutionRoles } from '../functions/index.js';
import type { ServiceRoleSessions } from '../iam/index.js';

/** The service principal Lambda assumes execution roles as; a role's trust policy names it. */
const LAMBDA_SERVICE_PRINCIPAL = 'lambda.amazonaws.com';

/** functions' ExecutionRoles port over iam's service role sessions, as Lambda (lambda.amazonaws.com). */
export function lambdaExecutionRoles(roles: ServiceRoleSessions): ExecutionRoles {
  return {
    mayAssume: (accountId, roleArn) => roles.mayAssume(LAMBDA_SERVICE_PRINCIPAL, accountId, roleArn),
    async startSession(accountId, roleArn, sessionName, ttlMs) {
      const session = await roles.assume(LAMBDA_SERVICE_PRINCIPAL, accountId, roleArn, sessionName, ttlMs);
      return session && { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
    },
  };
}
