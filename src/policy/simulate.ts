/**
 * Policy simulation (IAM's SimulatePrincipalPolicy / SimulateCustomPolicy): the decision is `checkAccess`'s, the
 * very function every real request is decided by, over the same identity and request context; this file only
 * explains it (which statements of which policies decided, which condition keys were missing, each side's
 * decision, the permissions boundary's part). Pure.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
 */
import { checkAccess, requestContext, type AccessDecision, type AccessRequest, type PolicySource, type PrincipalPolicies, type RequestFacts } from './access.js';
import type { CompiledPolicy } from './compile.js';
import { normalizeContext } from './context-keys.js';
import { evaluate, lazyContext, type PolicyEvaluation } from './evaluate.js';
import { contextKeyNames } from './policy-text.js';
import type { AuthorizationRequest } from './types.js';

/** A compiled policy with the name simulation results give it. */
export type LabelledPolicy = { readonly policy: CompiledPolicy; readonly source: PolicySource };

export type SimulatedDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export type SimulationRequest = {
  /** The simulated caller with its identity policies (and their `sources`), as the identity source gives them. */
  readonly identity: PrincipalPolicies;
  /** The request as a service would check it; `resourcePolicy` is evaluated as the resource's own policy. */
  readonly request: AccessRequest;
  /** The resource policy's label and text (for MatchedStatements); required when `request.resourcePolicy` is set. */
  readonly resourcePolicySource?: PolicySource;
  /**
   * Permissions boundary policies (PermissionsBoundaryPolicyInputList); undefined when none applies. A boundary
   * caps what identity policies allow; an explicit deny in it denies; a resource policy that names the caller
   * still allows on its own in the same account (it is not an identity-based grant).
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-eval-logic
   */
  readonly boundary?: readonly LabelledPolicy[];
  readonly facts: RequestFacts;
};

/** A statement that decided: its policy's label and its index in that policy's Statement list. */
export type MatchedStatement = { readonly source: PolicySource; readonly statementIndex: number };

export type SimulationResult = {
  readonly decision: SimulatedDecision;
  /** The statements that decided: the denying ones for an explicit deny, the allowing ones for an allow, none otherwise. */
  readonly matched: readonly MatchedStatement[];
  /** Condition keys the applicable statements test that the request context lacks, as the policies spell them. */
  readonly missingContextKeys: readonly string[];
  /** Each side's decision when a resource policy took part: `IAM Policy`, `Resource Policy`. */
  readonly decisionDetails?: Readonly<Record<string, SimulatedDecision>>;
  /** Whether the permissions boundary allows the action; undefined when no boundary applies. */
  readonly allowedByBoundary?: boolean;
};

/** Simulates one action on one resource. */
export function simulateAccess(simulation: SimulationRequest): SimulationResult {
  const { identity, request, facts } = simulation;
  const identityPolicies = labelIdentityPolicies(identity);
  const resourcePolicies: LabelledPolicy[] =
    request.resourcePolicy && simulation.resourcePolicySource ? [{ policy: request.resourcePolicy, source: simulation.resourcePolicySource }] : [];
  const boundary = simulation.boundary ?? [];

  const authorization: AuthorizationRequest = {
    principal: identity.principal,
    action: request.action,
    resource: request.resource,
    context: requestContext(identity, request, facts),
  };
  const context = lazyContext(authorization);
  const evaluateEach = (policies: readonly LabelledPolicy[]) =>
    evaluate(
      policies.map((labelled) => labelled.policy),
      authorization,
      context,
    );
  const identityResults = evaluateEach(identityPolicies);
  const resourceResults = evaluateEach(resourcePolicies);
  const boundaryResults = evaluateEach(boundary);

  const checked = checkAccess(identity, request, facts);
  let decision = decisionOf(checked);
  let allowedByBoundary: boolean | undefined;
  if (simulation.boundary !== undefined) {
    allowedByBoundary = boundaryResults.some((result) => result.decision === 'Allow') && !boundaryResults.some((result) => result.decision === 'Deny');
    if (boundaryResults.some((result) => result.decision === 'Deny')) decision = 'explicitDeny';
    else if (decision === 'allowed' && !allowedByBoundary && !allowedByResourcePolicyAlone(identity, request, facts)) decision = 'implicitDeny';
  }

  const considered: Array<[LabelledPolicy, PolicyEvaluation]> = [
    ...pair(identityPolicies, identityResults),
    ...pair(resourcePolicies, resourceResults),
    ...(decision === 'explicitDeny' ? pair(boundary, boundaryResults) : []),
  ];
  const wanted = decision === 'explicitDeny' ? 'Deny' : decision === 'allowed' ? 'Allow' : undefined;
  const matched = wanted ? considered.filter(([, result]) => result.decision === wanted).flatMap(([labelled, result]) => matchedStatements(labelled, result)) : [];

  return {
    decision,
    matched,
    missingContextKeys: missingKeys([...identityPolicies, ...resourcePolicies, ...boundary], authorization),
    decisionDetails: resourcePolicies.length > 0 ? { 'IAM Policy': sideDecision(identityResults, identity, request), 'Resource Policy': sideDecision(resourceResults) } : undefined,
    allowedByBoundary,
  };
}

