import { isIP } from 'node:net';
import { parseArn, roleSessionArn, type RequestContext } from '../../core/index.js';
import {
  compilePolicyText,
  contextKeyNames,
  requestFacts,
  simulateAccess,
  statementPositions,
  type AccessRequest,
  type ContextValue,
  type LabelledPolicy,
  type MatchedStatement,
  type PolicySource,
  type PrincipalPolicies,
  type SimulationResult,
} from '../../policy/index.js';
import { isAwsManagedPolicyArn } from '../aws-managed-policies.js';
import type { IamDeps } from '../deps.js';
import { iamError } from '../errors.js';
import { groupPolicies } from '../group-policies.js';
import { parseRoleArn } from '../names.js';
import { pageOf } from '../paging.js';
import type { IamInput } from '../schemas.js';
import { notFound } from './callers.js';

/**
 * SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysForPrincipalPolicy, GetContextKeysForCustomPolicy.
 * A simulation is decided by the engine every real request is decided by (policy/simulate.ts calls checkAccess)
 * over the identity the authorizer would load (`deps.identities`, the same IdentityPolicySource): whatever that
 * source gives a user or role (inline policies today; attached, group and boundary policies when it gives them)
 * the simulation sees unchanged, and the request context carries the global keys a real request of the simulated
 * principal would (aws:username, aws:userid, aws:PrincipalArn, aws:PrincipalTag/*, aws:CurrentTime, ...).
 * Keys only a real request or a service knows (aws:SourceIp, a secret's secretsmanager:* and aws:ResourceTag/* keys,
 * aws:TokenIssueTime) are absent unless ContextEntries give them, and then reported in MissingContextValues.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
 */
