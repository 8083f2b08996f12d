import type { FunctionRecord } from '../store/index.js';
import type { ExecutionRoles, MintedCredentials } from './deps.js';
import { lambdaError } from './errors.js';

/** Lambda's answer when a function's role is missing or does not trust `lambda.amazonaws.com`. */
export const ROLE_NOT_ASSUMABLE = 'The role defined for the function cannot be assumed by Lambda.';

/**
 * CreateFunction and UpdateFunctionConfiguration check that Lambda can assume the Role given, as Lambda does:
 * InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda." for a role
 * that does not exist, is in another account, or whose trust policy does not allow lambda.amazonaws.com.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
 */
export async function checkExecutionRole(roles: ExecutionRoles, accountId: string, roleArn: string | undefined): Promise<void> {
  if (roleArn === undefined) return;
  if (!(await roles.mayAssume(accountId, roleArn))) throw lambdaError('InvalidParameterValueException', ROLE_NOT_ASSUMABLE);
}

/**
 * The execution-role session of one invocation: `assumed-role/<role>/<function name>`, as Lambda names it, with a
 * session token. Checked again at every invocation, so a role deleted or no longer trusting Lambda since the
 * function was created stops it. AWS documents no Invoke error for that case; Coffer answers the same
 * InvalidParameterValueException as CreateFunction (Invoke lists that code) rather than run the function as anyone.
 */
export async function startExecutionSession(roles: ExecutionRoles, record: FunctionRecord, ttlMs: number): Promise<MintedCredentials> {
  const session = record.role === undefined ? undefined : await roles.startSession(record.accountId, record.role, record.name, ttlMs);
  if (!session) throw lambdaError('InvalidParameterValueException', ROLE_NOT_ASSUMABLE);
  return session;
}
