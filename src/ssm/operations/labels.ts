import type { RequestContext } from '../../core/index.js';
import type { ParameterLimits, SsmDeps } from '../deps.js';
import { parameterNotFound, ssmError } from '../errors.js';
import { isValidLabel, nameFromArnOrName } from '../names.js';
import type { ParameterAccess } from '../parameter-access.js';
import type { SsmInput } from '../schemas.js';

/**
 * LabelParameterVersion and UnlabelParameterVersion: a label is on at most one version of a parameter (putting
 * it on one moves it), a version carries at most 10, and labels that break AWS's rules are returned in
 * InvalidLabels rather than applied. https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html
 */
export function createLabelOperations(deps: SsmDeps, access: ParameterAccess, limits: ParameterLimits) {
  async function labelParameterVersion(ctx: RequestContext, input: SsmInput<'LabelParameterVersion'>) {
    const name = nameFromArnOrName(input.Name.trim(), ctx.region, ctx.principal.accountId);
    await access.authorizeParameter(ctx, 'ssm:LabelParameterVersion', name);
    const valid = input.Labels.filter(isValidLabel);
    const invalid = input.Labels.filter((label) => !isValidLabel(label));
    const outcome = await deps.store.labelParameterVersion(ctx.principal.accountId, ctx.region, name, input.ParameterVersion, valid, limits.maxLabels);
    switch (outcome.kind) {
      case 'absent':
        throw parameterNotFound(name);
      case 'version-absent':
        throw versionNotFound(name, input.ParameterVersion!);
      case 'limit-exceeded':
        throw ssmError('ParameterVersionLabelLimitExceeded', `A parameter version can have a maximum of ${limits.maxLabels} labels.`);
      case 'labelled':
        return { InvalidLabels: invalid, ParameterVersion: outcome.version };
    }
  }

  async function unlabelParameterVersion(ctx: RequestContext, input: SsmInput<'UnlabelParameterVersion'>) {
    const name = nameFromArnOrName(input.Name.trim(), ctx.region, ctx.principal.accountId);
    await access.authorizeParameter(ctx, 'ssm:UnlabelParameterVersion', name);
    const outcome = await deps.store.unlabelParameterVersion(ctx.principal.accountId, ctx.region, name, input.ParameterVersion, input.Labels);
    if (outcome.kind === 'absent') throw parameterNotFound(name);
    if (outcome.kind === 'version-absent') throw versionNotFound(name, input.ParameterVersion);
    return { RemovedLabels: outcome.removed, InvalidLabels: input.Labels.filter((label) => !outcome.removed.includes(label)) };
  }

  return { labelParameterVersion, unlabelParameterVersion };
}

function versionNotFound(name: string, version: number) {
  return ssmError('ParameterVersionNotFound', `Systems Manager could not find version ${version} of ${name}. Verify the version and try again.`);
}