export function simulationOperations(deps: IamDeps) {
  const { store, authorizer, identities } = deps;

  /**
   * The identity a PolicySourceArn names, as the authorizer would load it for a request of that principal. A
   * role is simulated as a session of it (the principal that calls with a role's permissions), named
   * SIMULATED_SESSION_NAME. A group, which never signs a request, is simulated as its own policies (inline and
   * attached, as AWS documents for a group PolicySourceArn) with the group's ARN as the principal and no principal
   * keys (CallerArn gives them).
   */
  async function sourceIdentity(ctx: RequestContext, arn: string): Promise<PrincipalPolicies> {
    const source = policySourceOf(arn);
    const accountId = ctx.principal.accountId;
    if (source.kind === 'group') return groupIdentity(accountId, arn, source.name);
    if (source.kind === 'user') {
      const user = await store.getIamUser(accountId, source.name);
      if (!user || user.arn !== arn) throw notFound.user(source.name);
      return identities.policiesFor({ arn: user.arn, accountId });
    }
    const role = await store.getIamRole(accountId, source.name);
    if (!role || role.arn !== arn) throw notFound.role(source.name);
    return identities.policiesFor({ arn: roleSessionArn(accountId, role.roleName, SIMULATED_SESSION_NAME), accountId });
  }

  async function groupIdentity(accountId: string, arn: string, groupName: string): Promise<PrincipalPolicies> {
    const group = await store.getIamGroup(accountId, groupName);
    const policies = group && group.arn === arn ? await groupPolicies(store, accountId, groupName) : undefined;
    if (!policies) throw notFound.group(groupName);
    const identity: PrincipalPolicies = { principal: { arn, accountId }, unrestricted: false, policies: [], tags: {}, sources: [] };
    const compiled = policies.flatMap((policy) => {
      // A stored text that no longer compiles (or a managed policy gone) is left out, as the identity read does.
      const text = policy.document;
      const result = text === undefined ? undefined : compilePolicyText(text).policy;
      if (!result) return [];
      const source: PolicySource =
        policy.kind === 'inline'
          ? { id: policy.policyName, type: 'group', text }
          : { id: policy.policyArn, type: isAwsManagedPolicyArn(policy.policyArn) ? 'aws-managed' : 'user-managed', text };
      return [{ policy: result, source }];
    });
    return { ...identity, policies: compiled.map((entry) => entry.policy), sources: compiled.map((entry) => entry.source) };
  }

  /** The principal whose keys the request context carries: CallerArn (a user of this account), else `fallback`. */
  async function callerOf(ctx: RequestContext, callerArn: string | undefined, fallback: () => PrincipalPolicies | Promise<PrincipalPolicies>): Promise<PrincipalPolicies> {
    if (callerArn === undefined) return fallback();
    const source = USER_ARN.exec(callerArn);
    if (!source || source[1] !== ctx.principal.accountId) {
      throw iamError('InvalidInput', `Invalid CallerArn: ${callerArn}. It must be the ARN of an IAM user of this account.`);
    }
    return identities.policiesFor({ arn: callerArn, accountId: ctx.principal.accountId });
  }

  async function authorizeOnSource(ctx: RequestContext, operation: string, arn: string): Promise<void> {
    policySourceOf(arn); // an ARN that names no user or role is refused before anything else
    await authorizer.authorize(ctx, { action: `iam:${operation}`, resource: arn, resourceAccount: parseArn(arn)?.accountId || ctx.principal.accountId });
  }

  type SimulationInput = IamInput<'SimulateCustomPolicy'> | IamInput<'SimulatePrincipalPolicy'>;

  /** Every action on every resource, paged: one EvaluationResult per pair, in the order given. */
  function simulate(ctx: RequestContext, identity: PrincipalPolicies, input: SimulationInput) {
    const resourcePolicy = input.ResourcePolicy === undefined ? undefined : compileInput(input.ResourcePolicy, { id: 'ResourcePolicy', type: 'resource', text: input.ResourcePolicy });
    const boundary = input.PermissionsBoundaryPolicyInputList?.map((text, index) =>
      compileInput(text, { id: `PermissionsBoundaryPolicyInputList.${index + 1}`, type: 'none', text }),
    );
    const context = contextEntries(input.ContextEntries ?? []);
    const resources = input.ResourceArns?.length ? input.ResourceArns : ['*'];
    const ownerAccount = resourceOwnerAccount(input.ResourceOwner) ?? identity.principal.accountId;
    // The simulated principal's request, not this one: no source IP; a role session's credentials are temporary.
    const facts = { ...requestFacts(ctx), sourceIp: undefined, tokenIssuedAt: identity.principalType === 'AssumedRole' ? ctx.clock.now() : undefined };
    const results = input.ActionNames.flatMap((action) =>
      resources.map((resource) => {
        const request = accessRequest(action, resource, ownerAccount, resourcePolicy?.policy, context);
        const result = simulateAccess({ identity, request, resourcePolicySource: resourcePolicy?.source, boundary, facts });
        return evaluationResult(action, resource, result);
      }),
    );
    const page = pageOf(results, input);
    return { EvaluationResults: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  return {
    async simulatePrincipalPolicy(ctx: RequestContext, input: IamInput<'SimulatePrincipalPolicy'>) {
      await authorizeOnSource(ctx, 'SimulatePrincipalPolicy', input.PolicySourceArn);
      const source = await sourceIdentity(ctx, input.PolicySourceArn);
      const caller = await callerOf(ctx, input.CallerArn, async () => source);
      return simulate(ctx, asCaller(withInputPolicies(source, input.PolicyInputList ?? []), caller), input);
    },

    /** Only the policies given count; the caller (CallerArn, else the requester) supplies the principal's keys. */
    async simulateCustomPolicy(ctx: RequestContext, input: IamInput<'SimulateCustomPolicy'>) {
      const caller = await callerOf(ctx, input.CallerArn, () => identities.policiesFor(ctx.principal));
      const identity = withInputPolicies({ ...caller, unrestricted: false, policies: [], sources: [] }, input.PolicyInputList);
      return simulate(ctx, identity, input);
    },

    async getContextKeysForPrincipalPolicy(ctx: RequestContext, input: IamInput<'GetContextKeysForPrincipalPolicy'>) {
      await authorizeOnSource(ctx, 'GetContextKeysForPrincipalPolicy', input.PolicySourceArn);
      const source = withInputPolicies(await sourceIdentity(ctx, input.PolicySourceArn), input.PolicyInputList ?? []);
      return { ContextKeyNames: keyNames(source) };
    },

    getContextKeysForCustomPolicy(_ctx: RequestContext, input: IamInput<'GetContextKeysForCustomPolicy'>) {
      return { ContextKeyNames: keyNames(withInputPolicies({ principal: { arn: '', accountId: '' }, unrestricted: false, policies: [], tags: {}, sources: [] }, input.PolicyInputList)) };
    },
  };
}

/** What a role simulation's session is called (aws:userid is `<role id>:<this>`). */
export const SIMULATED_SESSION_NAME = 'SimulatePrincipalPolicy';

const USER_ARN = /^arn:aws:iam::(\d{12}):user\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]+)$/;
const GROUP_ARN = /^arn:aws:iam::(\d{12}):group\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]+)$/;

