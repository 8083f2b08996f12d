/**
 * PolicyDocument → CompiledPolicy: every wildcard becomes a regular expression and every condition a prepared
 * test once, so a policy is compiled when it is stored or loaded and evaluated many times.
 */
import { buildKeyTest, parseOperator, type KeyTest } from './conditions/registry.js';
import { parsePolicy } from './parse.js';
import type { Effect, PolicyDocument, PolicyFinding, PolicyStatement, PrincipalSpec, RequestPrincipal } from './types.js';
import { anyArnMatcher, globMatcher, type Matcher } from './wildcard.js';

/**
 * How a statement's Principal matched the caller. `principal`: named directly (its ARN, its role, `*`, its
 * service). `account`: only through its account (`"123456789012"` or `arn:aws:iam::123456789012:root`), which
 * AWS reads as delegation: "The account ARN and the shortened account ID behave the same way. Both delegate
 * permissions to the account." https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 */
export type PrincipalMatch = 'principal' | 'account';

export type CompiledCondition = {
  readonly operator: string;
  /** The context key, lower-cased: key names are case-insensitive. */
  readonly key: string;
  readonly test: KeyTest;
};

export type CompiledStatement = {
  readonly sid: string | undefined;
  readonly effect: Effect;
  /** Undefined when the statement has neither Principal nor NotPrincipal (identity policies). */
  readonly principal: ((principal: RequestPrincipal) => PrincipalMatch | undefined) | undefined;
  readonly action: Matcher;
  readonly resource: Matcher;
  readonly conditions: readonly CompiledCondition[];
};

export type CompiledPolicy = {
  readonly id: string | undefined;
  readonly statements: readonly CompiledStatement[];
};

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:aws:iam::(\d{12}):root$/;

function compilePrincipalSpec(spec: PrincipalSpec): (principal: RequestPrincipal) => PrincipalMatch | undefined {
  if (spec === '*') return () => 'principal';
  const aws = spec.AWS ?? [];
  const anyAws = aws.includes('*');
  const accounts = new Set<string>();
  const arnPatterns: string[] = [];
  for (const value of aws) {
    const account = ACCOUNT_ID.test(value) ? value : ROOT_ARN.exec(value)?.[1];
    if (account) accounts.add(account);
    else arnPatterns.push(value);
  }
  const arnMatch = arnPatterns.length > 0 ? anyArnMatcher(arnPatterns) : () => false;
  const services = new Set((spec.Service ?? []).map((service) => service.toLowerCase()));
  // Federated and CanonicalUser principals do not exist in Coffer: they never match.
  return (principal) => {
    if (principal.service !== undefined) return services.has(principal.service.toLowerCase()) ? 'principal' : undefined;
    if (anyAws) return 'principal';
    if (arnMatch(principal.arn) || (principal.roleArn !== undefined && arnMatch(principal.roleArn))) return 'principal';
    if (accounts.has(principal.accountId)) {
      // The account root itself is named directly by its own account.
      return principal.arn === `arn:aws:iam::${principal.accountId}:root` ? 'principal' : 'account';
    }
    return undefined;
  };
}

function compileStatement(statement: PolicyStatement): CompiledStatement {
  let principal: CompiledStatement['principal'];
  if (statement.Principal) {
    principal = compilePrincipalSpec(statement.Principal);
  } else if (statement.NotPrincipal) {
    // NotPrincipal applies to everyone the list does not name, directly or through their account.
    const excluded = compilePrincipalSpec(statement.NotPrincipal);
    principal = (caller) => (excluded(caller) === undefined ? 'principal' : undefined);
  }

  // Action names are case-insensitive, service prefix and action name alike (the Action element page).
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
  let action: Matcher = () => false;
  if (statement.Action) action = globMatcher(statement.Action, { ignoreCase: true });
  else if (statement.NotAction) {
    const excluded = globMatcher(statement.NotAction, { ignoreCase: true });
    action = (value) => !excluded(value);
  }

  // A statement without Resource/NotResource is invalid for the policies Coffer stores; it matches nothing.
  let resource: Matcher = () => false;
  if (statement.Resource) resource = anyArnMatcher(statement.Resource);
  else if (statement.NotResource) {
    const excluded = anyArnMatcher(statement.NotResource);
    resource = (value) => !excluded(value);
  }

  const conditions: CompiledCondition[] = [];
  for (const [operatorName, keys] of Object.entries(statement.Condition ?? {})) {
    const operator = parseOperator(operatorName);
    if ('issue' in operator) throw new Error(`policy: ${operator.message}`);
    for (const [key, values] of Object.entries(keys)) {
      const test = buildKeyTest(operator, values);
      if (typeof test === 'string') throw new Error(`policy: ${operatorName} on ${key}: ${test}`);
      conditions.push({ operator: operatorName, key: key.toLowerCase(), test });
    }
  }
  return { sid: statement.Sid, effect: statement.Effect, principal, action, resource, conditions };
}

/**
 * Compiles a parsed document. Throws only on a document that parsePolicy would have refused (an unknown
 * operator in a hand-built document): a programming error, not user input.
 */
export function compilePolicy(document: PolicyDocument): CompiledPolicy {
  return { id: document.Id, statements: document.Statement.map(compileStatement) };
}

/** parsePolicy then compilePolicy: `{ policy }` or the findings that stopped it. Never throws. */
export function compilePolicyText(
  text: string,
): { readonly policy: CompiledPolicy; readonly findings?: undefined } | { readonly policy?: undefined; readonly findings: readonly PolicyFinding[] } {
  const parsed = parsePolicy(text);
  if (parsed.findings) return { findings: parsed.findings };
  return { policy: compilePolicy(parsed.document) };
}
