import type { RequestContext } from '../../core/index.js';
import type { CompiledPolicyCache } from '../../policy/index.js';
import type { IamDeps } from '../deps.js';
import { stsError } from '../errors.js';
import { principalName } from '../identity-policies.js';
import { parseRoleArn } from '../names.js';
import type { StsInput } from '../schemas.js';

const DEFAULT_SESSION_SECONDS = 3600;

/**
 * STS: GetCallerIdentity and AssumeRole.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
export function stsOperations({ store, credentials, authorizer }: IamDeps, compiled: CompiledPolicyCache) {
  /** IAM's unique id of the caller: the account id for the root, AIDA… for a user, AROA…:<session> for a role session. */
  async function callerUserId(ctx: RequestContext): Promise<string> {
    const { accountId, arn } = ctx.principal;
    const name = principalName(arn);
    if (name.kind === 'user') return (await store.getIamUser(accountId, name.name))?.userId ?? accountId;
    if (name.kind === 'assumed-role') {
      const role = await store.getIamRole(accountId, name.roleName);
      return `${role?.roleId ?? accountId}:${name.sessionName}`;
    }
    return accountId;
  }

  return {
    async getCallerIdentity(ctx: RequestContext) {
      return { UserId: await callerUserId(ctx), Account: ctx.principal.accountId, Arn: ctx.principal.arn };
    },

    /**
     * The role's trust policy decides like a KMS key policy (`resourceKind: 'key-policy'`), which is AWS's rule
     * for roles: it must allow the caller, either by naming it (same account) or by naming its account root,
     * in which case the caller's own identity policies must allow sts:AssumeRole on the role too; across
     * accounts both sides must allow. A role that does not exist is denied like one that does not trust the
     * caller, so existence is not revealed.
     */
    async assumeRole(ctx: RequestContext, input: StsInput<'AssumeRole'>) {
      const target = parseRoleArn(input.RoleArn);
      if (!target) throw stsError('ValidationError', `${input.RoleArn} is invalid`);
      const role = await store.getIamRole(target.accountId, target.roleName);
      const trust = role && role.arn === input.RoleArn ? compiled.get(trustPolicyOnItsRole(role.assumeRolePolicyDocument)) : undefined;
      await authorizer.authorize(ctx, {
        action: 'sts:AssumeRole',
        resource: input.RoleArn,
        resourceAccount: target.accountId,
        resourcePolicy: trust,
        resourceKind: 'key-policy',
        // Trust policies commonly require these: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html
        context: { 'sts:ExternalId': input.ExternalId, 'sts:RoleSessionName': input.RoleSessionName },
      });
      if (!role || !trust) throw new Error('unreachable: a role without a trust policy allows nobody');
      // Session policies would narrow the session and session tags would change what its conditions see.
      // Coffer applies neither, so it refuses them rather than hand out a session other than the one asked for.
      if (input.Policy !== undefined || (input.PolicyArns !== undefined && input.PolicyArns.length > 0)) {
        throw stsError('ValidationError', 'Session policies (Policy, PolicyArns) are not supported by this server.');
      }
      if (input.Tags !== undefined && input.Tags.length > 0) {
        throw stsError('ValidationError', 'Session tags (Tags) are not supported by this server.');
      }
      // A session without the SourceIdentity asked for would carry no aws:SourceIdentity, and a Deny on it would
      // not apply to the session: refused like session tags.
      if (input.SourceIdentity !== undefined) {
        throw stsError('ValidationError', 'SourceIdentity is not supported by this server.');
      }
      const durationSeconds = input.DurationSeconds ?? DEFAULT_SESSION_SECONDS;
      if (durationSeconds > role.maxSessionDurationSeconds) {
        throw stsError(
          'ValidationError',
          `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
        );
      }
      const sessionArn = `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${input.RoleSessionName}`;
      const session = await credentials.createSessionAccessKey(role.accountId, sessionArn, durationSeconds * 1000);
      return {
        Credentials: {
          AccessKeyId: session.accessKeyId,
          SecretAccessKey: session.secretAccessKey,
          SessionToken: session.sessionToken,
          Expiration: session.expiresAt,
        },
        AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${input.RoleSessionName}`, Arn: sessionArn },
      };
    },
  };
}

/**
 * A trust policy names no Resource: it is about the role it belongs to. The evaluator matches statements by
 * resource, so each statement is given `Resource: "*"` (the role itself) before compiling. The text was
 * validated when stored; one that no longer parses compiles to nothing and so allows nobody.
 */
function trustPolicyOnItsRole(text: string): string {
  try {
    const document = JSON.parse(text) as { Statement?: unknown };
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    const onRole = statements.map((statement) => (statement && typeof statement === 'object' ? { ...statement, Resource: '*' } : statement));
    return JSON.stringify({ ...document, Statement: onRole });
  } catch {
    return text;
  }
}