type PolicySourceName = { kind: 'user' | 'role' | 'group'; name: string };

/** PolicySourceArn: a user, a role or a group. */
function policySourceOf(arn: string): PolicySourceName {
  const user = USER_ARN.exec(arn);
  if (user) return { kind: 'user', name: user[2]! };
  const role = parseRoleArn(arn);
  if (role) return { kind: 'role', name: role.roleName };
  const group = GROUP_ARN.exec(arn);
  if (group) return { kind: 'group', name: group[2]! };
  throw iamError('InvalidInput', `Invalid ARN: ${arn}. PolicySourceArn must name an IAM user, group or role.`);
}

/** A document of PolicyInputList (or the resource policy, a boundary), compiled; one that does not parse is InvalidInput. */
function compileInput(text: string, source: PolicySource): LabelledPolicy {
  const compiled = compilePolicyText(text);
  if (!compiled.policy) throw iamError('InvalidInput', `${source.id} is not a valid policy document: ${compiled.findings[0]?.FindingDetails ?? 'syntax error'}`);
  return { policy: compiled.policy, source };
}

/** The identity with PolicyInputList's documents added after its own, named `PolicyInputList.<n>`. */
function withInputPolicies(identity: PrincipalPolicies, texts: readonly string[]): PrincipalPolicies {
  if (texts.length === 0) return identity;
  const inputs = texts.map((text, index) => compileInput(text, { id: `PolicyInputList.${index + 1}`, type: 'none', text }));
  const sources = identity.sources?.length === identity.policies.length ? identity.sources : identity.policies.map((_, index) => ({ id: `policy-${index + 1}`, type: 'none' as const }));
  return { ...identity, policies: [...identity.policies, ...inputs.map((input) => input.policy)], sources: [...sources, ...inputs.map((input) => input.source)] };
}

/** The source's policies, with the caller's principal, its keys and its tags (CallerArn). */
function asCaller(source: PrincipalPolicies, caller: PrincipalPolicies): PrincipalPolicies {
  if (caller === source) return source;
  return { ...source, principal: caller.principal, principalType: caller.principalType, userId: caller.userId, userName: caller.userName, tags: caller.tags };
}

/** ResourceOwner: an account ARN (`arn:aws:iam::<account>:root`) or an account id. */
function resourceOwnerAccount(owner: string | undefined): string | undefined {
  if (owner === undefined) return undefined;
  const account = /^\d{12}$/.test(owner) ? owner : /^arn:aws:iam::(\d{12}):root$/.exec(owner)?.[1];
  if (!account) throw iamError('InvalidInput', `Invalid ResourceOwner: ${owner}. It must be an account ARN such as arn:aws:iam::123456789012:root.`);
  return account;
}

/**
 * The check a service would make: the resource's own account when its ARN names one, and the key-policy rules
 * where a real request has them (a KMS key's key policy, a role's trust policy for sts:AssumeRole*).
 */
