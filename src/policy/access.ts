/**
 * Access checks as services ask for them: who (the caller's identity policies), what (action, resource, context),
 * and the resource's own policy, decided with `evaluate` + `decide`. Pure: the identity policies are loaded by
 * iam (IdentityPolicySource) and the resource policy by the service that owns the resource.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { commonError, type RequestContext, type SessionAttributes } from '../core/index.js';
import type { CompiledPolicy } from './compile.js';
import { lowerCaseKey, normalizeContext, type NormalizedContext } from './context-keys.js';
import { decide, evaluate, evaluatePolicy, isDeny, type PolicyEvaluation } from './evaluate.js';
import type { ContextValue, RequestContextValues, RequestPrincipal } from './types.js';

/** The caller as policies see it, with the identity policies that apply to it. */
export type PrincipalPolicies = {
  readonly principal: RequestPrincipal;
  /**
   * An account's root user: its identity side allows every action on its own account's resources (AWS: "the root
   * user has full access to all AWS services and resources in the account"); explicit denies in resource and key
   * policies still apply, and a key policy must still allow it.
   */
  readonly unrestricted: boolean;
  /** Inline, attached managed and session policies of the user or role; empty for a role or user that does not exist. */
  readonly policies: readonly CompiledPolicy[];
  /**
   * The user's or role's permissions boundary (a role session's is its role's), when it has one: it caps what the
   * identity side allows and grants nothing itself (see `boundaryCaps`). Empty when the boundary's policy no
   * longer exists: such a boundary allows nothing. Undefined: no boundary.
   */
  readonly permissionsBoundary?: readonly CompiledPolicy[];
  /** The user's or role's tags, for `aws:PrincipalTag/<key>`. */
  readonly tags: Readonly<Record<string, string>>;
  /** `aws:PrincipalType`: `Account` (the root user), `User`, `AssumedRole`; undefined when Coffer cannot tell. */
  readonly principalType?: CallerType;
  /** `aws:userid`: the account id (root), the user's unique id, `<role id>:<session name>`; undefined if unknown. */
  readonly userId?: string;
  /** `aws:username`: set for IAM users only, as AWS does. */
  readonly userName?: string;
  /**
   * Where each of `policies` came from (same order and length), for policy simulation's MatchedStatements; a
   * source that leaves it out (or adds policies without labels) is labelled by position there. Authorization never reads it.
   */
  readonly sources?: readonly PolicySource[];
  /**
   * A session's session policies (inline and managed, AssumeRole's Policy and PolicyArns), when it was given any:
   * then the session may do only what they allow as well (an empty list: nothing). Undefined: no session policy.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
   */
  readonly sessionPolicies?: readonly CompiledPolicy[];
  /** `aws:SourceIdentity`: the source identity the session was given (or inherited by role chaining). */
  readonly sourceIdentity?: string;
};

/** IAM's PolicySourceType: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Statement.html */
export type PolicySourceType = 'user' | 'group' | 'role' | 'aws-managed' | 'user-managed' | 'resource' | 'none';

/** A policy's name in simulation results (inline policy name, managed policy ARN, `PolicyInputList.1`) and its JSON text. */
export type PolicySource = { readonly id: string; readonly type: PolicySourceType; readonly text?: string };

/** The values of `aws:PrincipalType` for the principals Coffer has. */
export type CallerType = 'Account' | 'User' | 'AssumedRole';

/**
 * Loads the identity side of a caller: implemented by iam over the store, read per request (never stale). A caller
 * whose identity needs no read (the account root) is answered without a promise.
 */
export interface IdentityPolicySource {
  policiesFor(principal: {
    readonly arn: string;
    readonly accountId: string;
    readonly session?: SessionAttributes;
  }): PrincipalPolicies | Promise<PrincipalPolicies>;
}

