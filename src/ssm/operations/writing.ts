import type { RequestContext } from '../../core/index.js';
import type { ParameterType, ParameterWriteOutcome, StoredParameter } from '../../store/index.js';
import type { ParameterLimits, SsmDeps } from '../deps.js';
import { parameterNotFound, ssmError } from '../errors.js';
import { assertWritableName, trimName } from '../names.js';
import { requestTagConditions, type ParameterAccess } from '../parameter-access.js';
import {
  assertDataType,
  assertNotNested,
  assertValueFits,
  parsePolicies,
  resolveTier,
  type ParsedPolicies,
} from '../parameter-rules.js';
import { assertMatchesAllowedPattern, assertValidAllowedPattern } from '../allowed-pattern.js';
import { DEFAULT_KEY_ALIAS, isExpired, type ParameterValues } from '../parameter-values.js';
import type { SsmInput } from '../schemas.js';

/** PutParameter, DeleteParameter and DeleteParameters. */
export function createWritingOperations(deps: SsmDeps, access: ParameterAccess, values: ParameterValues, limits: ParameterLimits) {
  /**
   * Creates a parameter (version 1) or, with Overwrite, a new version of it. Every rule is checked, and a
   * SecureString sealed, before the store is called; what a new version leaves out (description, pattern,
   * policies, key) it keeps from the latest one.
   * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
   */
  async function putParameter(ctx: RequestContext, input: SsmInput<'PutParameter'>) {
    const name = trimName(input.Name);
    const overwrite = input.Overwrite ?? false;
    const conditions = { ...requestTagConditions(input.Tags), 'ssm:Overwrite': String(overwrite) };
    await access.authorizeParameter(ctx, 'ssm:PutParameter', name, conditions);
    assertWritableName(name, ctx.region, ctx.principal.accountId);
    if (input.Tags && overwrite) {
      throw ssmError(
        'ValidationException',
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      );
    }
    const current = await latestLive(ctx, name);
    if (current && !overwrite) throw alreadyExists();
    const type = resolveType(input.Type, current);
    if (input.KeyId !== undefined && type !== 'SecureString') throw ssmError('ValidationException', 'KeyId is valid only for parameters of type SecureString.');
    const value = input.Value.reveal();
    const valueBytes = Buffer.byteLength(value, 'utf8');
    assertNotNested(value);
    const dataType = input.DataType ?? current?.dataType ?? 'text';
    assertDataType(dataType, type, value);
    if (input.AllowedPattern) assertValidAllowedPattern(input.AllowedPattern);
    const allowedPattern = input.AllowedPattern ?? current?.allowedPattern;
    const policies = policiesFor(input.Policies, current, ctx.clock.now());
    const tier = resolveTier(input.Tier, valueBytes, policies !== undefined, current?.tier);
    if (policies && tier === 'Standard') throw ssmError('ValidationException', 'Parameter policies are supported only for parameters in the advanced tier.');
    assertValueFits(tier, valueBytes);
    await assertMatchesAllowedPattern(value, allowedPattern); // after the size check: at most 8 KB to match
    const keyId = type === 'SecureString' ? (input.KeyId ?? (current?.type === 'SecureString' ? current.keyId : undefined) ?? DEFAULT_KEY_ALIAS) : undefined;
    const sealed = keyId ? await values.seal(ctx, name, keyId, input.Value) : undefined;
    const outcome = await deps.store.putParameter(
      {
        accountId: ctx.principal.accountId,
        region: ctx.region,
        name,
        type,
        value: sealed ? undefined : value,
        sealed: sealed && { encryptedDataKey: sealed.encryptedDataKey, sealedValue: sealed.sealedValue },
        keyId,
        description: input.Description ?? current?.description,
        allowedPattern,
        dataType,
        tier,
        policies: policies?.text,
        expiresAt: policies?.expiresAt,
        tags: (input.Tags ?? []).map((tag) => ({ TagKey: tag.Key, TagValue: tag.Value })),
        lastModifiedDate: ctx.clock.now(),
        lastModifiedUser: ctx.principal.arn,
      },
      { overwrite, maxVersions: limits.maxVersions, maxStandardParameters: limits.maxStandardParameters },
    );
    return { Version: writtenVersion(outcome, name), Tier: tier };
  }

  async function deleteParameter(ctx: RequestContext, input: SsmInput<'DeleteParameter'>) {
    const name = trimName(input.Name);
    await access.authorizeParameter(ctx, 'ssm:DeleteParameter', name);
    if (!(await deps.store.deleteParameter(ctx.principal.accountId, ctx.region, name))) throw parameterNotFound(name);
    return {};
  }

  /** Deletes up to 10 parameters: each one the caller may delete; names that name nothing come back as InvalidParameters. */
  async function deleteParameters(ctx: RequestContext, input: SsmInput<'DeleteParameters'>) {
    const names = [...new Set(input.Names.map((requested) => requested.trim()))];
    for (const name of names) await access.authorizeParameter(ctx, 'ssm:DeleteParameters', name);
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const name of names) {
      const removed = !/\s/.test(name) && (await deps.store.deleteParameter(ctx.principal.accountId, ctx.region, name));
      (removed ? deleted : invalid).push(name);
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  }

  /** The latest version, unless the parameter's Expiration has passed: then it is deleted now and reads as absent. */
  async function latestLive(ctx: RequestContext, name: string): Promise<StoredParameter | undefined> {
    const current = await deps.store.getParameter(ctx.principal.accountId, ctx.region, name);
    if (current && isExpired(current, ctx.clock.now())) {
      await deps.store.deleteParameter(ctx.principal.accountId, ctx.region, name);
      return undefined;
    }
    return current;
  }

  return { putParameter, deleteParameter, deleteParameters };
}

function resolveType(asked: ParameterType | undefined, current: StoredParameter | undefined): ParameterType {
  const type = asked ?? current?.type;
  if (!type) throw ssmError('ValidationException', 'A parameter type is required when you create a parameter.');
  if (current && type !== current.type) {
    throw ssmError(
      'HierarchyTypeMismatchException',
      "Parameter Store doesn't support changing a parameter type in a hierarchy. For example, you can't change a parameter from a String type to a SecureString type. You must create a new, unique parameter.",
    );
  }
  return type;
}

/** The policies a write carries: the request's (an empty list clears them), else the latest version's. */
function policiesFor(requested: string | undefined, current: StoredParameter | undefined, now: Date): ParsedPolicies | undefined {
  if (requested !== undefined) {
    const parsed = parsePolicies(requested, now);
    return JSON.parse(parsed.text).length === 0 ? undefined : parsed;
  }
  return current?.policies === undefined ? undefined : { text: current.policies, expiresAt: current.expiresAt };
}

function alreadyExists() {
  return ssmError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
}

function writtenVersion(outcome: ParameterWriteOutcome, name: string): number {
  switch (outcome.kind) {
    case 'written':
      return outcome.version;
    case 'exists':
      throw alreadyExists();
    case 'parameter-limit':
      throw ssmError('ParameterLimitExceeded', 'You have exceeded the number of parameters for this account. Delete one or more parameters and try again.');
    case 'oldest-version-labelled':
      throw ssmError(
        'ParameterMaxVersionLimitExceeded',
        `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. The oldest version can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
      );
  }
}
