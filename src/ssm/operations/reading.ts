import { AwsError, type RequestContext } from '../../core/index.js';
import type { StoredParameter } from '../../store/index.js';
import type { SsmDeps } from '../deps.js';
import { parameterNotFound, ssmError } from '../errors.js';
import { compileFilters, decodeNextToken, encodeNextToken } from '../filters.js';
import { assertValidName, nameFromArnOrName, parseSelector, pathPrefix, secretReference, type SelectedName } from '../names.js';
import type { ParameterAccess } from '../parameter-access.js';
import { historyView, isExpired, parameterView, type ParameterValues } from '../parameter-values.js';
import type { SsmInput } from '../schemas.js';

/** A Secrets Manager version id (a UUID, or any 32–64 characters of one); anything else after the colon is a staging label. */
const VERSION_ID = /^[a-zA-Z0-9-]{32,64}$/;

/** GetParameter, GetParameters, GetParametersByPath and GetParameterHistory. */
export function createReadingOperations(deps: SsmDeps, access: ParameterAccess, values: ParameterValues) {
  async function getParameter(ctx: RequestContext, input: SsmInput<'GetParameter'>) {
    const withDecryption = input.WithDecryption ?? false;
    if (secretReference(input.Name)) return { Parameter: await readReference(ctx, 'ssm:GetParameter', input.Name, withDecryption) };
    const selected = selectedName(ctx, input.Name);
    await access.authorizeParameter(ctx, 'ssm:GetParameter', selected.name);
    assertValidName(selected.name);
    const stored = await findSelected(ctx, selected);
    return { Parameter: parameterView(ctx, stored, await values.shownValue(ctx, stored, withDecryption), selected.selector) };
  }

  /** Up to 10 parameters at once; the names that name nothing (or a version or label it lacks) come back as InvalidParameters. */
  async function getParameters(ctx: RequestContext, input: SsmInput<'GetParameters'>) {
    const withDecryption = input.WithDecryption ?? false;
    const requested = [...new Set(input.Names)];
    if (!withDecryption && requested.some((name) => secretReference(name))) throw referenceNeedsDecryption();
    const parameters = [];
    const invalid: string[] = [];
    let malformedAuthorized = false;
    for (const name of requested) {
      let authorized = false;
      try {
        if (secretReference(name)) {
          parameters.push(await readReference(ctx, 'ssm:GetParameters', name, withDecryption));
          continue;
        }
        const selected = selectedName(ctx, name);
        await access.authorizeParameter(ctx, 'ssm:GetParameters', selected.name);
        authorized = true;
        assertValidName(selected.name);
        const stored = await findSelected(ctx, selected);
        parameters.push(parameterView(ctx, stored, await values.shownValue(ctx, stored, withDecryption), selected.selector));
      } catch (error) {
        if (!isMissing(error)) throw error;
        // A name too malformed to name a parameter (a broken selector) was never checked: the caller must then be
        // allowed GetParameters on every parameter, so nobody learns even that without permission (asked once).
        if (!authorized && !secretReference(name) && !malformedAuthorized) {
          await access.authorizeParameter(ctx, 'ssm:GetParameters', '*');
          malformedAuthorized = true;
        }
        invalid.push(name);
      }
    }
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  /**
   * The parameters under a path, one level or (Recursive) all below it, in name order, at most MaxResults (10)
   * per page. Filters (Type, KeyId, Label) apply to the page read, so a page may hold fewer than MaxResults and
   * still have a NextToken, as AWS documents ("between zero and the value of MaxResults").
   */
  async function getParametersByPath(ctx: RequestContext, input: SsmInput<'GetParametersByPath'>) {
    const recursive = input.Recursive ?? false;
    const prefix = pathPrefix(input.Path);
    await access.authorizeParameter(ctx, 'ssm:GetParametersByPath', prefix === '/' ? '/' : prefix.slice(0, -1), { 'ssm:Recursive': String(recursive) });
    const { predicates } = compileFilters(input.ParameterFilters ?? [], 'by-path');
    const page = await deps.store.listParameters(ctx.principal.accountId, ctx.region, {
      prefix,
      recursive,
      afterName: decodeNextToken(input.NextToken),
      limit: input.MaxResults ?? 10,
    });
    const now = ctx.clock.now();
    const shown = page.items.filter((stored) => !isExpired(stored, now) && predicates.every((predicate) => predicate.test(stored, [])));
    const parameters = [];
    for (const stored of shown) parameters.push(parameterView(ctx, stored, await values.shownValue(ctx, stored, input.WithDecryption ?? false)));
    return { Parameters: parameters, NextToken: page.nextMarker === undefined ? undefined : encodeNextToken(page.nextMarker) };
  }

  /** Every kept version, oldest first, each with the attributes it was written with; MaxResults (50) per page. */
  async function getParameterHistory(ctx: RequestContext, input: SsmInput<'GetParameterHistory'>) {
    const name = nameFromArnOrName(input.Name.trim(), ctx.region, ctx.principal.accountId);
    await access.authorizeParameter(ctx, 'ssm:GetParameterHistory', name);
    assertValidName(name);
    const latest = await deps.store.getParameter(ctx.principal.accountId, ctx.region, name);
    if (!latest || isExpired(latest, ctx.clock.now())) throw parameterNotFound(name);
    const after = decodeNextToken(input.NextToken);
    const afterVersion = after === undefined ? 0 : Number(after);
    if (!Number.isInteger(afterVersion)) throw ssmError('InvalidNextToken', 'The specified token is not valid.');
    const limit = input.MaxResults ?? 50;
    const remaining = (await deps.store.listParameterVersions(ctx.principal.accountId, ctx.region, name)).filter((version) => version.version > afterVersion);
    const page = remaining.slice(0, limit);
    const parameters = [];
    for (const version of page) parameters.push(historyView(version, await values.shownValue(ctx, version, input.WithDecryption ?? false)));
    const more = remaining.length > limit;
    return { Parameters: parameters, NextToken: more ? encodeNextToken(String(page[page.length - 1]!.version)) : undefined };
  }

  /** The version a selector names, or ParameterNotFound / ParameterVersionNotFound. */
  async function findSelected(ctx: RequestContext, selected: SelectedName): Promise<StoredParameter> {
    const { accountId } = ctx.principal;
    const stored = await deps.store.getParameter(accountId, ctx.region, selected.name, { version: selected.version, label: selected.label });
    if (stored && !isExpired(stored, ctx.clock.now())) return stored;
    if (selected.selector && !stored) {
      const latest = await deps.store.getParameter(accountId, ctx.region, selected.name);
      if (latest && !isExpired(latest, ctx.clock.now())) {
        throw ssmError('ParameterVersionNotFound', `Systems Manager could not find version ${selected.selector.slice(1)} of ${selected.name}. Verify the version and try again.`);
      }
    }
    throw parameterNotFound(selected.name);
  }

  /**
   * `/aws/reference/secretsmanager/<secret-id>[:<version id or staging label>]`: the secret's value, read as the
   * caller through Secrets Manager (which authorizes and audits it), only WithDecryption, as AWS.
   * https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html
   */
  async function readReference(ctx: RequestContext, action: string, requested: string, withDecryption: boolean) {
    const reference = secretReference(requested)!;
    const name = requested.trim();
    const referenceName = reference.selector === undefined ? name : name.slice(0, -(reference.selector.length + 1));
    await access.authorizeParameter(ctx, action, referenceName);
    if (!withDecryption) throw referenceNeedsDecryption();
    const selector = reference.selector;
    const request = {
      SecretId: reference.secretId,
      ...(selector === undefined ? {} : VERSION_ID.test(selector) ? { VersionId: selector } : { VersionStage: selector }),
    };
    try {
      const secret = await deps.secrets.getSecretValue(ctx, request);
      return {
        Name: referenceName,
        Type: 'SecureString',
        Value: secret.value,
        Version: 0,
        Selector: selector === undefined ? undefined : `:${selector}`,
        SourceResult: secret.sourceResult,
        LastModifiedDate: secret.createdDate,
        ARN: secret.arn,
        DataType: 'text',
      };
    } catch (error) {
      if (error instanceof AwsError && error.code === 'ResourceNotFoundException') throw parameterNotFound(name);
      throw error;
    }
  }

  return { getParameter, getParameters, getParametersByPath, getParameterHistory };
}

/** The name (or ARN) a read gives, with its `:version` or `:label` selector parsed off. */
function selectedName(ctx: RequestContext, requested: string): SelectedName {
  return parseSelector(nameFromArnOrName(requested.trim(), ctx.region, ctx.principal.accountId));
}

function referenceNeedsDecryption() {
  return ssmError('ValidationException', 'WithDecryption flag must be True for retrieving a Secret Manager secret.');
}

/** Errors GetParameters reports as an InvalidParameters entry rather than failing the call. */
function isMissing(error: unknown): boolean {
  return error instanceof AwsError && ['ParameterNotFound', 'ParameterVersionNotFound', 'ValidationException', 'HierarchyLevelLimitExceededException'].includes(error.code);
}