export type AccessRequest = {
  /** `service:Action`, for example `secretsmanager:GetSecretValue`. */
  readonly action: string;
  /** The resource's ARN, or `*` for actions without a resource (ListSecrets, CreateKey). */
  readonly resource: string;
  /** The account that owns the resource; the caller's account for actions without a resource. */
  readonly resourceAccount: string;
  /** A secret's resource policy, a key's key policy, a role's trust policy; undefined when there is none. */
  readonly resourcePolicy?: CompiledPolicy;
  /** `key-policy`: KMS keys, where the key policy is the root of access (see `decide`). */
  readonly resourceKind?: 'resource-policy' | 'key-policy';
  /** Service-specific and request condition keys (`secretsmanager:Name`, `kms:EncryptionContext:...`). */
  readonly context?: RequestContextValues;
  /** KMS: a grant on the key allows this operation for this caller, a path besides the key policy. */
  readonly allowedByGrant?: boolean;
  /**
   * KMS: a grant to the caller's account (its root ARN) allows this operation. Like a key policy naming the
   * account, it delegates to the account's IAM policies: it allows a caller whose identity policies allow too.
   */
  readonly allowedByAccountGrant?: boolean;
  /**
   * Condition keys that cost a store read (a resource's tags): loaded by the authorizer only when a policy in
   * play has a condition on a key starting with one of `keyPrefixes` (lower case, e.g. `aws:resourcetag/`), so
   * the common check does no extra I/O.
   */
  readonly costlyContext?: { readonly keyPrefixes: readonly string[]; readonly load: () => Promise<RequestContextValues> };
  /** The resource as the caller named it, when `resource` is what the name resolved to (see `NamedResource`). */
  readonly named?: NamedResource;
};

/**
 * A resource as the caller's request named it, before it was resolved: a secret by name or partial ARN, a KMS key
 * by key id or alias. A refusal names it and never the resolved ARN (a secret's random suffix, the key an alias
 * points at), and is the refusal a resource that does not exist would get, unless the caller's own permissions
 * cover the name as given: only a caller who may act on that name learns whether something exists behind it.
 */
export type NamedResource = {
  /** The ARN formed from the request alone (a secret's partial ARN, a key id's key ARN, an alias ARN). */
  readonly resource: string;
  /** The account the name points into: the caller's, or the one a full ARN names. */
  readonly resourceAccount: string;
  /** How the refusal's message names it, when not as `resource` (Secrets Manager: the SecretId as given). */
  readonly shownAs?: string;
  /** Condition keys the request alone gives (`secretsmanager:SecretId`, `kms:RequestAlias`). */
  readonly context?: RequestContextValues;
};

/**
 * The check a resource that does not exist gets: the caller's identity side on the name, with no resource policy
 * (so across accounts it never allows, and nobody learns what another account holds).
 */
export function requestOnNamed(action: string, named: NamedResource): AccessRequest {
  return { action, resource: named.resource, resourceAccount: named.resourceAccount, context: named.context, named };
}

/** Request-wide facts the caller of checkAccess fills from the request; each becomes global condition keys. */
export type RequestFacts = {
  readonly currentTime: Date;
  readonly sourceIp?: string;
  /** `kms:ViaService` when an AWS service (Secrets Manager) calls KMS for the caller: `secretsmanager.<region>.amazonaws.com`. */
  readonly viaService?: string;
  /** The region the request was signed for (`aws:RequestedRegion`). */
  readonly region?: string;
  /** The request came over TLS (`aws:SecureTransport`); undefined for in-process calls that used no transport. */
  readonly secureTransport?: boolean;
  /** When the caller's temporary credentials were issued (`aws:TokenIssueTime`); undefined for long-term keys. */
  readonly tokenIssuedAt?: Date;
};

export type AccessDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'ExplicitDeny' | 'ImplicitDeny'; readonly deniedBy: DeniedBy };

/**
 * The kind of policy a refusal names: AWS's "identity-based policy", "resource-based policy", "permissions
 * boundary", "session policy".
 */
export type DeniedBy = 'identity-based' | 'resource-based' | 'permissions-boundary' | 'session';

const NO_CONTEXT: RequestContextValues = Object.freeze({});

