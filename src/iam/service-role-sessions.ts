import { roleSessionArn, systemClock, type Clock, type Sensitive } from '../core/index.js';
import { checkAccess, type CompiledPolicyCache, type PrincipalPolicies } from '../policy/index.js';
import type { IamDeps } from './deps.js';
import { parseRoleArn } from './names.js';
import { trustPolicyOnItsRole } from './operations/sts.js';

/** A role session an AWS service starts for itself: like AssumeRole's, with a session token and an expiry. */
export type ServiceRoleSession = {
  accessKeyId: string;
  secretAccessKey: Sensitive<string>;
  sessionToken: Sensitive<string>;
  expiresAt: Date;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session name>` */
  principalArn: string;
};

/**
 * Role sessions that an AWS service principal (`lambda.amazonaws.com`) starts for itself, as Lambda assumes a
 * function's execution role: the role's trust policy must allow the service principal sts:AssumeRole (Principal
 * {"Service": "lambda.amazonaws.com"}), as AWS requires of an execution role. Only same-account roles: the
 * service acts for a resource of the role's own account. Nothing here is reachable from a request; functions
 * gets these through its ExecutionRoles port (wired in compose.ts).
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
 */
export function createServiceRoleSessions(deps: Pick<IamDeps, 'store' | 'credentials'> & { compiledPolicies: CompiledPolicyCache; clock?: Clock }) {
  const clock = deps.clock ?? systemClock;

  /** Whether `service` may assume `roleArn` for a resource of `accountId`: the role exists there and trusts it. */
  async function mayAssume(service: string, accountId: string, roleArn: string): Promise<boolean> {
    const target = parseRoleArn(roleArn);
    if (!target || target.accountId !== accountId) return false;
    const role = await deps.store.getIamRole(target.accountId, target.roleName);
    if (!role || role.arn !== roleArn) return false;
    const trust = deps.compiledPolicies.get(trustPolicyOnItsRole(role.assumeRolePolicyDocument));
    if (!trust) return false;
    // The service as policies see it: matched only by Principal {"Service": ...}; aws:PrincipalIsAWSService is true.
    const identity: PrincipalPolicies = { principal: { arn: service, accountId: target.accountId, service }, unrestricted: false, policies: [], tags: {} };
    const decision = checkAccess(
      identity,
      { action: 'sts:AssumeRole', resource: role.arn, resourceAccount: target.accountId, resourcePolicy: trust, resourceKind: 'key-policy' },
      { currentTime: clock.now() },
    );
    return decision.allowed;
  }

  /**
   * A session of `roleArn` named `sessionName` for `service`, valid `ttlMs` from now; undefined when the role
   * cannot be assumed by the service (gone, or no longer trusting it): checked at every start, so a trust policy
   * changed or a role deleted after the function was created takes effect at the next invocation.
   */
  async function assume(service: string, accountId: string, roleArn: string, sessionName: string, ttlMs: number): Promise<ServiceRoleSession | undefined> {
    if (!(await mayAssume(service, accountId, roleArn))) return undefined;
    const { roleName } = parseRoleArn(roleArn)!;
    const principalArn = roleSessionArn(accountId, roleName, sessionName);
    const session = await deps.credentials.createSessionAccessKey(accountId, principalArn, ttlMs);
    return { ...session, principalArn };
  }

  return { mayAssume, assume };
}

export type ServiceRoleSessions = ReturnType<typeof createServiceRoleSessions>;
