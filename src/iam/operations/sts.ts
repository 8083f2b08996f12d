import { commonError, roleSessionArn, type Principal, type RequestContext, type SessionAttributes } from '../../core/index.js';
import type { CompiledPolicyCache } from '../../policy/index.js';
import type { IamDeps } from '../deps.js';
import { stsError } from '../errors.js';
import { principalName } from '../identity-policies.js';
import { parseRoleArn } from '../names.js';
import type { IamRoleRecord } from '../../store/index.js';
import type { StsInput } from '../schemas.js';
import { refuseRootCaller } from './root-callers.js';
import { isRoleChaining, planSession, ROLE_CHAINING_MAX_SECONDS, tagSessionContext } from './session-attributes.js';

const DEFAULT_SESSION_SECONDS = 3600;
/** GetSessionToken: 12 hours unless asked otherwise; an account root's session is capped at one hour (AWS clamps it). */
const DEFAULT_SESSION_TOKEN_SECONDS = 43200;
const ROOT_SESSION_TOKEN_MAX_SECONDS = 3600;

/** Temporary credentials of any kind (AssumeRole, GetSessionToken, a function's keys): an ASIA key. */
export function isTemporaryCredential(principal: Principal): boolean {
  return principal.tokenIssuedAt !== undefined || principal.accessKeyId.startsWith('ASIA');
}

/**
 * Credentials from GetSessionToken: temporary credentials that act as the IAM user (or account root) itself,
 * not as an assumed role. AWS lets them call no IAM operation without MFA (Coffer has no MFA) and no STS
 * operation but AssumeRole and GetCallerIdentity.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html#stsapi_comparison
 */
export function isUserSession(principal: Principal): boolean {
  if (!isTemporaryCredential(principal)) return false;
  const kind = principalName(principal.arn).kind;
  return kind === 'user' || kind === 'root';
}

/** STS operations credentials from GetSessionToken may call. */
export const STS_OPERATIONS_FOR_USER_SESSIONS: ReadonlySet<string> = new Set(['AssumeRole', 'GetCallerIdentity']);

/**
 * The refusal of an IAM or STS operation to credentials from GetSessionToken. IAM answers such a call (made
 * without MFA) as if the token were unknown: InvalidClientTokenId (403) "The security token included in the
 * request is invalid" (observed answer of IAM; its docs only say the call is not allowed). STS answers
 * AccessDenied "Cannot call <Operation> with session credentials".
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
 */
export function refuseUserSession(ctx: RequestContext, operationName: string, service: 'iam' | 'sts'): void {
  if (!isUserSession(ctx.principal)) return;
  if (service === 'iam') throw commonError('UnrecognizedClientException', 'The security token included in the request is invalid');
  throw commonError('AccessDeniedException', `Cannot call ${operationName} with session credentials`);
}

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
     * caller, so existence is not revealed. Session tags need sts:TagSession and a source identity
     * sts:SetSourceIdentity, decided the same way. Everything is checked before the session's key is created.
     */
    async assumeRole(ctx: RequestContext, input: StsInput<'AssumeRole'>) {
      refuseRootCaller(ctx);
      refuseUnsupportedMembers(input);
      const target = parseRoleArn(input.RoleArn);
      if (!target) throw stsError('ValidationError', `${input.RoleArn} is invalid`);
      const planned = planSession(input, ctx.principal, target.accountId);
      const role = await store.getIamRole(target.accountId, target.roleName);
      const trust = role && role.arn === input.RoleArn ? compiled.get(trustPolicyOnItsRole(role.assumeRolePolicyDocument)) : undefined;
      const onRole = { resource: input.RoleArn, resourceAccount: target.accountId, resourcePolicy: trust, resourceKind: 'key-policy' } as const;
      await authorizer.authorize(ctx, {
        action: 'sts:AssumeRole',
        ...onRole,
        // Trust policies commonly require these: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html
        context: { 'sts:ExternalId': input.ExternalId, 'sts:RoleSessionName': input.RoleSessionName, 'sts:SourceIdentity': planned.sourceIdentity },
      });
      if (!role || !trust) throw new Error('unreachable: a role without a trust policy allows nobody');
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required
      if (planned.tags.length > 0) await authorizer.authorize(ctx, { action: 'sts:TagSession', ...onRole, context: tagSessionContext(planned) });
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html#id_credentials_temp_control-access_monitor-perms
      if (planned.sourceIdentity !== undefined) {
        await authorizer.authorize(ctx, { action: 'sts:SetSourceIdentity', ...onRole, context: { 'sts:SourceIdentity': planned.sourceIdentity } });
      }
      const durationSeconds = sessionDurationSeconds(input.DurationSeconds, role.maxSessionDurationSeconds, isRoleChaining(ctx.principal));
      return {
        ...(await issueRoleSession(credentials, role, input.RoleSessionName, durationSeconds, planned.attributes)),
        PackedPolicySize: planned.packedPolicySize,
        SourceIdentity: planned.sourceIdentity,
      };
    },

    /**
     * Temporary credentials that act as the caller itself: same principal ARN, so the same identity policies
     * apply, plus the restrictions of isUserSession. Called with temporary credentials it is refused, as AWS does.
     * MFA is not supported: a SerialNumber or TokenCode is refused rather than ignored, so nobody gets a
     * session they believe MFA-authenticated (and whose aws:MultiFactorAuthPresent conditions would then differ).
     * Needs no permission ('none'): "You cannot use policies to control authentication operations."
     * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
     * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_getsessiontoken.html
     */
    async getSessionToken(ctx: RequestContext, input: StsInput<'GetSessionToken'>) {
      const { principal } = ctx;
      if (isTemporaryCredential(principal)) throw stsError('AccessDenied', 'Cannot call GetSessionToken with session credentials');
      if (input.SerialNumber !== undefined || input.TokenCode !== undefined) {
        throw stsError('InvalidParameterValue', 'MFA (SerialNumber, TokenCode) is not supported by this server.');
      }
      const kind = principalName(principal.arn).kind;
      // Long-term keys belong to users and roots only; anything else is not a caller GetSessionToken serves.
      if (kind !== 'user' && kind !== 'root') throw stsError('AccessDenied', 'Cannot call GetSessionToken with these credentials');
      let durationSeconds = input.DurationSeconds ?? DEFAULT_SESSION_TOKEN_SECONDS;
      if (kind === 'root') durationSeconds = Math.min(durationSeconds, ROOT_SESSION_TOKEN_MAX_SECONDS);
      const session = await credentials.createSessionAccessKey(principal.accountId, principal.arn, durationSeconds * 1000);
      return { Credentials: credentialsOf(session) };
    },

    /**
     * The account an access key belongs to. AWS answers an account for any well-formed key id, even one it never
     * issued (the account is encoded in the id). Coffer's ids encode nothing, and answering a made-up account
     * would be a guess: it answers only for keys it knows (long-term or session, of any account, as AWS does
     * across accounts), and refuses an unknown id with InvalidParameterValue. Authorized by the pipeline
     * (sts:GetAccessKeyInfo on `*`).
     * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html
     */
    async getAccessKeyInfo(_ctx: RequestContext, input: StsInput<'GetAccessKeyInfo'>) {
      const record = await store.getAccessKey(input.AccessKeyId);
      if (!record) throw stsError('InvalidParameterValue', `The access key ID ${input.AccessKeyId} is not known to this server.`);
      return { Account: record.accountId };
    },
  };
}

