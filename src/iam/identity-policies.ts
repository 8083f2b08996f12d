import { accountRootArn, type SessionAttributes } from '../core/index.js';
import type { CompiledPolicy, CompiledPolicyCache, IdentityPolicySource, PolicySource, PrincipalPolicies, RequestPrincipal } from '../policy/index.js';
import { awsManagedPolicy, isAwsManagedPolicyArn } from './aws-managed-policies.js';

/** A managed policy's ARN and its default version's text (absent for AWS managed policies, and for one that is gone). */
export type StoredManagedPolicy = { readonly arn: string; readonly document?: string };

/**
 * A user or role as the identity side needs it: its unique id (AIDA…/AROA…), ARN, inline policy texts, tags,
 * attached managed policies and permissions boundary.
 * A user's policy texts include the inline policies of every group it is in (one store read: getIamIdentity);
 * a role's never do (groups hold users only, so group policies never reach a role session).
 */
export type StoredIdentity = {
  readonly id: string;
  readonly arn: string;
  readonly policyDocuments: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** The inline policies' names, aligned with policyDocuments (for policy simulation's MatchedStatements). */
  readonly policyNames?: readonly string[];
  /** Whose each inline policy is, aligned with policyDocuments: the principal's own or a group's (absent: all its own). */
  readonly policyOwners?: readonly ('principal' | 'group')[];
  readonly managedPolicies?: readonly StoredManagedPolicy[];
  readonly permissionsBoundary?: StoredManagedPolicy;
};

export type IdentityLookup = (accountId: string, kind: 'user' | 'role', name: string) => Promise<StoredIdentity | undefined>;

/** Optional ports of the identity source, implemented by other parts of iam as they come. */
export type IdentitySourcePorts = {
  /**
   * The document (default version) of a managed policy by its ARN, for sessions given managed session policies
   * (PolicyArns); undefined when no such policy exists. While absent, such a session's session policy allows nothing.
   */
  managedPolicyDocument?: (policyArn: string) => Promise<string | undefined>;
};

/** What a principal ARN names: the account root, a user, or a session of a role. */
export type PrincipalName =
  | { readonly kind: 'root' }
  | { readonly kind: 'user'; readonly name: string }
  | { readonly kind: 'assumed-role'; readonly roleName: string; readonly sessionName: string }
  | { readonly kind: 'other' };

const ROOT = /^arn:aws:iam::(\d{12}):root$/;
const USER = /^arn:aws:iam::\d{12}:user\/(?:[^:]*\/)?([^/]+)$/;
const ASSUMED_ROLE = /^arn:aws:sts::\d{12}:assumed-role\/([^/]+)\/([^/]+)$/;

export function principalName(arn: string): PrincipalName {
  if (ROOT.test(arn)) return { kind: 'root' };
  const user = USER.exec(arn);
  if (user) return { kind: 'user', name: user[1]! };
  const session = ASSUMED_ROLE.exec(arn);
  if (session) return { kind: 'assumed-role', roleName: session[1]!, sessionName: session[2]! };
  return { kind: 'other' };
}

/**
 * The identity side of every check, read from the store per call (so a policy change applies to the next
 * request on every node) and compiled through the shared cache (so reading stays cheap). The account root is
 * unrestricted in its own account; a user or role that does not exist (deleted, or a function's role never
 * created) has no policies and is denied everything not granted to it by a resource policy naming it.
 * It also names the caller for the principal condition keys: aws:PrincipalType, aws:userid and aws:username take
 * AWS's values per principal type (a role whose record is gone has no aws:userid: its id is unknown).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable
 */
