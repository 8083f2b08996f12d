/**
 * @module policy
 * The IAM policy language, pure: parse JSON text into a PolicyDocument (findings instead of throws), validate it
 * the way IAM Access Analyzer does, compile it once (wildcards and conditions prepared), and evaluate compiled
 * policies against a request, then `decide` identity and resource/key policy results with AWS's same-account and
 * cross-account rules. No I/O and no clock: the current time arrives as `aws:CurrentTime` in the request context.
 * It imports nothing from Coffer but core (and today not even that); never a store, a service or auth.
 * Policy variables are substituted in Resource and String/ARN condition values (variables.ts). The request
 * context's global keys are built in access.ts, which also applies a principal's permissions boundary and a
 * session's session policies (the identity source loads them). Federated principals match only a federated
 * caller (an OIDC provider's ARN, AssumeRoleWithWebIdentity). simulate.ts explains a checkAccess decision for
 * IAM's policy simulation; authorization-failure.ts describes a refusal for STS DecodeAuthorizationMessage. Not
 * supported: Binary operators, CanonicalUser principals (they never match), and SCPs.
 */
export * from './types.js';
export { parsePolicy, parsePolicyValue, type ParseResult } from './parse.js';
export { validatePolicy, validateDocument, isPublic, warnAboutNeverSetKeys, CONDITION_KEY_NEVER_SET, POLICY_TYPES, type PolicyType } from './validate.js';
export {
  compilePolicy,
  compilePolicyText,
  type CompiledPolicy,
  type CompiledStatement,
  type CompiledCondition,
  type PrincipalMatch,
} from './compile.js';
export { evaluate, decide, type Decision, type PolicyEvaluation, type DecideInput, type FinalDecision } from './evaluate.js';
export { OPERATOR_NAMES, SET_OPERATORS } from './conditions/registry.js';
export {
  checkAccess,
  accessDeniedMessage,
  requestOnNamed,
  type NamedResource,
  createAuthorizer,
  type AccessDecision,
  type DeniedBy,
  type AccessRequest,
  type Authorizer,
  type IdentityPolicySource,
  type PrincipalPolicies,
  type RequestFacts,
  requestFacts,
  type CallerType,
  type PolicySource,
  type PolicySourceType,
  requestContext,
  type AuthorizationMessageEncoder,
  type Refusal,
} from './access.js';
export { authorizationFailureMessage } from './authorization-failure.js';
export { simulateAccess, type LabelledPolicy, type SimulationRequest, type SimulationResult, type MatchedStatement, type SimulatedDecision } from './simulate.js';
export { contextKeyNames, statementPositions, type TextPosition } from './policy-text.js';
export { CompiledPolicyCache } from './compiled-cache.js';
export { requestTagContext } from './context-keys.js';