/**
 * AssumeRole's DurationSeconds: 900 (the schema) up to the role's maximum, and up to one hour when a role session
 * assumes the role ("if you assume a role using role chaining and provide a DurationSeconds parameter value
 * greater than one hour, the operation fails").
 */
export function sessionDurationSeconds(requested: number | undefined, roleMaxSeconds: number, roleChaining: boolean): number {
  const durationSeconds = requested ?? DEFAULT_SESSION_SECONDS;
  if (roleChaining && durationSeconds > ROLE_CHAINING_MAX_SECONDS) {
    throw stsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  if (durationSeconds > roleMaxSeconds) throw stsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  return durationSeconds;
}

/**
 * MFA is not supported (as GetSessionToken refuses it): a SerialNumber or TokenCode is refused rather than ignored,
 * so nobody gets a session they believe MFA-authenticated. Trusted context assertions (ProvidedContexts) need IAM
 * Identity Center, which Coffer does not have.
 */
function refuseUnsupportedMembers(input: StsInput<'AssumeRole'>): void {
  if (input.SerialNumber !== undefined || input.TokenCode !== undefined) {
    throw stsError('InvalidParameterValue', 'MFA (SerialNumber, TokenCode) is not supported by this server.');
  }
  if (input.ProvidedContexts !== undefined) throw stsError('InvalidParameterValue', 'ProvidedContexts is not supported by this server.');
}

/**
 * Makes a session of `role` (AssumeRole, AssumeRoleWithWebIdentity): its key, kept with the session's attributes,
 * and the Credentials and AssumedRoleUser members of STS's answer.
 */
export async function issueRoleSession(
  credentials: IamDeps['credentials'],
  role: Pick<IamRoleRecord, 'accountId' | 'roleName' | 'roleId'>,
  sessionName: string,
  durationSeconds: number,
  attributes: SessionAttributes | undefined,
) {
  const sessionArn = roleSessionArn(role.accountId, role.roleName, sessionName);
  const session = await credentials.createSessionAccessKey(role.accountId, sessionArn, durationSeconds * 1000, attributes);
  return { Credentials: credentialsOf(session), AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: sessionArn } };
}

function credentialsOf(session: Awaited<ReturnType<IamDeps['credentials']['createSessionAccessKey']>>) {
  return {
    AccessKeyId: session.accessKeyId,
    SecretAccessKey: session.secretAccessKey,
    SessionToken: session.sessionToken,
    Expiration: session.expiresAt,
  };
}

/**
 * A trust policy names no Resource: it is about the role it belongs to. The evaluator matches statements by
 * resource, so each statement is given `Resource: "*"` (the role itself) before compiling. The text was
 * validated when stored; one that no longer parses compiles to nothing and so allows nobody.
 */
export function trustPolicyOnItsRole(text: string): string {
  try {
    const document = JSON.parse(text) as { Statement?: unknown };
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    const onRole = statements.map((statement) => (statement && typeof statement === 'object' ? { ...statement, Resource: '*' } : statement));
    return JSON.stringify({ ...document, Statement: onRole });
  } catch {
    return text;
  }
}