export function createIdentityPolicySource(lookup: IdentityLookup, compiled: CompiledPolicyCache, ports: IdentitySourcePorts = {}): IdentityPolicySource {
  return {
    // Without a promise when nothing is read (the account root, a principal of no known kind, no session): every
    // check of a call awaits its identity's load otherwise.
    policiesFor({ arn, accountId, session }) {
      const caller = callerPolicies(arn, accountId);
      if (!session) return caller;
      return caller instanceof Promise ? caller.then((loaded) => withSession(loaded, session)) : withSession(caller, session);
    },
  };

  function callerPolicies(arn: string, accountId: string): PrincipalPolicies | Promise<PrincipalPolicies> {
    const name = principalName(arn);
    if (name.kind === 'root' && arn === accountRootArn(accountId)) {
      return { ...identity({ arn, accountId }, true), principalType: 'Account', userId: accountId };
    }
    if (name.kind === 'user') return userPolicies(arn, accountId, name.name);
    if (name.kind === 'assumed-role') return roleSessionPolicies(arn, accountId, name.roleName, name.sessionName);
    return identity({ arn, accountId }, false);
  }

  async function userPolicies(arn: string, accountId: string, userName: string): Promise<PrincipalPolicies> {
    const user = await lookup(accountId, 'user', userName);
    return { ...fromStore({ arn, accountId }, user, 'user'), principalType: 'User', userId: user?.id, userName };
  }

  async function roleSessionPolicies(arn: string, accountId: string, roleName: string, sessionName: string): Promise<PrincipalPolicies> {
    const role = await lookup(accountId, 'role', roleName);
    const principal = { arn, accountId, roleArn: role?.arn ?? `arn:aws:iam::${accountId}:role/${roleName}` };
    const userId = role ? `${role.id}:${sessionName}` : undefined;
    return { ...fromStore(principal, role, 'role'), principalType: 'AssumedRole', userId };
  }

  /**
   * What a session's attributes change, whichever call made the session (AssumeRole, AssumeRoleWithWebIdentity):
   * its session tags stand in for the principal's tags of the same key (keys compare case-insensitively), its
   * session policies limit it, and its source identity becomes aws:SourceIdentity.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
   */
  async function withSession(caller: PrincipalPolicies, session: SessionAttributes): Promise<PrincipalPolicies> {
    const sessionPolicies = await sessionPoliciesOf(session);
    return {
      ...caller,
      tags: session.tags ? overrideTags(caller.tags, session.tags) : caller.tags,
      ...(sessionPolicies ? { sessionPolicies } : {}),
      ...(session.sourceIdentity !== undefined ? { sourceIdentity: session.sourceIdentity } : {}),
    };
  }

  /**
   * The compiled session policies, undefined when the session has none. Fails closed: a policy that no longer
   * compiles, a managed policy that cannot be read (no port yet, or deleted since) makes the whole session policy
   * allow nothing, since what is missing might have been a Deny.
   */
  async function sessionPoliciesOf(session: SessionAttributes): Promise<readonly CompiledPolicy[] | undefined> {
    const arns = session.policyArns ?? [];
    if (session.policy === undefined && arns.length === 0) return undefined;
    const texts = [
      ...(session.policy !== undefined ? [session.policy] : []),
      ...(await Promise.all(arns.map((policyArn) => ports.managedPolicyDocument?.(policyArn) ?? Promise.resolve(undefined)))),
    ];
    const policies: CompiledPolicy[] = [];
    for (const text of texts) {
      const policy = text === undefined ? undefined : compiled.get(text);
      if (!policy) return [];
      policies.push(policy);
    }
    return policies;
  }

  /**
   * Inline policies, then the default versions of attached managed policies (AWS managed ones from the code-side
   * table), each compiled once per distinct text, with their names for policy simulation. The boundary, if any, is
   * compiled alike; a boundary whose policy is gone compiles to nothing and so allows nothing. A role session gets
   * its role's (AWS: the role's boundary bounds its sessions).
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
   */
  function fromStore(principal: RequestPrincipal, stored: StoredIdentity | undefined, sourceType: 'user' | 'role'): PrincipalPolicies {
    if (!stored) return identity(principal, false);
    const policies: CompiledPolicy[] = [];
    const sources: PolicySource[] = [];
    const add = (text: string | undefined, source: PolicySource) => {
      const policy = text === undefined ? undefined : compiled.get(text);
      if (!policy) return;
      policies.push(policy);
      sources.push({ ...source, text });
    };
    // A user's groups' inline policies are labelled `group` (IAM's SourcePolicyType), the principal's own by its kind.
    stored.policyDocuments.forEach((text, index) =>
      add(text, { id: stored.policyNames?.[index] ?? `policy-${index + 1}`, type: stored.policyOwners?.[index] === 'group' ? 'group' : sourceType }),
    );
    for (const managed of stored.managedPolicies ?? []) {
      add(documentOf(managed), { id: managed.arn, type: isAwsManagedPolicyArn(managed.arn) ? 'aws-managed' : 'user-managed' });
    }
    const boundary = stored.permissionsBoundary;
    const permissionsBoundary = boundary === undefined ? undefined : [documentOf(boundary)].flatMap((text) => (text === undefined ? [] : compile(text)));
    return { principal, unrestricted: false, policies, tags: stored.tags, sources, ...(permissionsBoundary && { permissionsBoundary }) };
  }

  function compile(text: string): CompiledPolicy[] {
    const policy = compiled.get(text);
    return policy ? [policy] : [];
  }
}

/** The text a managed policy's default version has: AWS managed from the table, customer managed as stored. */
function documentOf(policy: StoredManagedPolicy): string | undefined {
  return isAwsManagedPolicyArn(policy.arn) ? awsManagedPolicy(policy.arn)?.document : policy.document;
}

function identity(principal: RequestPrincipal, unrestricted: boolean): PrincipalPolicies {
  return { principal, unrestricted, policies: [], tags: {} };
}

/** The principal's tags with the session's in place of those of the same key, compared case-insensitively. */
function overrideTags(principalTags: Readonly<Record<string, string>>, sessionTags: ReadonlyArray<{ Key: string; Value: string }>): Record<string, string> {
  const overridden = new Set(sessionTags.map((tag) => tag.Key.toLowerCase()));
  const tags: Record<string, string> = {};
  for (const key in principalTags) if (!overridden.has(key.toLowerCase())) tags[key] = principalTags[key]!;
  for (const tag of sessionTags) tags[tag.Key] = tag.Value;
  return tags;
}
