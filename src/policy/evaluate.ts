/**
 * Evaluation: each compiled policy against one request, then `decide` combines identity and resource policy
 * results with AWS's rules.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 */
import type { CompiledCondition, CompiledPolicy, PrincipalMatch } from './compile.js';
import { normalizeContext, type NormalizedContext } from './context-keys.js';
import type { AuthorizationRequest } from './types.js';

export type Decision = 'Allow' | 'Deny' | 'NotApplicable';

export type PolicyEvaluation = {
  /** Deny when any matching statement denies ("an explicit deny overrides an explicit allow"). */
  readonly decision: Decision;
  /**
   * For Allow: `principal` if a statement named the caller directly (or had no Principal, as in identity
   * policies); `account` if only statements naming the caller's account matched, which delegates the decision to
   * that account's IAM policies. Undefined unless the decision is Allow.
   */
  readonly allowedVia: 'principal' | 'account' | undefined;
  /** For a direct Allow: true when every allowing statement named a role session through its role's ARN only. */
  readonly viaRoleArn?: boolean;
  /** Sids (or statement indexes as `#n`) of the statements that decided, for audit and AccessDenied messages. */
  readonly statements: readonly string[];
  /**
   * For Allow: true when an allowing statement's Principal lists the caller's own ARN (a role session's session
   * ARN, not its role): such an allow is not limited by the session's session policies (see `listsArn`).
   */
  readonly namesCaller?: boolean;
};

function evaluateOne(policy: CompiledPolicy, request: AuthorizationRequest, context: () => NormalizedContext): PolicyEvaluation {
  // Every check runs this for each policy in play: the lists are made only when a statement matches, and the
  // statements are walked by index (no closure per policy).
  let denies: string[] | undefined;
  let direct: string[] | undefined;
  let directByRoleArnOnly = true;
  let viaAccount: string[] | undefined;
  let namesCaller = false;
  const statements = policy.statements;
  for (let index = 0; index < statements.length; index++) {
    const statement = statements[index]!;
    const match: PrincipalMatch | undefined = statement.principal ? statement.principal(request.principal) : 'principal';
    if (match === undefined) continue;
    if (!statement.action(request.action) || !statement.resource(request.resource, context)) continue;
    // Conditions: different operators and different keys are ANDed.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
    if (!conditionsHold(statement.conditions, context)) continue;
    const name = statement.sid ?? `#${index}`;
    if (statement.effect === 'Deny') (denies ??= []).push(name);
    else if (match === 'principal' || match === 'role') {
      (direct ??= []).push(name);
      if (match === 'principal') directByRoleArnOnly = false;
      if (statement.principal && statement.listsArn(request.principal.arn)) namesCaller = true;
    } else (viaAccount ??= []).push(name);
  }
  if (denies) return { decision: 'Deny', allowedVia: undefined, statements: denies };
  if (direct) {
    return directByRoleArnOnly
      ? { decision: 'Allow', allowedVia: 'principal', statements: direct, namesCaller, viaRoleArn: true }
      : { decision: 'Allow', allowedVia: 'principal', statements: direct, namesCaller };
  }
  if (viaAccount) return { decision: 'Allow', allowedVia: 'account', statements: viaAccount };
  return NOT_APPLICABLE;
}

/** What a policy with no matching statement gives: one shared, frozen result. */
const NOT_APPLICABLE: PolicyEvaluation = Object.freeze({ decision: 'NotApplicable', allowedVia: undefined, statements: Object.freeze([]) as readonly string[] });

function conditionsHold(conditions: readonly CompiledCondition[], context: () => NormalizedContext): boolean {
  for (const condition of conditions) {
    if (!condition.test(context().get(condition.key), context)) return false;
  }
  return true;
}

/** One policy against the request (a resource's policy), without the list `evaluate` makes. */
export function evaluatePolicy(policy: CompiledPolicy, request: AuthorizationRequest, context: () => NormalizedContext = lazyContext(request)): PolicyEvaluation {
  return evaluateOne(policy, request, context);
}

/**
 * Evaluates each policy against the request; one result per policy, in order. Pure and synchronous. The context
 * is normalized when a condition first needs it (most statements have none), once for all the policies given;
 * callers that evaluate several lists against one request pass one `lazyContext(request)` to share it.
 */