/** The identity policies with their labels; policies a source added without a label are named by position. */
function labelIdentityPolicies(identity: PrincipalPolicies): LabelledPolicy[] {
  const aligned = identity.sources?.length === identity.policies.length ? identity.sources : undefined;
  return identity.policies.map((policy, index) => ({ policy, source: aligned?.[index] ?? { id: `policy-${index + 1}`, type: 'none' } }));
}

function decisionOf(decision: AccessDecision): SimulatedDecision {
  if (decision.allowed) return 'allowed';
  return decision.reason === 'ExplicitDeny' ? 'explicitDeny' : 'implicitDeny';
}

/** Whether the resource policy allows with no identity-based grant at all (what a boundary cannot take away). */
function allowedByResourcePolicyAlone(identity: PrincipalPolicies, request: AccessRequest, facts: RequestFacts): boolean {
  if (!request.resourcePolicy) return false;
  return checkAccess({ ...identity, unrestricted: false, policies: [], sources: [] }, request, facts).allowed;
}

/** One side's own verdict: an explicit deny in it, an allow in it (the root's implicit allow counts), or neither. */
function sideDecision(results: readonly PolicyEvaluation[], identity?: PrincipalPolicies, request?: AccessRequest): SimulatedDecision {
  if (results.some((result) => result.decision === 'Deny')) return 'explicitDeny';
  if (results.some((result) => result.decision === 'Allow')) return 'allowed';
  if (identity?.unrestricted && identity.principal.accountId === request?.resourceAccount) return 'allowed';
  return 'implicitDeny';
}

function pair(policies: readonly LabelledPolicy[], results: readonly PolicyEvaluation[]): Array<[LabelledPolicy, PolicyEvaluation]> {
  return policies.map((labelled, index) => [labelled, results[index]!]);
}

/** evaluate names statements by Sid (unique within a policy) or `#<index>`; back to indexes. */
function matchedStatements(labelled: LabelledPolicy, result: PolicyEvaluation): MatchedStatement[] {
  const statements = labelled.policy.statements;
  return result.statements.flatMap((name) => {
    let index = statements.findIndex((statement) => statement.sid === name);
    if (index < 0 && name.startsWith('#')) index = Number(name.slice(1));
    return index >= 0 && index < statements.length ? [{ source: labelled.source, statementIndex: index }] : [];
  });
}

/**
 * Keys tested by statements that apply to the action (their Action/NotAction matches) and absent from the
 * request context, spelled as the policy text writes them when it is known.
 */
function missingKeys(policies: readonly LabelledPolicy[], authorization: AuthorizationRequest): string[] {
  const present = normalizeContext(authorization);
  const spelled = new Map<string, string>();
  for (const { source } of policies) {
    if (source.text === undefined) continue;
    for (const name of contextKeyNames(source.text)) if (!spelled.has(name.toLowerCase())) spelled.set(name.toLowerCase(), name);
  }
  const missing = new Map<string, string>();
  for (const { policy } of policies) {
    for (const statement of policy.statements) {
      if (!statement.action(authorization.action)) continue;
      for (const key of statement.contextKeys) {
        if (!present.has(key) && !missing.has(key)) missing.set(key, spelled.get(key) ?? key);
      }
    }
  }
  return [...missing.values()];
}
