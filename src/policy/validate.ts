/**
 * Findings about a policy for ValidateResourcePolicy / PutResourcePolicy / PutKeyPolicy / PutUserPolicy, in the
 * style of IAM Access Analyzer's ValidatePolicy, plus `isPublic` for BlockPublicPolicy.
 * Issue codes follow https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html
 */
import type { Logger } from '../core/index.js';
import { buildKeyTest, parseOperator } from './conditions/registry.js';
import { describePath, finding, type Path } from './findings.js';
import { keyMaySet } from './key-catalog.js';
import { parsePolicy } from './parse.js';
import type { PolicyDocument, PolicyFinding, PolicyStatement, PrincipalSpec } from './types.js';
import { splitArn } from './wildcard.js';

/** Identity policies (inline user/role policies) name no Principal; resource policies (secret, key) must. */
export const POLICY_TYPES = ['IDENTITY_POLICY', 'RESOURCE_POLICY'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

const ACTION = /^([a-zA-Z0-9-]+:[a-zA-Z0-9*?]+|\*)$/;
const ACCOUNT_SEGMENT = /^(\d{12}|[\d*?]*[*?][\d*?]*|)$/;
const PRINCIPAL_ARN = /^arn:aws:(iam|sts)::\d{12}:.+$/;

const at = (path: Path, ...elements: (string | number)[]): Path => [
  ...path,
  ...elements.map((element) => (typeof element === 'number' ? { Index: element } : { Value: element })),
];

function checkResources(statement: PolicyStatement, path: Path, out: PolicyFinding[]): void {
  for (const member of ['Resource', 'NotResource'] as const) {
    (statement[member] ?? []).forEach((resource, index) => {
      if (resource === '*') return;
      const location = at(path, member, index);
      const parts = splitArn(resource);
      if (!parts || parts[0] !== 'arn' || parts[1] === '' || parts[2] === '' || parts[5] === '') {
        out.push(finding('ERROR', 'INVALID_ARN_RESOURCE', `The resource ${resource} at ${describePath(location)} is not a valid ARN (arn:partition:service:region:account:resource).`, location));
      } else if (!ACCOUNT_SEGMENT.test(parts[4]!)) {
        out.push(finding('ERROR', 'INVALID_ARN_ACCOUNT', `The account in the ARN ${resource} must be a 12-digit account id.`, location));
      }
    });
  }
}

/**
 * An IAM group names no one who can sign a request: "You cannot identify a user group as a principal in a policy
 * (such as a resource-based policy) because groups relate to permissions, not authentication", and IAM, KMS and
 * Secrets Manager refuse such a policy as malformed.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 */
const GROUP_ARN = /^arn:aws:iam::[^:]*:group\//;

function checkPrincipal(spec: PrincipalSpec | undefined, path: Path, out: PolicyFinding[]): void {
  if (spec === undefined || spec === '*') return;
  (spec.AWS ?? []).forEach((value, index) => {
    const location = at(path, 'AWS', index);
    if (GROUP_ARN.test(value)) {
      out.push(finding('ERROR', 'UNSUPPORTED_PRINCIPAL', `Invalid principal in policy: "AWS":"${value}" (an IAM group cannot be a principal).`, location));
      return;
    }
    if (value === '*' || /^\d{12}$/.test(value) || PRINCIPAL_ARN.test(value)) return;
    out.push(finding('ERROR', 'INVALID_PRINCIPAL_FORMAT', `The principal ${value} must be "*", a 12-digit account id or an IAM/STS ARN.`, location));
  });
}

/**
 * All findings for a policy text: the parse errors when it does not parse, otherwise errors, security
 * warnings, warnings and suggestions about the parsed document.
 */
export function validatePolicy(text: string, policyType: PolicyType): PolicyFinding[] {
  const parsed = parsePolicy(text);
  if (parsed.findings) return [...parsed.findings];
  return validateDocument(parsed.document, policyType);
}

export function validateDocument(document: PolicyDocument, policyType: PolicyType): PolicyFinding[] {
  const out: PolicyFinding[] = [];
  if (document.Version === undefined) {
    out.push(finding('WARNING', 'MISSING_VERSION', 'Add "Version": "2012-10-17"; without it the policy uses 2008-10-17, which has no policy variables.'));
  }
  document.Statement.forEach((statement, index) => {
    const path: Path = [{ Value: 'Statement' }, { Index: index }];
    const hasPrincipal = statement.Principal !== undefined || statement.NotPrincipal !== undefined;
    if (policyType === 'RESOURCE_POLICY' && !hasPrincipal) {
      out.push(finding('ERROR', 'MISSING_PRINCIPAL', 'Add a Principal element: a resource policy must name who it applies to.', path));
    }
    if (policyType === 'IDENTITY_POLICY' && hasPrincipal) {
      const member = statement.Principal !== undefined ? 'Principal' : 'NotPrincipal';
      out.push(finding('ERROR', 'UNSUPPORTED_PRINCIPAL', `The ${member} element is not supported for identity policies.`, at(path, member)));
    }
    if (statement.Resource === undefined && statement.NotResource === undefined) {
      out.push(finding('ERROR', 'MISSING_RESOURCE', 'Add a Resource or NotResource element to the policy statement.', path));
    }
    for (const member of ['Action', 'NotAction'] as const) {
      const actions = statement[member];
      if (actions?.length === 0) {
        out.push(finding('SUGGESTION', 'EMPTY_ARRAY_ACTION', `The ${member} array is empty; the statement matches no action.`, at(path, member)));
      }
      actions?.forEach((action, actionIndex) => {
        if (!ACTION.test(action)) {
          out.push(finding('ERROR', 'INVALID_ACTION', `The action ${action} must have the form service:Action.`, at(path, member, actionIndex)));
        }
      });
    }
    if (statement.Resource?.length === 0) {
      out.push(finding('SUGGESTION', 'EMPTY_ARRAY_RESOURCE', 'The Resource array is empty; the statement matches no resource.', at(path, 'Resource')));
    }
    checkResources(statement, path, out);
    checkPrincipal(statement.Principal, at(path, 'Principal'), out);
    checkPrincipal(statement.NotPrincipal, at(path, 'NotPrincipal'), out);
    if (statement.Effect === 'Allow' && statement.NotPrincipal !== undefined) {
      out.push(finding('SECURITY_WARNING', 'ALLOW_WITH_NOT_PRINCIPAL', 'Allow with NotPrincipal grants access to every principal not listed, including anonymous ones.', at(path, 'NotPrincipal')));
    }
    checkConditionKeysSet(statement, at(path, 'Condition'), out);
    if (policyType === 'RESOURCE_POLICY' && isPublicStatement(statement)) {
      out.push(finding('SECURITY_WARNING', 'PUBLIC_ACCESS', 'The statement allows access to any principal ("*") without a condition that limits it to an account or organization.', path));
    }
  });
  return out;
}

/** The issue code of a condition on a key Coffer never sets for the statement's actions (Coffer's own check). */
export const CONDITION_KEY_NEVER_SET = 'CONDITION_KEY_NEVER_SET';

/**
 * A condition on a key Coffer never puts into the request context for the statement's actions (key-catalog.ts)
 * always sees the key absent. SECURITY_WARNING when that opens access: a Deny whose condition is then false never
 * applies, an Allow whose condition is then true (negated operators, IfExists, ForAllValues, Null true) is not
 * limited; otherwise (the statement never applies, or always denies) a WARNING.
 */
function checkConditionKeysSet(statement: PolicyStatement, path: Path, out: PolicyFinding[]): void {
  const actions = { action: statement.Action, notAction: statement.NotAction };
  for (const [operatorName, keys] of Object.entries(statement.Condition ?? {})) {
    const operator = parseOperator(operatorName);
    if ('issue' in operator) continue;
    for (const [key, values] of Object.entries(keys)) {
      if (keyMaySet(key, actions)) continue;
      const test = buildKeyTest(operator, values);
      const trueWhenAbsent = typeof test !== 'string' && test(undefined);
      const opensAccess = statement.Effect === 'Deny' ? !trueWhenAbsent : trueWhenAbsent;
      const outcome =
        statement.Effect === 'Deny'
          ? trueWhenAbsent ? 'so this Deny applies whenever its other conditions hold' : 'so this Deny never applies'
          : trueWhenAbsent ? 'so it does not limit this Allow' : 'so this Allow never applies';
      out.push(
        finding(
          opensAccess ? 'SECURITY_WARNING' : 'WARNING',
          CONDITION_KEY_NEVER_SET,
          `Coffer never sets the condition key ${key} for the actions of this statement: ${operatorName} always sees it absent, ${outcome}.`,
          at(path, operatorName, key),
        ),
      );
    }
  }
}

/**
 * For operations that store a policy (PutUserPolicy, PutRolePolicy, CreateRole, PutResourcePolicy, PutKeyPolicy,
 * CreateKey): logs a warning naming each condition on a key Coffer never sets. AWS's APIs return no warnings, so
 * the call succeeds as in AWS; the operator sees the trap in the log, the author through ValidateResourcePolicy.
 */
export function warnAboutNeverSetKeys(
  logger: Pick<Logger, 'warn'>,
  where: { readonly requestId: string; readonly operation: string; readonly resource: string },
  policy: PolicyDocument | string,
  policyType: PolicyType,
): void {
  const document = typeof policy === 'string' ? parsePolicy(policy).document : policy;
  if (!document) return;
  const traps = validateDocument(document, policyType).filter((item) => item.IssueCode === CONDITION_KEY_NEVER_SET);
  if (traps.length === 0) return;
  logger.warn('policy has conditions on keys Coffer never sets', {
    ...where,
    findings: traps.map((trap) => `${trap.FindingType} ${describePath(trap.Location?.Path ?? [])}: ${trap.FindingDetails}`),
  });
}

/**
 * Condition keys that limit a wildcard principal to known accounts, organizations or sources. A statement is
 * not public when it tests one of them with a positive operator (not a Not… operator, not IfExists, not
 * ForAllValues, which is true on an absent key) and a value that is not all wildcards.
 */
const RESTRICTING_KEYS = new Set([
  'aws:sourceaccount',
  'aws:principalaccount',
  'aws:sourcearn',
  'aws:principalarn',
  'aws:principalorgid',
  'aws:sourceorgid',
  'aws:sourceowner',
  'kms:calleraccount',
]);
const RESTRICTING_OPERATOR = /^(ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)$/;

function isRestricted(statement: PolicyStatement): boolean {
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    if (!RESTRICTING_OPERATOR.test(operator)) continue;
    for (const [key, values] of Object.entries(keys)) {
      if (RESTRICTING_KEYS.has(key.toLowerCase()) && values.length > 0 && values.every((value) => !/^[*?]*$/.test(value))) {
        return true;
      }
    }
  }
  return false;
}

function isPublicStatement(statement: PolicyStatement): boolean {
  if (statement.Effect !== 'Allow') return false;
  const principal = statement.Principal;
  const everyone =
    statement.NotPrincipal !== undefined || principal === '*' || (principal !== undefined && principal.AWS?.includes('*') === true);
  return everyone && !isRestricted(statement);
}

/**
 * True when the policy grants access to everyone: an Allow with Principal `*` / `{"AWS": "*"}` (or NotPrincipal)
 * and no condition limiting it to accounts or an organization (aws:SourceAccount, aws:PrincipalAccount,
 * aws:SourceArn, aws:PrincipalArn, aws:PrincipalOrgID, ...). PutResourcePolicy with BlockPublicPolicy refuses it.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html
 */
export function isPublic(document: PolicyDocument): boolean {
  return document.Statement.some(isPublicStatement);
}