/** Decides one request. An explicit deny anywhere wins; then AWS's same-account / cross-account / key-policy rules. */
export function checkAccess(identity: PrincipalPolicies, request: AccessRequest, facts: RequestFacts): AccessDecision {
  const authorization = {
    principal: identity.principal,
    action: request.action,
    resource: request.resource,
    // The service's own keys; the global ones are read one by one when a condition asks (globalKeyOf), since a
    // check reads two or three of some thirty and building them all was a third of a KMS check's cost.
    context: request.context ?? NO_CONTEXT,
  };
  let view: NormalizedContext | undefined;
  const normalized = () => (view ??= requestContextView(identity, request, facts));
  const allIdentityResults = evaluate(identity.policies, authorization, normalized);
  const sessionResults = identity.sessionPolicies ? evaluate(identity.sessionPolicies, authorization, normalized) : undefined;
  const resourceOutcome = request.resourcePolicy ? evaluatePolicy(request.resourcePolicy, authorization, normalized) : undefined;
  const boundaryResults = identity.permissionsBoundary ? evaluate(identity.permissionsBoundary, authorization, normalized) : undefined;
  if (allIdentityResults.some(isDeny)) return denied('ExplicitDeny', 'identity-based');
  if (boundaryResults?.some(isDeny)) return denied('ExplicitDeny', 'permissions-boundary');
  if (sessionResults?.some(isDeny)) return denied('ExplicitDeny', 'session');
  if (resourceOutcome && isDeny(resourceOutcome)) return denied('ExplicitDeny', 'resource-based');

  // A boundary that does not allow the request takes the identity side's Allow away, and for a role session the
  // Allow of a resource policy that names it through its role's ARN (boundaryCapsResourceGrant).
  const bounded = boundaryResults !== undefined && !boundaryResults.some((result) => result.decision === 'Allow');
  const identityResults = bounded ? [] : allIdentityResults;
  const resourceResult = bounded && resourceOutcome && boundaryCapsResourceGrant(identity, resourceOutcome) ? undefined : resourceOutcome;

  // The root user's identity side allows everything in its own account, as an identity policy of `*` would.
  const ownAccount = identity.principal.accountId === request.resourceAccount;
  const identityPolicies = identity.unrestricted && ownAccount ? withRootAllow(identityResults) : identityResults;
  const sessionAllows = sessionResults === undefined || sessionResults.some((result) => result.decision === 'Allow');
  const final = decide({
    // Session policies: "the resulting session's permissions are the intersection of the identity-based policies
    // and the session policies", and a resource policy that names the role (or account) is limited the same way;
    // one that names the session ARN itself is not.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    identityPolicies: sessionAllows ? identityPolicies : [],
    resourcePolicy: sessionAllows || resourceNotLimitedBySession(resourceResult, facts) ? resourceResult : undefined,
    principalAccount: identity.principal.accountId,
    resourceAccount: request.resourceAccount,
    resourceKind: request.resourceKind,
  });
  if (final.decision === 'Allow') return ALLOWED;
  // A grant allows a KMS operation by itself, for the grantee it names, as long as nothing denies explicitly and
  // (Coffer's safe reading: AWS does not say) the caller's permissions boundary and session policies allow it. A
  // grant to the caller's account needs the caller's own identity side to allow as well, as a key policy naming
  // the account does.
  if (request.allowedByGrant && final.reason === 'ImplicitDeny' && !bounded && sessionAllows) return ALLOWED;
  if (request.allowedByAccountGrant && final.reason === 'ImplicitDeny' && sessionAllows && identityPolicies.some((result) => result.decision === 'Allow')) {
    return ALLOWED;
  }
  if (final.reason === 'ExplicitDeny') return denied('ExplicitDeny', 'resource-based');
  if (bounded && allIdentityResults.some((result) => result.decision === 'Allow')) return denied('ImplicitDeny', 'permissions-boundary');
  if (!sessionAllows && [...identityPolicies, resourceResult].some((result) => result?.decision === 'Allow')) return denied('ImplicitDeny', 'session');
  return denied('ImplicitDeny', implicitDenySide(request, identityPolicies, resourceResult));
}

/** An allowed check's decision: one shared, frozen object (most checks allow). */
const ALLOWED: AccessDecision = Object.freeze({ allowed: true });