function accessRequest(action: string, resource: string, ownerAccount: string, resourcePolicy: AccessRequest['resourcePolicy'], context: Record<string, ContextValue>): AccessRequest {
  const arn = parseArn(resource);
  const resourceAccount = arn?.accountId || ownerAccount;
  const keyPolicy =
    resourcePolicy !== undefined &&
    ((arn?.service === 'kms' && /^(key|alias)\//.test(arn.resource)) || (arn?.service === 'iam' && arn.resource.startsWith('role/') && /^sts:AssumeRole/i.test(action)));
  return { action, resource, resourceAccount, resourcePolicy, resourceKind: keyPolicy ? 'key-policy' : 'resource-policy', context };
}

type ContextEntryInput = NonNullable<IamInput<'SimulateCustomPolicy'>['ContextEntries']>[number];

/**
 * ContextEntries as request context values: list types become multivalued keys, the others take one value.
 * Values are checked against their type (numeric, boolean, date, ip, binary) so a typo is InvalidInput rather
 * than a key that silently never matches. https://docs.aws.amazon.com/IAM/latest/APIReference/API_ContextEntry.html
 */
function contextEntries(entries: readonly ContextEntryInput[]): Record<string, ContextValue> {
  const context: Record<string, ContextValue> = {};
  for (const entry of entries) {
    const name = entry.ContextKeyName;
    if (name === undefined) throw iamError('InvalidInput', 'ContextKeyName is required for each context entry.');
    const type = entry.ContextKeyType ?? 'string';
    const values = entry.ContextKeyValues ?? [];
    const base = type.replace(/List$/, '');
    for (const value of values) {
      if (!validContextValue(base, value)) throw iamError('InvalidInput', `Invalid value for context key ${name} of type ${type}: ${value}`);
    }
    if (type.endsWith('List')) {
      context[name] = values.map((value) => (base === 'boolean' ? value.toLowerCase() : value));
    } else {
      if (values.length !== 1) throw iamError('InvalidInput', `Context key ${name} of type ${type} takes exactly one value.`);
      context[name] = base === 'boolean' ? values[0]!.toLowerCase() : values[0]!;
    }
  }
  return context;
}

function validContextValue(type: string, value: string): boolean {
  switch (type) {
    case 'numeric':
      return /^-?\d+(\.\d+)?$/.test(value);
    case 'boolean':
      return /^(true|false)$/i.test(value);
    case 'date':
      return /^\d+$/.test(value) || !Number.isNaN(Date.parse(value));
    case 'ip':
      return isIP(value.split('/')[0]!) !== 0;
    case 'binary':
      return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value);
    default:
      return true;
  }
}

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html */
function evaluationResult(action: string, resource: string, result: SimulationResult) {
  const details = {
    MatchedStatements: result.matched.map(statementView),
    MissingContextValues: [...result.missingContextKeys],
    EvalDecisionDetails: result.decisionDetails ? new Map(Object.entries(result.decisionDetails)) : undefined,
    PermissionsBoundaryDecisionDetail: result.allowedByBoundary === undefined ? undefined : { AllowedByPermissionsBoundary: result.allowedByBoundary },
  };
  return {
    EvalActionName: action,
    EvalResourceName: resource,
    EvalDecision: result.decision,
    ...details,
    ResourceSpecificResults: resource === '*' ? undefined : [{ EvalResourceName: resource, EvalResourceDecision: result.decision, ...details }],
  };
}

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_Statement.html; positions only when the text is known. */
function statementView(matched: MatchedStatement) {
  const span = matched.source.text === undefined ? undefined : statementPositions(matched.source.text)[matched.statementIndex];
  return { SourcePolicyId: matched.source.id, SourcePolicyType: matched.source.type, StartPosition: span?.start, EndPosition: span?.end };
}

/** Every context key the identity's policies read, as first written, without duplicates. */
function keyNames(identity: PrincipalPolicies): string[] {
  const names = new Map<string, string>();
  identity.policies.forEach((policy, index) => {
    const text = identity.sources?.length === identity.policies.length ? identity.sources[index]?.text : undefined;
    const found = text === undefined ? policy.statements.flatMap((statement) => statement.contextKeys) : contextKeyNames(text);
    for (const name of found) if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  });
  return [...names.values()];
}
