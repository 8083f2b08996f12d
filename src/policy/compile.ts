/**
 * PolicyDocument → CompiledPolicy: every wildcard becomes a regular expression and every condition a prepared
 * test once, so a policy is compiled when it is stored or loaded and evaluated many times.
 */
import { buildKeyTest, parseOperator, type ParsedOperator } from './conditions/registry.js';
import type { NormalizedContext } from './context-keys.js';
import { parsePolicy } from './parse.js';
import type { Effect, PolicyDocument, PolicyFinding, PolicyStatement, PrincipalSpec, RequestPrincipal } from './types.js';
import { hasVariable, parseTemplate, resolveTemplate, templateKeys, type Template } from './variables.js';
import { anyArnMatcher, globMatcher, type Matcher } from './wildcard.js';

/**
 * How a statement's Principal matched the caller. `principal`: named directly (its ARN, `*`, its service).
 * `role`: a role session named through its role's ARN only, which is direct too but is capped by the role's
 * permissions boundary (access.ts). `account`: only through its account (`"123456789012"` or `arn:aws:iam::123456789012:root`), which
 * AWS reads as delegation: "The account ARN and the shortened account ID behave the same way. Both delegate
 * permissions to the account." https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 */
export type PrincipalMatch = 'principal' | 'role' | 'account';

/** The test of one condition key: its values in the request (undefined when absent), and the whole context for variables. */
export type ConditionTest = (values: readonly string[] | undefined, context: () => NormalizedContext) => boolean;

/** Matches the request's resource; the context is read only by entries holding policy variables. */
export type ResourceMatcher = (resource: string, context: () => NormalizedContext) => boolean;

export type CompiledCondition = {
  readonly operator: string;
  /** The context key, lower-cased: key names are case-insensitive. */
  readonly key: string;
  readonly test: ConditionTest;
};

export type CompiledStatement = {
  readonly sid: string | undefined;
  readonly effect: Effect;
  /** Undefined when the statement has neither Principal nor NotPrincipal (identity policies). */
  readonly principal: ((principal: RequestPrincipal) => PrincipalMatch | undefined) | undefined;
  readonly action: Matcher;
  readonly resource: ResourceMatcher;
  readonly conditions: readonly CompiledCondition[];
  /** Every context key the statement reads (condition keys and policy variables), lower-cased. */
  readonly contextKeys: readonly string[];
  /**
   * True when the statement's Principal lists exactly this ARN (not `*`, a role of the caller, or its account):
   * a resource policy "specifically references" a role session only so, and only then is what it allows not
   * limited by the session's session policies.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
   */
  readonly listsArn: (arn: string) => boolean;
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
  // A federated caller (an OIDC provider's ARN) is matched exactly by a Federated entry, or by AWS "*", which
  // "is the same as Principal: *". CanonicalUser principals do not exist in Coffer: they never match.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-federated-web-identity
  const federated = new Set(spec.Federated ?? []);
  return (principal) => {
    if (principal.federated !== undefined) return federated.has(principal.federated) || anyAws ? 'principal' : undefined;
    if (principal.service !== undefined) return services.has(principal.service.toLowerCase()) ? 'principal' : undefined;
    if (anyAws) return 'principal';
    if (arnMatch(principal.arn)) return 'principal';
    if (principal.roleArn !== undefined && arnMatch(principal.roleArn)) return 'role';
    if (accounts.has(principal.accountId)) {
      // The account root itself is named directly by its own account.
      return principal.arn === `arn:aws:iam::${principal.accountId}:root` ? 'principal' : 'account';
    }
    return undefined;
  };
}

function compileStatement(statement: PolicyStatement, variables: boolean): CompiledStatement {
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

  const contextKeys = new Set<string>();
  const templated = (values: readonly string[]): Template[] | undefined => {
    if (!variables || !values.some(hasVariable)) return undefined;
    const templates = values.map(parseTemplate);
    for (const template of templates) for (const key of templateKeys(template)) contextKeys.add(key);
    return templates;
  };

  // A statement without Resource/NotResource is invalid for the policies Coffer stores; it matches nothing.
  let resource: ResourceMatcher = () => false;
  if (statement.Resource) resource = resourceMatcher(statement.Resource, templated(statement.Resource));
  else if (statement.NotResource) {
    const excluded = resourceMatcher(statement.NotResource, templated(statement.NotResource));
    resource = (value, context) => !excluded(value, context);
  }

  const conditions: CompiledCondition[] = [];
  for (const [operatorName, keys] of Object.entries(statement.Condition ?? {})) {
    const operator = parseOperator(operatorName);
    if ('issue' in operator) throw new Error(`policy: ${operator.message}`);
    for (const [key, values] of Object.entries(keys)) {
      contextKeys.add(key.toLowerCase());
      const templates = takesVariables(operator) ? templated(values) : undefined;
      const test = templates ? templatedConditionTest(operator, templates) : staticConditionTest(operator, values, `${operatorName} on ${key}`);
      conditions.push({ operator: operatorName, key: key.toLowerCase(), test });
    }
  }
  const listed = new Set(statement.Principal && statement.Principal !== '*' ? (statement.Principal.AWS ?? []) : []);
  const listsArn = (arn: string) => listed.has(arn);
  return { sid: statement.Sid, effect: statement.Effect, principal, action, resource, conditions, contextKeys: [...contextKeys], listsArn };
}