/** The root user's identity side, as an identity policy of `*` would answer (see PrincipalPolicies.unrestricted). */
const ROOT_ALLOW: PolicyEvaluation = Object.freeze({ decision: 'Allow', allowedVia: 'principal', statements: Object.freeze(['root']) as readonly string[] });
const ROOT_ALLOW_ALONE: readonly PolicyEvaluation[] = Object.freeze([ROOT_ALLOW]);

function withRootAllow(identityResults: readonly PolicyEvaluation[]): readonly PolicyEvaluation[] {
  return identityResults.length === 0 ? ROOT_ALLOW_ALONE : [...identityResults, ROOT_ALLOW];
}

/**
 * Whether a boundary that does not allow a request also takes away what a resource-based policy (a secret's
 * resource policy, a key policy) allows. AWS, within one account: "resource-based policies that grant permissions
 * to an IAM user ARN ... are not limited by an implicit deny in an identity-based policy or permissions boundary";
 * those that "grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary";
 * those granting "to the role session ARN" are not. So for a role session only statements that named it through
 * its role's ARN alone are capped; `*`, the session's own ARN and a user's ARN are not.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 */
function boundaryCapsResourceGrant(identity: PrincipalPolicies, resource: PolicyEvaluation): boolean {
  return identity.principalType !== 'User' && resource.decision === 'Allow' && resource.viaRoleArn === true;
}

/**
 * A resource policy's Allow that a session's session policies do not limit: one naming the session ARN itself, and
 * one met by a service calling on the session's behalf (Secrets Manager calling KMS), whose own call the session
 * policies already limited; so a session allowed secretsmanager:GetSecretValue reads a secret under the AWS managed
 * key, whose key policy allows every caller of the account through Secrets Manager, as a session without session
 * policies does. AWS does not spell the second case out. Explicit denies in session policies still apply.
 */
function resourceNotLimitedBySession(resourceResult: PolicyEvaluation | undefined, facts: RequestFacts): boolean {
  if (resourceResult?.decision !== 'Allow') return false;
  return resourceResult.namesCaller === true || (facts.viaService !== undefined && resourceResult.allowedVia === 'principal');
}

