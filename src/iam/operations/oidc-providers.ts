import type { RequestContext } from '../../core/index.js';
import type { RequestContextValues } from '../../policy/index.js';
import { requestTagContext } from '../../policy/index.js';
import type { OidcProviderRecord } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { IAM_LIMITS, iamError } from '../errors.js';
import { pageOf } from '../paging.js';
import type { IamInput } from '../schemas.js';
import { parseProviderArn, providerArn, providerKeyOf } from '../web-identity/issuer-urls.js';
import { iamRequestTags, resourceTagContext } from './callers.js';

const THUMBPRINT = /^[0-9a-fA-F]{40}$/;

/**
 * IAM's OpenID Connect providers: the issuers whose ID tokens AssumeRoleWithWebIdentity accepts in the account.
 * Every operation is authorized as `iam:<Operation>` on the provider's ARN (with its tags as aws:ResourceTag),
 * like the other IAM resources; ListOpenIDConnectProviders by the pipeline on `*`. The thumbprints are kept and
 * returned as IAM does (optional, as AWS now allows); Coffer trusts an issuer's TLS certificate through the
 * system trust store, not through them.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
 */
export function oidcProviderOperations(deps: IamDeps) {
  const { store, authorizer } = deps;
  const issuerPolicy = { allowLoopbackHttp: deps.webIdentity?.allowLoopbackHttpIssuers ?? false };

  /** The provider named by an ARN of the caller's account; NoSuchEntity (after the check) when there is none. */
  async function authorizedProvider(ctx: RequestContext, operation: string, arn: string, context?: RequestContextValues): Promise<OidcProviderRecord> {
    const accountId = ctx.principal.accountId;
    const parsed = parseProviderArn(arn);
    if (!parsed) throw iamError('InvalidInput', `ARN ${arn} is not valid.`);
    const provider = parsed.accountId === accountId ? await store.getOidcProvider(accountId, arn) : undefined;
    await authorizer.authorize(ctx, {
      action: `iam:${operation}`,
      resource: arn,
      resourceAccount: accountId,
      context: { ...resourceTagContext(provider?.tags ?? []), ...context },
    });
    if (!provider) throw notFound(arn);
    return provider;
  }

  /** A provider that disappeared between the read and the write (deleted meanwhile): NoSuchEntity too. */
  function afterWrite(done: boolean, arn: string): Record<string, never> {
    if (!done) throw notFound(arn);
    return {};
  }

  return {
    async createOpenIDConnectProvider(ctx: RequestContext, input: IamInput<'CreateOpenIDConnectProvider'>) {
      const accountId = ctx.principal.accountId;
      const key = providerKeyOf(input.Url, issuerPolicy);
      // The ARN is formed before the URL is judged only when it can be; a refused URL is checked on a name of its own.
      const arn = providerArn(accountId, 'key' in key ? key.key : input.Url.replace(/^[a-z]+:\/\//i, ''));
      await authorizer.authorize(ctx, { action: 'iam:CreateOpenIDConnectProvider', resource: arn, resourceAccount: accountId, context: iamRequestTags(input.Tags) });
      if ('problem' in key) throw iamError('InvalidInput', `Invalid Openid Connect Provider URL: ${key.problem}`);
      const clientIds = unique(input.ClientIDList ?? []);
      if (clientIds.length > IAM_LIMITS.clientIdsPerOidcProvider) {
        throw iamError('LimitExceeded', `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${IAM_LIMITS.clientIdsPerOidcProvider}`);
      }
      const thumbprints = checkedThumbprints(input.ThumbprintList ?? []);
      const record: OidcProviderRecord = { accountId, arn, url: input.Url, clientIds, thumbprints, tags: input.Tags ?? [], createdAt: ctx.clock.now() };
      const outcome = await store.createOidcProvider(record, IAM_LIMITS.oidcProvidersPerAccount);
      if (outcome === 'exists') throw iamError('EntityAlreadyExists', `Provider with url ${input.Url} already exists.`);
      if (outcome === 'limit-exceeded') {
        throw iamError('LimitExceeded', `Cannot exceed quota for OpenIdConnectProvidersPerAccount: ${IAM_LIMITS.oidcProvidersPerAccount}`);
      }
      return { OpenIDConnectProviderArn: arn, Tags: record.tags.length > 0 ? record.tags : undefined };
    },

    /** Url comes back without its scheme, as IAM answers it. */
    async getOpenIDConnectProvider(ctx: RequestContext, input: IamInput<'GetOpenIDConnectProvider'>) {
      const provider = await authorizedProvider(ctx, 'GetOpenIDConnectProvider', input.OpenIDConnectProviderArn);
      return {
        Url: parseProviderArn(provider.arn)!.key,
        ClientIDList: provider.clientIds,
        ThumbprintList: provider.thumbprints,
        CreateDate: provider.createdAt,
        Tags: provider.tags.length > 0 ? provider.tags : undefined,
      };
    },

    async listOpenIDConnectProviders(ctx: RequestContext) {
      const providers = await store.listOidcProviders(ctx.principal.accountId);
      return { OpenIDConnectProviderList: providers.map((provider) => ({ Arn: provider.arn })) };
    },

    async deleteOpenIDConnectProvider(ctx: RequestContext, input: IamInput<'DeleteOpenIDConnectProvider'>) {
      const arn = input.OpenIDConnectProviderArn;
      await authorizedProvider(ctx, 'DeleteOpenIDConnectProvider', arn);
      const deleted = await store.deleteOidcProvider(ctx.principal.accountId, arn);
      deps.webIdentity?.signingKeys.forget(arn);
      return afterWrite(deleted, arn);
    },

    async addClientIDToOpenIDConnectProvider(ctx: RequestContext, input: IamInput<'AddClientIDToOpenIDConnectProvider'>) {
      const arn = input.OpenIDConnectProviderArn;
      await authorizedProvider(ctx, 'AddClientIDToOpenIDConnectProvider', arn);
      const outcome = await store.addOidcProviderClientId(ctx.principal.accountId, arn, input.ClientID, IAM_LIMITS.clientIdsPerOidcProvider);
      if (outcome === 'limit-exceeded') {
        throw iamError('LimitExceeded', `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${IAM_LIMITS.clientIdsPerOidcProvider}`);
      }
      return afterWrite(outcome === 'updated', arn);
    },

    /** Removing a client id the provider does not have succeeds and changes nothing, as IAM documents. */
    async removeClientIDFromOpenIDConnectProvider(ctx: RequestContext, input: IamInput<'RemoveClientIDFromOpenIDConnectProvider'>) {
      const arn = input.OpenIDConnectProviderArn;
      await authorizedProvider(ctx, 'RemoveClientIDFromOpenIDConnectProvider', arn);
      return afterWrite(await store.removeOidcProviderClientId(ctx.principal.accountId, arn, input.ClientID), arn);
    },

    async updateOpenIDConnectProviderThumbprint(ctx: RequestContext, input: IamInput<'UpdateOpenIDConnectProviderThumbprint'>) {
      const arn = input.OpenIDConnectProviderArn;
      await authorizedProvider(ctx, 'UpdateOpenIDConnectProviderThumbprint', arn);
      const thumbprints = checkedThumbprints(input.ThumbprintList);
      return afterWrite(await store.setOidcProviderThumbprints(ctx.principal.accountId, arn, thumbprints), arn);
    },

    async tagOpenIDConnectProvider(ctx: RequestContext, input: IamInput<'TagOpenIDConnectProvider'>) {
      const arn = input.OpenIDConnectProviderArn;
      await authorizedProvider(ctx, 'TagOpenIDConnectProvider', arn, iamRequestTags(input.Tags));
      const outcome = await store.tagOidcProvider(ctx.principal.accountId, arn, input.Tags, IAM_LIMITS.tagsPerPrincipal);
      if (outcome === 'limit-exceeded') throw iamError('LimitExceeded', `Cannot exceed quota for TagsPerOpenIdConnectProvider: ${IAM_LIMITS.tagsPerPrincipal}`);
      return afterWrite(outcome === 'updated', arn);
    },

    async untagOpenIDConnectProvider(ctx: RequestContext, input: IamInput<'UntagOpenIDConnectProvider'>) {
      const arn = input.OpenIDConnectProviderArn;
      await authorizedProvider(ctx, 'UntagOpenIDConnectProvider', arn, requestTagContext(input.TagKeys.map((key) => [key, undefined])));
      return afterWrite(await store.untagOidcProvider(ctx.principal.accountId, arn, input.TagKeys), arn);
    },

    async listOpenIDConnectProviderTags(ctx: RequestContext, input: IamInput<'ListOpenIDConnectProviderTags'>) {
      const provider = await authorizedProvider(ctx, 'ListOpenIDConnectProviderTags', input.OpenIDConnectProviderArn);
      const page = pageOf(provider.tags, input);
      return { Tags: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
    },
  };
}

function notFound(arn: string) {
  return iamError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
}

/** At most 5 thumbprints of 40 hex digits each (the SHA-1 of the issuer's certificate). */
function checkedThumbprints(thumbprints: string[]): string[] {
  const bad = thumbprints.find((thumbprint) => !THUMBPRINT.test(thumbprint));
  if (bad !== undefined) throw iamError('InvalidInput', 'Thumbprint must be a 40-character hexadecimal string.');
  if (thumbprints.length > IAM_LIMITS.thumbprintsPerOidcProvider) {
    throw iamError('LimitExceeded', `Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: ${IAM_LIMITS.thumbprintsPerOidcProvider}`);
  }
  return thumbprints;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
