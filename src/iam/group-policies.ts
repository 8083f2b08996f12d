import type { IamRepository } from '../store/index.js';
import { awsManagedPolicy, isAwsManagedPolicyArn } from './aws-managed-policies.js';

/** A policy of a group: an inline one (by name) or an attached managed one (by ARN), with its text when known. */
export type GroupPolicy =
  | { readonly kind: 'inline'; readonly policyName: string; readonly document: string }
  | { readonly kind: 'managed'; readonly policyArn: string; readonly document?: string };

type GroupPolicyStore = Pick<IamRepository, 'listInlinePolicyNames' | 'getInlinePolicy' | 'listAttachedManagedPolicies' | 'getManagedPolicyDocument'>;

/**
 * A group's policies: its inline policies by name, then the managed policies attached to it by ARN, each with the
 * text of its default version (AWS managed ones from the code-side table; a customer one that is gone has none).
 * For what reads a group as a whole (policy simulation of a group, GetAccountAuthorizationDetails); a member's
 * requests read them through the identity read instead. undefined when the group does not exist.
 */
export async function groupPolicies(store: GroupPolicyStore, accountId: string, groupName: string): Promise<GroupPolicy[] | undefined> {
  const names = await store.listInlinePolicyNames(accountId, 'group', groupName);
  if (!names) return undefined;
  const inline: GroupPolicy[] = [];
  for (const policyName of names) {
    const found = (await store.getInlinePolicy(accountId, 'group', groupName, policyName))?.policy;
    if (found) inline.push({ kind: 'inline', policyName, document: found.document });
  }
  const managed: GroupPolicy[] = [];
  for (const policyArn of (await store.listAttachedManagedPolicies(accountId, 'group', groupName)) ?? []) {
    const document = isAwsManagedPolicyArn(policyArn) ? awsManagedPolicy(policyArn)?.document : await store.getManagedPolicyDocument(policyArn);
    managed.push(document === undefined ? { kind: 'managed', policyArn } : { kind: 'managed', policyArn, document });
  }
  return [...inline, ...managed];
}