/**
 * AWS's AccessDeniedException message: "User: <arn> is not authorized to perform: <action> on resource: <arn>
 * because no identity-based policy allows the <action> action" / "with an explicit deny in a resource-based policy".
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 */
export function accessDeniedMessage(principalArn: string, request: Pick<AccessRequest, 'action' | 'resource'>, decision: AccessDecision): string {
  const head = `User: ${principalArn} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  if (decision.allowed) return head;
  if (decision.deniedBy === 'permissions-boundary') {
    return decision.reason === 'ExplicitDeny'
      ? `${head} with an explicit deny in a permissions boundary`
      : `${head} because no permissions boundary allows the ${request.action} action`;
  }
  return decision.reason === 'ExplicitDeny'
    ? `${head} with an explicit deny in ${decision.deniedBy === 'identity-based' ? 'an identity-based' : `a ${decision.deniedBy}`} policy`
    : `${head} because no ${decision.deniedBy} policy allows the ${request.action} action`;
}

/** One global condition key: its name as AWS spells it, and its value for a check (undefined: absent). */
type GlobalKey = {
  readonly name: string;
  readonly value: (identity: PrincipalPolicies, request: AccessRequest, facts: RequestFacts) => ContextValue;
};

/** A service calling on the caller's behalf: `secretsmanager.<region>.amazonaws.com` → `secretsmanager.amazonaws.com`. */
function viaServicePrincipal(facts: RequestFacts): string | undefined {
  return facts.viaService === undefined ? undefined : `${facts.viaService.split('.')[0]}.amazonaws.com`;
}

/** Set only for an IAM caller (not an AWS service principal): AWS leaves these out for a service. */
function ofIamCaller<T extends ContextValue>(value: (identity: PrincipalPolicies) => T) {
  return (identity: PrincipalPolicies): ContextValue => (identity.principal.service === undefined ? value(identity) : undefined);
}

/**
 * Every global condition key AWS documents that Coffer can know, in the order a check's record lists them, with
 * AWS's value for the caller's kind; a key AWS leaves out for a kind of caller (aws:username for a role session,
 * aws:TokenIssueTime for a long-term key) is undefined. The principal's tags (`aws:PrincipalTag/<key>`) follow
 * these, then `KMS_KEYS`, then the service's own keys. One table serves both the built record (`requestContext`)
 * and a check's per-key reads (`globalKeyOf`), so the two cannot drift apart.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 * Principal keys per principal type: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable
 */
const GLOBAL_KEYS: readonly GlobalKey[] = [
  { name: 'aws:CurrentTime', value: (_identity, _request, facts) => facts.currentTime.toISOString() },
  { name: 'aws:EpochTime', value: (_identity, _request, facts) => Math.floor(facts.currentTime.getTime() / 1000) },
  { name: 'aws:SourceIp', value: (_identity, _request, facts) => facts.sourceIp },
  { name: 'aws:SecureTransport', value: (_identity, _request, facts) => facts.secureTransport },
  { name: 'aws:RequestedRegion', value: (_identity, _request, facts) => facts.region },
  { name: 'aws:ResourceAccount', value: (_identity, request) => request.resourceAccount },
  { name: 'aws:PrincipalIsAWSService', value: (identity) => identity.principal.service !== undefined },
  { name: 'aws:PrincipalServiceName', value: (identity) => identity.principal.service },
  { name: 'aws:PrincipalArn', value: ofIamCaller((identity) => identity.principal.roleArn ?? identity.principal.arn) },
  { name: 'aws:PrincipalAccount', value: ofIamCaller((identity) => identity.principal.accountId) },
  { name: 'aws:PrincipalType', value: ofIamCaller((identity) => identity.principalType) },
  { name: 'aws:userid', value: ofIamCaller((identity) => identity.userId) },
  { name: 'aws:username', value: ofIamCaller((identity) => identity.userName) },
  // Temporary credentials carry aws:TokenIssueTime and aws:MultiFactorAuthPresent (false: Coffer has no MFA); "The
  // key isn't present in ... requests that are made using long-term credentials." (MultiFactorAuthPresent)
  { name: 'aws:TokenIssueTime', value: (_identity, _request, facts) => facts.tokenIssuedAt?.toISOString() },
  { name: 'aws:MultiFactorAuthPresent', value: (_identity, _request, facts) => (facts.tokenIssuedAt === undefined ? undefined : false) },
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceidentity
  { name: 'aws:SourceIdentity', value: (identity) => identity.sourceIdentity },
  // A service calling on the caller's behalf (Secrets Manager calling KMS, a forward access session):
  // aws:ViaAWSService is true and aws:CalledVia lists the service principal, `secretsmanager.amazonaws.com`.
  { name: 'aws:ViaAWSService', value: (_identity, _request, facts) => facts.viaService !== undefined },
  {
    name: 'aws:CalledVia',
    value: (_identity, _request, facts) => {
      const principal = viaServicePrincipal(facts);
      return principal === undefined ? undefined : [principal];
    },
  },
  { name: 'aws:CalledViaFirst', value: (_identity, _request, facts) => viaServicePrincipal(facts) },
  { name: 'aws:CalledViaLast', value: (_identity, _request, facts) => viaServicePrincipal(facts) },
];

/** KMS's own global keys, on kms: actions only; listed after the principal's tags. */
const KMS_KEYS: readonly GlobalKey[] = [
  { name: 'kms:CallerAccount', value: (identity, request) => (request.action.startsWith('kms:') ? identity.principal.accountId : undefined) },
  { name: 'kms:ViaService', value: (_identity, request, facts) => (request.action.startsWith('kms:') ? facts.viaService : undefined) },
];

const GLOBAL_KEYS_BY_LOWER_CASE = new Map([...GLOBAL_KEYS, ...KMS_KEYS].map((key) => [key.name.toLowerCase(), key]));
const PRINCIPAL_TAG_PREFIX = 'aws:PrincipalTag/';
const PRINCIPAL_TAG_PREFIX_LOWER = PRINCIPAL_TAG_PREFIX.toLowerCase();

/**
 * The request context of one check, built whole: the global keys (GLOBAL_KEYS, the principal's tags, KMS_KEYS),
 * then the service's own keys, later names over earlier ones. Simulation and refusal messages list it; a check
 * itself reads only the keys its conditions ask for (`globalKeyOf`), which give the same values.
 */
export function requestContext(identity: PrincipalPolicies, request: AccessRequest, facts: RequestFacts): RequestContextValues {
  const context: Record<string, ContextValue> = {};
  for (const key of GLOBAL_KEYS) context[key.name] = key.value(identity, request, facts);
  for (const key in identity.tags) context[PRINCIPAL_TAG_PREFIX + key] = identity.tags[key];
  for (const key of KMS_KEYS) context[key.name] = key.value(identity, request, facts);
  for (const key in request.context) context[key] = request.context[key];
  return context;
}

/**
 * The request context of one check as its conditions read it: the same keys and values as `requestContext`'s
 * record normalized, each global key computed when a condition first asks for it.
 */
export function requestContextView(identity: PrincipalPolicies, request: AccessRequest, facts: RequestFacts): NormalizedContext {
  const authorization = { principal: identity.principal, action: request.action, resource: request.resource, context: request.context ?? NO_CONTEXT };
  return normalizeContext(authorization, (key, own) => globalKeyOf(identity, request, facts, key, own));
}

/**
 * One global key of a check by lower-cased name, as the record `requestContext` builds would give it once the
 * service's own keys (`own`) had no defined value under that name: a name `own` lists with an undefined value hides
 * the global key of exactly that spelling, and of principal tags differing only in case the last one wins.
 */
function globalKeyOf(identity: PrincipalPolicies, request: AccessRequest, facts: RequestFacts, key: string, own: RequestContextValues): ContextValue {
  const known = GLOBAL_KEYS_BY_LOWER_CASE.get(key);
  if (known) return Object.hasOwn(own, known.name) ? undefined : known.value(identity, request, facts);
  if (!key.startsWith(PRINCIPAL_TAG_PREFIX_LOWER)) return undefined;
  const tagKeys = Object.keys(identity.tags);
  for (let index = tagKeys.length - 1; index >= 0; index--) {
    const name = PRINCIPAL_TAG_PREFIX + tagKeys[index];
    if (lowerCaseKey(name) === key && !Object.hasOwn(own, name)) return identity.tags[tagKeys[index]!];
  }
  return undefined;
}

function denied(reason: 'ExplicitDeny' | 'ImplicitDeny', deniedBy: DeniedBy): AccessDecision {
  return { allowed: false, reason, deniedBy };
}

/** Which side failed to allow, for the message: a key policy that does not allow is the resource-based side. */
function implicitDenySide(
  request: AccessRequest,
  identityResults: readonly PolicyEvaluation[],
  resourceResult: PolicyEvaluation | undefined,
): 'identity-based' | 'resource-based' {
  const identityAllows = identityResults.some((result) => result.decision === 'Allow');
  if (request.resourceKind === 'key-policy') return resourceResult?.decision === 'Allow' && !identityAllows ? 'identity-based' : 'resource-based';
  if (!identityAllows) return 'identity-based';
  return 'resource-based';
}

/** What services call: allows the request or throws AccessDeniedException with AWS's message. */
export interface Authorizer {
  authorize(ctx: RequestContext, request: AccessRequest): Promise<void>;
  /**
   * `authorize` without a promise when the check is decided at once (the common case: the identity already on the
   * call's ledger or read without I/O, no costly keys in play): undefined when allowed, the refusal thrown. A
   * promise only when it must wait. For the hot paths (every KMS key check), where awaiting a settled promise still
   * cost a turn of the microtask queue per check.
   */
  authorizeNow(ctx: RequestContext, request: AccessRequest): Promise<void> | undefined;
}

/**
 * The authorizer over an identity source. The caller's identity policies are loaded once per call (kept on the
 * call's access ledger), so Secrets Manager's check and the KMS check it makes on the caller's behalf share them.
 */
export function createAuthorizer(identities: IdentityPolicySource, options: { messages?: AuthorizationMessageEncoder } = {}): Authorizer {
  /** The caller's identity, kept on the call's ledger; a promise only when it had to be read. */
  function loadIdentity(ctx: RequestContext): PrincipalPolicies | Promise<PrincipalPolicies> {
    const loaded = identities.policiesFor(ctx.principal);
    return loaded instanceof Promise ? loaded.then((identity) => kept(ctx, identity)) : kept(ctx, loaded);
  }

  function kept(ctx: RequestContext, identity: PrincipalPolicies): PrincipalPolicies {
    if (ctx.access) ctx.access.identity = identity;
    return identity;
  }

  function decideOrThrow(ctx: RequestContext, identity: PrincipalPolicies, request: AccessRequest): void {
    const facts = requestFacts(ctx);
    const decision = checkAccess(identity, request, facts);
    noteCheck(ctx, request, decision);
    if (!decision.allowed) throw refusal(ctx.principal.arn, identity, request, decision, facts, options.messages);
  }

  /** A check that waits for the identity's load or for costly keys a policy in play tests (asked again: remembered per policy). */
  async function authorizeAfterLoading(ctx: RequestContext, known: PrincipalPolicies | Promise<PrincipalPolicies>, request: AccessRequest): Promise<void> {
    const identity = known instanceof Promise ? await known : known;
    const complete = request.costlyContext && testsCostlyKeys(identity, request) ? await withCostlyContext(request) : request;
    decideOrThrow(ctx, identity, complete);
  }

  // Awaits only what needs I/O: the identity's first load in a call when it reads the store, and costly keys a
  // policy in play tests. The common check (the KMS check of a GetSecretValue: identity on the ledger, no tag
  // condition; the root caller's first check) is decided at once, without an async frame (≈ 0.25 KB per check; a
  // GetSecretValue makes two).
  function authorizeNow(ctx: RequestContext, request: AccessRequest): Promise<void> | undefined {
    const known = (ctx.access?.identity as PrincipalPolicies | undefined) ?? loadIdentity(ctx);
    if (known instanceof Promise || (request.costlyContext && testsCostlyKeys(known, request))) return authorizeAfterLoading(ctx, known, request);
    decideOrThrow(ctx, known, request);
    return undefined;
  }

  return {
    // authorizeNow's answer as a promise: a settled one when decided at once; a refusal is a rejection, never a throw.
    authorize(ctx, request) {
      try {
        return authorizeNow(ctx, request) ?? ALLOWED_NOW;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    authorizeNow,
  };
}

/** The answer of every check decided at once: one settled promise, shared (nothing can change a settled promise). */
const ALLOWED_NOW: Promise<void> = Promise.resolve();

/** The request-wide facts of a call, read from its context. */
export function requestFacts(ctx: RequestContext): RequestFacts {
  return {
    currentTime: ctx.clock.now(),
    sourceIp: ctx.sourceIp,
    viaService: ctx.viaService,
    region: ctx.region,
    secureTransport: ctx.secureTransport,
    tokenIssuedAt: ctx.principal.tokenIssuedAt,
  };
}

/**
 * Counts the check on the call's ledger and notes the resource the call's audit event names: what was allowed, or
 * for a refusal the resource as the caller named it. Checks made on the caller's behalf by another service
 * (Secrets Manager's KMS calls) are not the call's own resource and are not noted.
 */
function noteCheck(ctx: RequestContext, request: AccessRequest, decision: AccessDecision): void {
  const ledger = ctx.access;
  if (!ledger) return;
  ledger.checks += 1;
  if (ctx.viaService !== undefined) return;
  const shown = decision.allowed || !request.named ? request : request.named;
  if (shown.resource === '*') return;
  (ledger.resources ??= []).push({ arn: shown.resource, accountId: shown.resourceAccount });
}

/** AccessDeniedException for a refused request; one that names its resource is answered as the name would be (NamedResource). */
function refusal(principalArn: string, identity: PrincipalPolicies, request: AccessRequest, decision: AccessDecision, facts: RequestFacts, messages?: AuthorizationMessageEncoder) {
  const named = request.named;
  if (!named) return commonError('AccessDeniedException', accessDeniedMessage(principalArn, request, decision) + encoded(messages, identity, request, decision, facts));
  const onNamed = requestOnNamed(request.action, named);
  const onName = checkAccess(identity, onNamed, facts);
  // A caller the name alone would refuse hears exactly that; one allowed on the name may learn why the resource refused it.
  const answered = onName.allowed ? decision : onName;
  const message = accessDeniedMessage(principalArn, { action: request.action, resource: named.shownAs ?? named.resource }, answered);
  return commonError('AccessDeniedException', message + encoded(messages, identity, onName.allowed ? request : onNamed, answered, facts));
}

/**
 * Seals a refusal's details (DecodeAuthorizationMessage) for the AccessDenied message. Implemented over crypto and
 * wired by server/compose.ts only with `--encode-authorization-messages`: AWS's Secrets Manager and KMS refusals
 * carry no encoded message, so by default Coffer's messages stay exactly theirs.
 */
export interface AuthorizationMessageEncoder {
  /** The blob for one refusal (policy/authorization-failure.ts turns the refusal into DecodeAuthorizationMessage's text). */
  encode(refusal: Refusal, now: Date): string;
}

/** A refused check, as the authorizer decided it. */
export type Refusal = { readonly identity: PrincipalPolicies; readonly request: AccessRequest; readonly facts: RequestFacts; readonly decision: AccessDecision };

/** ` Encoded authorization failure message: <blob>` (the wording of AWS services that encode), or nothing. */
function encoded(messages: AuthorizationMessageEncoder | undefined, identity: PrincipalPolicies, request: AccessRequest, decision: AccessDecision, facts: RequestFacts): string {
  if (!messages) return '';
  return ` Encoded authorization failure message: ${messages.encode({ identity, request, facts, decision }, facts.currentTime)}`;
}

/**
 * Whether a policy that will be evaluated tests one of the request's costly keys. Remembered per compiled policy
 * and prefix list (both long-lived: policies come from the compiled-policy cache, prefix lists are module constants),
 * since every check of a secret or key asks it.
 */
function testsCostlyKeys(identity: PrincipalPolicies, request: AccessRequest): boolean {
  const prefixes = request.costlyContext!.keyPrefixes;
  return (
    anyTestsPrefixes(identity.policies, prefixes) ||
    anyTestsPrefixes(identity.permissionsBoundary, prefixes) ||
    anyTestsPrefixes(identity.sessionPolicies, prefixes) ||
    (request.resourcePolicy !== undefined && policyTestsPrefixes(request.resourcePolicy, prefixes))
  );
}

/** A loop, not `policies.some(closure)`: every check of a secret or key asks, and the closure was made each time. */
function anyTestsPrefixes(policies: readonly CompiledPolicy[] | undefined, prefixes: readonly string[]): boolean {
  if (policies === undefined) return false;
  for (let index = 0; index < policies.length; index++) if (policyTestsPrefixes(policies[index]!, prefixes)) return true;
  return false;
}

const PREFIX_TESTS = new WeakMap<CompiledPolicy, WeakMap<readonly string[], boolean>>();

function policyTestsPrefixes(policy: CompiledPolicy, prefixes: readonly string[]): boolean {
  let byPrefixes = PREFIX_TESTS.get(policy);
  if (!byPrefixes) PREFIX_TESTS.set(policy, (byPrefixes = new WeakMap()));
  let tested = byPrefixes.get(prefixes);
  if (tested === undefined) {
    tested = policy.statements.some((statement) => statement.contextKeys.some((key) => prefixes.some((prefix) => key.startsWith(prefix))));
    byPrefixes.set(prefixes, tested);
  }
  return tested;
}

/** The request with its costly condition keys filled in (testsCostlyKeys said a policy in play tests one). */
async function withCostlyContext(request: AccessRequest): Promise<AccessRequest> {
  return { ...request, context: { ...(await request.costlyContext!.load()), ...request.context } };
}