export function evaluate(
  policies: readonly CompiledPolicy[],
  request: AuthorizationRequest,
  context: () => NormalizedContext = lazyContext(request),
): PolicyEvaluation[] {
  return policies.map((policy) => evaluateOne(policy, request, context));
}

/** The request's normalized context, built on the first call and reused after. */
export function lazyContext(request: AuthorizationRequest): () => NormalizedContext {
  let context: NormalizedContext | undefined;
  return () => (context ??= normalizeContext(request));
}

export type DecideInput = {
  /** Results of the caller's identity policies (inline, attached, session), from `evaluate`. */
  readonly identityPolicies: readonly PolicyEvaluation[];
  /** The resource's policy (secret resource policy, key policy); undefined when the resource has none. */
  readonly resourcePolicy: PolicyEvaluation | undefined;
  readonly principalAccount: string;
  readonly resourceAccount: string;
  /**
   * `key-policy` for KMS keys: the key policy is the root of access, and IAM policies count only when the key
   * policy delegates to the account. The default key policy "has one policy statement that gives the AWS account
   * that owns the KMS key permission to use IAM policies to allow access to all AWS KMS operations on the KMS
   * key" — its Principal is `arn:aws:iam::<acct>:root`, which means "IAM policies of that account decide", not
   * "only the root user". So a key policy allows directly (naming the caller) or delegates through the account
   * root, and then an identity policy must allow too. Grants are a third path, checked by the caller of decide.
   * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
   * Defaults to `resource-policy` (Secrets Manager), where a resource policy is optional.
   */
  readonly resourceKind?: 'resource-policy' | 'key-policy';
};

export type FinalDecision = {
  readonly decision: 'Allow' | 'Deny';
  readonly reason: 'ExplicitDeny' | 'Allowed' | 'ImplicitDeny';
};

/**
 * AWS's combination: an explicit deny in any policy wins. Within one account an identity policy OR a resource
 * policy naming the caller may allow ("If either the identity-based policy or the resource-based policy within
 * the same account allows the request and the other doesn't, the request is still allowed."); across accounts
 * both sides must allow ("The request is allowed only if both evaluations return true"). A resource policy that
 * names only the caller's account (root ARN / account id) delegates: the identity side must allow as well.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
 */
export function decide(input: DecideInput): FinalDecision {
  if (input.identityPolicies.some(isDeny) || (input.resourcePolicy !== undefined && isDeny(input.resourcePolicy))) return EXPLICIT_DENY;

  const identityAllows = input.identityPolicies.some((result) => result.decision === 'Allow');
  const resource = input.resourcePolicy;
  const resourceAllowsDirectly = resource?.decision === 'Allow' && resource.allowedVia === 'principal';
  const resourceAllows = resource?.decision === 'Allow';
  const sameAccount = input.principalAccount === input.resourceAccount;

  let allowed: boolean;
  if (input.resourceKind === 'key-policy') {
    // The key policy must allow: directly (same account), or by delegation that the caller's IAM policies use.
    // Across accounts a key policy naming an external principal directly still needs that principal's own
    // account to allow it through IAM ("both evaluations return true").
    allowed = sameAccount ? resourceAllowsDirectly || (resourceAllows && identityAllows) : resourceAllows && identityAllows;
  } else if (sameAccount) {
    allowed = identityAllows || resourceAllowsDirectly;
  } else {
    allowed = identityAllows && resourceAllows;
  }
  return allowed ? ALLOWED : IMPLICIT_DENY;
}

// decide's three answers, shared (frozen) rather than made for every check.
const ALLOWED: FinalDecision = Object.freeze({ decision: 'Allow', reason: 'Allowed' });
const IMPLICIT_DENY: FinalDecision = Object.freeze({ decision: 'Deny', reason: 'ImplicitDeny' });
const EXPLICIT_DENY: FinalDecision = Object.freeze({ decision: 'Deny', reason: 'ExplicitDeny' });

/** Whether a policy's evaluation denies explicitly. */
export function isDeny(result: PolicyEvaluation): boolean {
  return result.decision === 'Deny';
}
