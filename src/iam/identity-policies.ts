import { accountRootArn } from '../core/index.js';
import type { CompiledPolicyCache, IdentityPolicySource, PrincipalPolicies, RequestPrincipal } from '../policy/index.js';

/**
 * A user or role as the identity side needs it: its unique id (AIDA…/AROA…), ARN, inline policy texts and tags.
 * A user's policy texts include the inline policies of every group it is in (one store read: getIamIdentity);
 * a role's never do (groups hold users only, so group policies never reach a role session).
 */
export type StoredIdentity = {
  readonly id: string;
  readonly arn: string;
  readonly policyDocuments: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
};

export type IdentityLookup = (accountId: string, kind: 'user' | 'role', name: string) => Promise<StoredIdentity | undefined>;

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
export function createIdentityPolicySource(lookup: IdentityLookup, compiled: CompiledPolicyCache): IdentityPolicySource {
  return {
    async policiesFor({ arn, accountId }) {
      const name = principalName(arn);
      if (name.kind === 'root' && arn === accountRootArn(accountId)) {
        return { ...identity({ arn, accountId }, true), principalType: 'Account', userId: accountId };
      }
      if (name.kind === 'user') {
        const user = await lookup(accountId, 'user', name.name);
        return { ...fromStore({ arn, accountId }, user), principalType: 'User', userId: user?.id, userName: name.name };
      }
      if (name.kind === 'assumed-role') {
        const role = await lookup(accountId, 'role', name.roleName);
        const principal = { arn, accountId, roleArn: role?.arn ?? `arn:aws:iam::${accountId}:role/${name.roleName}` };
        const userId = role ? `${role.id}:${name.sessionName}` : undefined;
        return { ...fromStore(principal, role), principalType: 'AssumedRole', userId };
      }
      return identity({ arn, accountId }, false);
    },
  };

  function fromStore(principal: RequestPrincipal, stored: StoredIdentity | undefined): PrincipalPolicies {
    if (!stored) return identity(principal, false);
    const policies = stored.policyDocuments.flatMap((text) => compiled.get(text) ?? []);
    return { principal, unrestricted: false, policies, tags: stored.tags };
  }
}

function identity(principal: RequestPrincipal, unrestricted: boolean): PrincipalPolicies {
  return { principal, unrestricted, policies: [], tags: {} };
}