/**
 * Resource or NotResource entries. Entries with variables are resolved per request; one whose variable has no
 * value matches no resource ("the resource that includes a policy variable with no value will not match any
 * resource"). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value
 */
function resourceMatcher(patterns: readonly string[], templates: Template[] | undefined): ResourceMatcher {
  if (!templates) {
    const matcher = anyArnMatcher(patterns);
    return (value) => matcher(value);
  }
  const matchers = new BoundedCache<Matcher>();
  return (value, context) => {
    const resolved = resolveAll(templates, context(), true);
    return matchers.get(resolved.join('\0'), () => anyArnMatcher(resolved))(value);
  };
}

/** "You can use a policy variable for Condition values in any condition that involves the string operators or the ARN operators." */
function takesVariables(operator: ParsedOperator): boolean {
  return operator.base.startsWith('String') || operator.base.startsWith('Arn');
}

/** The Like and ARN operators match wildcards, so what a variable put into their values is marked literal. */
function matchesWildcards(operator: ParsedOperator): boolean {
  return operator.base.endsWith('Like') || operator.base.startsWith('Arn');
}

function staticConditionTest(operator: ParsedOperator, values: readonly string[], where: string): ConditionTest {
  const test = buildKeyTest(operator, values);
  if (typeof test === 'string') throw new Error(`policy: ${where}: ${test}`);
  return (contextValues) => test(contextValues);
}

/**
 * A condition whose values hold variables: resolved per request, values without one dropped (a null value equals
 * and is like nothing, so StringEquals cannot match it and StringNotEquals always can), then tested as usual.
 */
function templatedConditionTest(operator: ParsedOperator, templates: Template[]): ConditionTest {
  const forGlob = matchesWildcards(operator);
  const tests = new BoundedCache<(values: readonly string[] | undefined) => boolean>();
  return (contextValues, context) => {
    const resolved = resolveAll(templates, context(), forGlob);
    const test = tests.get(resolved.join('\0'), () => {
      const built = buildKeyTest(operator, resolved);
      // String and ARN operators accept any value, so this cannot happen; never let it allow.
      return typeof built === 'string' ? () => false : built;
    });
    return test(contextValues);
  };
}

function resolveAll(templates: readonly Template[], context: NormalizedContext, forGlob: boolean): string[] {
  return templates.flatMap((template) => resolveTemplate(template, context, forGlob) ?? []);
}

/** Prepared matchers per resolved value list: most policies resolve to one list per caller. Bounded. */
class BoundedCache<T> {
  readonly #entries = new Map<string, T>();
  get(key: string, build: () => T): T {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= 256) this.#entries.clear();
      entry = build();
      this.#entries.set(key, entry);
    }
    return entry;
  }
}

/**
 * Compiles a parsed document. Throws only on a document that parsePolicy would have refused (an unknown
 * operator in a hand-built document): a programming error, not user input.
 */
export function compilePolicy(document: PolicyDocument): CompiledPolicy {
  // "Variables were introduced in version 2012-10-17 ... variables like ${aws:username} are treated as literal
  // strings" in policies without it. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
  const variables = document.Version === '2012-10-17';
  return { id: document.Id, statements: document.Statement.map((statement) => compileStatement(statement, variables)) };
}

/** parsePolicy then compilePolicy: `{ policy }` or the findings that stopped it. Never throws. */
export function compilePolicyText(
  text: string,
): { readonly policy: CompiledPolicy; readonly findings?: undefined } | { readonly policy?: undefined; readonly findings: readonly PolicyFinding[] } {
  const parsed = parsePolicy(text);
  if (parsed.findings) return { findings: parsed.findings };
  return { policy: compilePolicy(parsed.document) };
}
