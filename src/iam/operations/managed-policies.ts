import type { RequestContext } from '../../core/index.js';
import { requestTagContext, type RequestContextValues } from '../../policy/index.js';
import type { ManagedPolicyVersionRecord } from '../../store/index.js';
import { AWS_MANAGED_POLICIES } from '../aws-managed-policies.js';
import type { IamDeps } from '../deps.js';
import { IAM_LIMITS, iamError } from '../errors.js';
import { newUniqueId, policyArn } from '../names.js';
import { pageOf } from '../paging.js';
import { checkPolicyDocument, warnAboutStoredPolicy } from '../policy-documents.js';
import type { IamInput } from '../schemas.js';
import { iamRequestTags } from './callers.js';
import { createPolicyAccess, policyNotFound, policyView, refuseAwsManaged, type ManagedPolicyTarget } from './policy-targets.js';

/**
 * Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, their versions (Create/Get/List/Delete
 * PolicyVersion, SetDefaultPolicyVersion), their tags, and ListEntitiesForPolicy. Customer managed policies live
 * in the store; AWS managed ones (aws-managed-policies.ts) are listed and read alike but never changed.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html
 */
export function managedPolicyOperations(deps: IamDeps) {
  const { store } = deps;
  const access = createPolicyAccess(deps);

  /** The customer policy an operation that changes policies is about; AWS managed ones are refused after authorization. */
  async function changeable(ctx: RequestContext, operation: string, arn: string, context?: RequestContextValues) {
    const target = await access.authorizeExisting(ctx, operation, arn, context);
    refuseAwsManaged(ctx, operation, arn);
    if (target.kind !== 'customer') throw policyNotFound(arn);
    return target.policy;
  }

  return {
    /**
     * A document counts at most 6,144 characters without white space (IAM quota "Managed policy size"), and is
     * validated like an inline policy. The first version is v1, the default.
     * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
     */
    async createPolicy(ctx: RequestContext, input: IamInput<'CreatePolicy'>) {
      const accountId = ctx.principal.accountId;
      const path = input.Path ?? '/';
      const arn = policyArn(accountId, path, input.PolicyName);
      await access.authorize(ctx, 'CreatePolicy', arn, [], iamRequestTags(input.Tags));
      checkPolicySize(input.PolicyDocument);
      checkPolicyDocument(input.PolicyDocument, 'identity');
      if ((input.Tags?.length ?? 0) > IAM_LIMITS.tagsPerPolicy) throw iamError('LimitExceeded', `Cannot exceed quota for TagsPerPolicy: ${IAM_LIMITS.tagsPerPolicy}`);
      const now = ctx.clock.now();
      const policy = {
        accountId,
        policyName: input.PolicyName,
        policyId: newUniqueId('ANPA'),
        arn,
        path,
        description: input.Description,
        defaultVersionId: 'v1',
        createdAt: now,
        updatedAt: now,
        tags: input.Tags ?? [],
      };
      if (!(await store.createManagedPolicy(policy, input.PolicyDocument))) {
        throw iamError('EntityAlreadyExists', `A policy called ${input.PolicyName} already exists. Duplicate names are not allowed.`);
      }
      warnAboutStoredPolicy(deps.logger, ctx, 'CreatePolicy', arn, input.PolicyDocument, 'identity');
      return { Policy: policyView({ kind: 'customer', policy }, [], true) };
    },

    async getPolicy(ctx: RequestContext, input: IamInput<'GetPolicy'>) {
      const target = await access.authorizeExisting(ctx, 'GetPolicy', input.PolicyArn);
      return { Policy: policyView(target, await store.listManagedPolicyUsage(ctx.principal.accountId), true) };
    },

    /**
     * Scope All (AWS managed first, then the account's, each by name), AWS or Local; OnlyAttached keeps the policies
     * the account uses, as a permissions policy or boundary as PolicyUsageFilter says (either when it is absent).
     * Without OnlyAttached, PolicyUsageFilter changes nothing: any managed policy may serve either way.
     * https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html
     */
    async listPolicies(ctx: RequestContext, input: IamInput<'ListPolicies'>) {
      const accountId = ctx.principal.accountId;
      const scope = input.Scope ?? 'All';
      const pathPrefix = input.PathPrefix ?? '/';
      const targets: ManagedPolicyTarget[] = [];
      if (scope !== 'Local') {
        for (const policy of AWS_MANAGED_POLICIES) if (policy.path.startsWith(pathPrefix)) targets.push({ kind: 'aws', policy });
      }
      if (scope !== 'AWS') {
        for (const policy of await store.listManagedPolicies(accountId, pathPrefix)) targets.push({ kind: 'customer', policy });
      }
      const usage = await store.listManagedPolicyUsage(accountId);
      const used = (target: ManagedPolicyTarget) => {
        const entry = usage.find((candidate) => candidate.policyArn === target.policy.arn);
        if (!entry) return false;
        if (input.PolicyUsageFilter === 'PermissionsPolicy') return entry.attachmentCount > 0;
        if (input.PolicyUsageFilter === 'PermissionsBoundary') return entry.permissionsBoundaryUsageCount > 0;
        return entry.attachmentCount + entry.permissionsBoundaryUsageCount > 0;
      };
      const page = pageOf(input.OnlyAttached ? targets.filter(used) : targets, input);
      return { Policies: page.items.map((target) => policyView(target, usage, false)), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    /**
     * IAM refuses to delete a policy still attached to a user, group or role, or with versions besides the
     * default (DeleteConflict). A policy used only as a permissions boundary may be deleted: the boundary then
     * allows nothing. https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html
     */
    async deletePolicy(ctx: RequestContext, input: IamInput<'DeletePolicy'>) {
      await changeable(ctx, 'DeletePolicy', input.PolicyArn);
      const outcome = await store.deleteManagedPolicy(input.PolicyArn);
      if (outcome === 'absent') throw policyNotFound(input.PolicyArn);
      if (outcome === 'attached') throw iamError('DeleteConflict', 'Cannot delete a policy attached to entities.');
      if (outcome === 'has-versions') {
        throw iamError('DeleteConflict', "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
      }
      return {};
    },

    /** At most five versions; SetAsDefault makes the new one apply to the next request. */
    async createPolicyVersion(ctx: RequestContext, input: IamInput<'CreatePolicyVersion'>) {
      await changeable(ctx, 'CreatePolicyVersion', input.PolicyArn);
      checkPolicySize(input.PolicyDocument);
      checkPolicyDocument(input.PolicyDocument, 'identity');
      const setAsDefault = input.SetAsDefault ?? false;
      const createdAt = ctx.clock.now();
      const created = await store.createManagedPolicyVersion(input.PolicyArn, input.PolicyDocument, setAsDefault, createdAt, IAM_LIMITS.versionsPerPolicy);
      if (created.outcome === 'absent') throw policyNotFound(input.PolicyArn);
      if (created.outcome === 'limit-exceeded') {
        throw iamError(
          'LimitExceeded',
          `A managed policy can have up to ${IAM_LIMITS.versionsPerPolicy} versions. Before you create a new version, you must delete an existing version.`,
        );
      }
      warnAboutStoredPolicy(deps.logger, ctx, 'CreatePolicyVersion', input.PolicyArn, input.PolicyDocument, 'identity');
      return { PolicyVersion: versionView({ versionId: created.versionId, document: input.PolicyDocument, isDefaultVersion: setAsDefault, createdAt }, false) };
    },

    /** The document travels URL-encoded, as IAM returns it (and as GetUserPolicy does here). */
    async getPolicyVersion(ctx: RequestContext, input: IamInput<'GetPolicyVersion'>) {
      const target = await access.authorizeExisting(ctx, 'GetPolicyVersion', input.PolicyArn);
      const version = await versionOf(target, input.VersionId);
      if (!version) throw versionNotFound(input.PolicyArn, input.VersionId);
      return { PolicyVersion: versionView(version, true) };
    },

    /** Newest first, without documents (IAM returns them only from GetPolicyVersion). */
    async listPolicyVersions(ctx: RequestContext, input: IamInput<'ListPolicyVersions'>) {
      const target = await access.authorizeExisting(ctx, 'ListPolicyVersions', input.PolicyArn);
      const versions = target.kind === 'aws' ? [awsVersion(target)] : await store.listManagedPolicyVersions(input.PolicyArn);
      if (!versions) throw policyNotFound(input.PolicyArn);
      const page = pageOf(versions, input);
      return { Versions: page.items.map((version) => versionView(version, false)), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    async deletePolicyVersion(ctx: RequestContext, input: IamInput<'DeletePolicyVersion'>) {
      await changeable(ctx, 'DeletePolicyVersion', input.PolicyArn);
      const outcome = await store.deleteManagedPolicyVersion(input.PolicyArn, input.VersionId);
      if (outcome === 'no-policy') throw policyNotFound(input.PolicyArn);
      if (outcome === 'no-version') throw versionNotFound(input.PolicyArn, input.VersionId);
      if (outcome === 'is-default') throw iamError('DeleteConflict', 'Cannot delete the default version of a policy.');
      return {};
    },

    async setDefaultPolicyVersion(ctx: RequestContext, input: IamInput<'SetDefaultPolicyVersion'>) {
      await changeable(ctx, 'SetDefaultPolicyVersion', input.PolicyArn);
      const outcome = await store.setDefaultManagedPolicyVersion(input.PolicyArn, input.VersionId, ctx.clock.now());
      if (outcome === 'no-policy') throw policyNotFound(input.PolicyArn);
      if (outcome === 'no-version') throw versionNotFound(input.PolicyArn, input.VersionId);
      return {};
    },

    async tagPolicy(ctx: RequestContext, input: IamInput<'TagPolicy'>) {
      await changeable(ctx, 'TagPolicy', input.PolicyArn, iamRequestTags(input.Tags));
      const outcome = await store.tagManagedPolicy(input.PolicyArn, input.Tags, IAM_LIMITS.tagsPerPolicy);
      if (outcome === 'absent') throw policyNotFound(input.PolicyArn);
      if (outcome === 'limit-exceeded') throw iamError('LimitExceeded', `Cannot exceed quota for TagsPerPolicy: ${IAM_LIMITS.tagsPerPolicy}`);
      return {};
    },

    async untagPolicy(ctx: RequestContext, input: IamInput<'UntagPolicy'>) {
      await changeable(ctx, 'UntagPolicy', input.PolicyArn, requestTagContext(input.TagKeys.map((key) => [key, undefined])));
      if (!(await store.untagManagedPolicy(input.PolicyArn, input.TagKeys))) throw policyNotFound(input.PolicyArn);
      return {};
    },

    async listPolicyTags(ctx: RequestContext, input: IamInput<'ListPolicyTags'>) {
      const target = await access.authorizeExisting(ctx, 'ListPolicyTags', input.PolicyArn);
      const page = pageOf(target.kind === 'customer' ? target.policy.tags : [], input);
      return { Tags: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    /**
     * The account's users and roles that use the policy: attached to it, or as their permissions boundary
     * (PolicyUsageFilter picks one use; EntityFilter one kind; PathPrefix their path). Groups are listed when IAM
     * groups exist. https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListEntitiesForPolicy.html
     */
    async listEntitiesForPolicy(ctx: RequestContext, input: IamInput<'ListEntitiesForPolicy'>) {
      await access.authorizeExisting(ctx, 'ListEntitiesForPolicy', input.PolicyArn);
      const pathPrefix = input.PathPrefix ?? '/';
      const kind = { User: 'user', Role: 'role', Group: 'group', LocalManagedPolicy: 'none', AWSManagedPolicy: 'none' }[input.EntityFilter ?? 'User'];
      const entities = (await store.listPolicyEntities(ctx.principal.accountId, input.PolicyArn)).filter(
        (entity) =>
          (input.EntityFilter === undefined || entity.kind === kind) &&
          (input.PolicyUsageFilter === undefined || entity.usage === input.PolicyUsageFilter) &&
          entity.path.startsWith(pathPrefix),
      );
      // An entity that both has the policy attached and as its boundary is listed once.
      const unique = entities.filter((entity, index) => index === 0 || entities[index - 1]!.kind !== entity.kind || entities[index - 1]!.id !== entity.id);
      const page = pageOf(unique, input);
      return {
        PolicyUsers: page.items.filter((entity) => entity.kind === 'user').map((entity) => ({ UserName: entity.name, UserId: entity.id })),
        PolicyRoles: page.items.filter((entity) => entity.kind === 'role').map((entity) => ({ RoleName: entity.name, RoleId: entity.id })),
        PolicyGroups: page.items.filter((entity) => entity.kind === 'group').map((entity) => ({ GroupName: entity.name, GroupId: entity.id })),
        IsTruncated: page.IsTruncated,
        Marker: page.Marker,
      };
    },
  };

  async function versionOf(target: ManagedPolicyTarget, versionId: string): Promise<ManagedPolicyVersionRecord | undefined> {
    if (target.kind === 'aws') return versionId === target.policy.defaultVersionId ? awsVersion(target) : undefined;
    return (await store.getManagedPolicyVersion(target.policy.arn, versionId))?.version;
  }
}

/** An AWS managed policy has one version here: its default, as of its last edit. */
function awsVersion(target: Extract<ManagedPolicyTarget, { kind: 'aws' }>): ManagedPolicyVersionRecord {
  return { versionId: target.policy.defaultVersionId, document: target.policy.document, isDefaultVersion: true, createdAt: target.policy.updatedAt };
}

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_PolicyVersion.html */
function versionView(version: ManagedPolicyVersionRecord, withDocument: boolean) {
  return {
    Document: withDocument ? encodeURIComponent(version.document) : undefined,
    VersionId: version.versionId,
    IsDefaultVersion: version.isDefaultVersion,
    CreateDate: version.createdAt,
  };
}

function versionNotFound(arn: string, versionId: string) {
  return iamError('NoSuchEntity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
}

/** IAM's quota on a managed policy's size: 6,144 characters, white space not counted. */
function checkPolicySize(document: string): void {
  if (document.replace(/\s/g, '').length > IAM_LIMITS.managedPolicyCharacters) {
    throw iamError('LimitExceeded', `Cannot exceed quota for PolicySize: ${IAM_LIMITS.managedPolicyCharacters}`);
  }
}
