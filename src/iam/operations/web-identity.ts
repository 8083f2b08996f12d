import type { JsonWebKey } from 'node:crypto';
import { systemClock, type RequestContext, type SessionAttributes } from '../../core/index.js';
import { checkAccess, requestFacts, requestTagContext, type CompiledPolicyCache, type ContextValue, type PrincipalPolicies } from '../../policy/index.js';
import type { IamRoleRecord, OidcProviderRecord } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { stsError } from '../errors.js';
import { parseRoleArn } from '../names.js';
import type { StsInput } from '../schemas.js';
import { checkTokenTimes, keyFits, parseJwt, publicKeyOf, signatureValid, type JwtClaims, type ParsedJwt } from '../web-identity/jwt.js';
import { issuerKeyOf, issuerMatches, providerArn, type IssuerPolicy } from '../web-identity/issuer-urls.js';
import { sessionTagsOf, sourceIdentityOf, type SessionTagClaims } from '../web-identity/session-claims.js';
import { SigningKeyCache } from '../web-identity/signing-keys.js';
import { planSession } from './session-attributes.js';
import { issueRoleSession, sessionDurationSeconds, trustPolicyOnItsRole } from './sts.js';

/**
 * STS AssumeRoleWithWebIdentity: a workload that holds an OIDC ID token (a Kubernetes service account token, a
 * CI job's token) gets temporary credentials for a role. The call is unsigned: there is no caller, and nothing is
 * authorized by a caller's identity; the token is the credential, verified here:
 *   1. the JWS (RS/PS/ES 256-512 only) with the issuer's keys (signing-keys.ts: discovery + JWKS, or a stored JWKS);
 *   2. `iss` names an OIDC provider of the ROLE's account (AWS finds the provider there, by the issuer);
 *   3. `aud` (a string or a list) holds one of the provider's client ids; `exp`/`nbf`/`iat` within 60 s of skew;
 *   4. the role's trust policy allows `sts:AssumeRoleWithWebIdentity` to `{"Federated": "<provider ARN>"}`, with
 *      the claims as `<host/path>:sub`, `:aud`, `:amr` and `aws:FederatedProvider`; session tags from the token
 *      also need `sts:TagSession`, a source identity `sts:SetSourceIdentity`, as AWS requires.
 * Every refusal names the role and the provider on the call's audit event (never the token, which is Sensitive
 * and dropped by name by the audit's redaction).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
 */
export function webIdentityOperations(deps: IamDeps, compiled: CompiledPolicyCache) {
  const { store, credentials } = deps;
  const issuerPolicy: IssuerPolicy = { allowLoopbackHttp: deps.webIdentity?.allowLoopbackHttpIssuers ?? false };
  const signingKeys = deps.webIdentity?.signingKeys ?? new SigningKeyCache({ policy: issuerPolicy });
  const tokenClock = deps.tokenClock ?? systemClock;

  /** The provider of the role's account that the token's issuer names; InvalidIdentityToken when there is none. */
  async function providerOf(ctx: RequestContext, roleAccountId: string, claims: JwtClaims): Promise<OidcProviderRecord> {
    const iss = claims.iss;
    if (typeof iss !== 'string' || iss === '') throw stsError('InvalidIdentityToken', 'Missing a required claim: iss');
    const key = issuerKeyOf(iss, issuerPolicy);
    const shown = iss.length <= 255 ? iss : `${iss.slice(0, 255)}…`;
    const missing = () => stsError('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${shown}`);
    if (key === undefined) throw missing();
    const arn = providerArn(roleAccountId, key);
    noteResource(ctx, arn, roleAccountId);
    const provider = await store.getOidcProvider(roleAccountId, arn);
    if (!provider || !issuerMatches(iss, provider.url)) throw missing();
    return provider;
  }

  /** Verifies the signature with the provider's keys, fetching them again once if the token's kid is new. */
  async function verifySignature(token: ParsedJwt, provider: OidcProviderRecord): Promise<void> {
    const keys = await signingKeys.keysFor({ providerArn: provider.arn, issuerUrl: provider.url, storedJwks: provider.jwks }, token.header.kid);
    const candidates = keys.filter((jwk: JsonWebKey) => (token.header.kid === undefined || jwk.kid === token.header.kid) && keyFits(jwk, token.header.alg));
    if (candidates.length === 0) {
      throw stsError('InvalidIdentityToken', "Couldn't find a key of your identity provider that verifies the token (kid and alg must name one of its signing keys).");
    }
    const verified = candidates.some((jwk) => {
      const key = publicKeyOf(jwk);
      return key !== undefined && signatureValid(token, key);
    });
    if (!verified) throw stsError('InvalidIdentityToken', 'The web identity token signature could not be verified.');
  }

  return {
    async assumeRoleWithWebIdentity(ctx: RequestContext, input: StsInput<'AssumeRoleWithWebIdentity'>) {
      const target = parseRoleArn(input.RoleArn);
      if (!target) throw stsError('ValidationError', `${input.RoleArn} is invalid`);
      noteResource(ctx, input.RoleArn, target.accountId);
      // ProviderId is for OAuth 2.0 access tokens (Login with Amazon, Facebook); "Do not specify this value for
      // OpenID Connect ID tokens." Coffer accepts only OIDC ID tokens, so it refuses one rather than ignore it.
      if (input.ProviderId !== undefined) throw stsError('ValidationError', 'ProviderId is not supported by this server: send an OpenID Connect ID token without it.');
      const token = parseJwt(input.WebIdentityToken.reveal());
      const provider = await providerOf(ctx, target.accountId, token.claims);
      await verifySignature(token, provider);
      checkTokenTimes(token.claims, tokenClock.now());
      const claims = verifiedClaims(token.claims, provider);
      const sessionTags = sessionTagsOf(token.claims);
      const sourceIdentity = sourceIdentityOf(token.claims);

      // A role that does not exist is refused like one whose trust policy does not allow, so existence is not revealed.
      const found = await store.getIamRole(target.accountId, target.roleName);
      const trusted = found && found.arn === input.RoleArn ? found : undefined;
      const trustContext = trustPolicyContext(provider, claims, input.RoleSessionName, sessionTags, sourceIdentity);
      const trust = trusted ? compiled.get(trustPolicyOnItsRole(trusted.assumeRolePolicyDocument)) : undefined;
      const actions = ['sts:AssumeRoleWithWebIdentity', ...(sessionTags ? ['sts:TagSession'] : []), ...(sourceIdentity ? ['sts:SetSourceIdentity'] : [])];
      for (const action of actions) {
        const allowed = trust !== undefined && checkAccess(federatedCaller(provider.arn, target.accountId), { action, resource: input.RoleArn, resourceAccount: target.accountId, resourcePolicy: trust, resourceKind: 'key-policy', context: trustContext }, requestFacts(ctx)).allowed;
        if (!allowed) throw stsError('AccessDenied', `Not authorized to perform ${action}`);
      }
      const role: IamRoleRecord = trusted!;

      // A web identity session is never role chaining: the token, not a role session, is the caller.
      const durationSeconds = sessionDurationSeconds(input.DurationSeconds, role.maxSessionDurationSeconds, false);
      // The session policies and the token's tags and source identity, checked and sized as AssumeRole's are (the
      // unsigned caller is no role session, so nothing is inherited).
      const planned = planSession(
        { Policy: input.Policy, PolicyArns: input.PolicyArns, Tags: sessionTags?.tags, TransitiveTagKeys: sessionTags?.transitiveTagKeys, SourceIdentity: sourceIdentity },
        ctx.principal,
        target.accountId,
      );
      const session: SessionAttributes = {
        ...planned.attributes,
        webIdentity: { providerArn: provider.arn, subject: claims.subject, audience: claims.audience, issuer: claims.issuer, ...(claims.amr ? { amr: claims.amr } : {}) },
      };
      return {
        ...(await issueRoleSession(credentials, role, input.RoleSessionName, durationSeconds, session)),
        SubjectFromWebIdentityToken: claims.subject,
        PackedPolicySize: planned.packedPolicySize,
        Provider: provider.arn,
        Audience: claims.audience,
        SourceIdentity: sourceIdentity,
      };
    },
  };
}

type VerifiedClaims = { issuer: string; subject: string; audience: string; amr?: string[] };

/** sub, the audience among the provider's client ids, and amr: the claims the trust policy sees. */
function verifiedClaims(claims: JwtClaims, provider: OidcProviderRecord): VerifiedClaims {
  const { sub, aud, amr } = claims;
  if (typeof sub !== 'string' || sub === '') throw stsError('InvalidIdentityToken', 'Missing a required claim: sub');
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((value): value is string => typeof value === 'string') : [];
  if (audiences.length === 0) throw stsError('InvalidIdentityToken', 'Missing a required claim: aud');
  const audience = audiences.find((value) => provider.clientIds.includes(value));
  if (audience === undefined) throw stsError('InvalidIdentityToken', 'Incorrect token audience');
  const methods = typeof amr === 'string' ? [amr] : Array.isArray(amr) ? amr.filter((value): value is string => typeof value === 'string') : undefined;
  return { issuer: claims.iss as string, subject: sub, audience, ...(methods ? { amr: methods } : {}) };
}

/**
 * The trust policy's condition keys for a web identity: the claims under the provider's host/path
 * (`token.actions.githubusercontent.com:sub`), aws:FederatedProvider, sts:RoleSessionName, and with session tags
 * aws:RequestTag/<key>, aws:TagKeys and sts:TransitiveTagKeys; sts:SourceIdentity with a source identity.
 */
function trustPolicyContext(provider: OidcProviderRecord, claims: VerifiedClaims, sessionName: string, tags: SessionTagClaims | undefined, sourceIdentity: string | undefined) {
  const prefix = provider.arn.slice(provider.arn.indexOf(':oidc-provider/') + ':oidc-provider/'.length);
  const context: Record<string, ContextValue> = {
    [`${prefix}:sub`]: claims.subject,
    [`${prefix}:aud`]: claims.audience,
    [`${prefix}:amr`]: claims.amr,
    'aws:FederatedProvider': provider.arn,
    'sts:RoleSessionName': sessionName,
    'sts:SourceIdentity': sourceIdentity,
  };
  if (tags) Object.assign(context, requestTagContext(tags.tags.map((tag) => [tag.Key, tag.Value])), { 'sts:TransitiveTagKeys': tags.transitiveTagKeys });
  return context;
}

/** The caller as the trust policy sees it: the provider, matched only by a Federated principal; no identity policies. */
function federatedCaller(arn: string, accountId: string): PrincipalPolicies {
  return { principal: { arn, accountId, federated: arn }, unrestricted: false, policies: [], tags: {} };
}

/** Names a resource on the call's audit event (a refused call's event lists what its checks were about). */
function noteResource(ctx: RequestContext, arn: string, accountId: string): void {
  if (ctx.access) (ctx.access.resources ??= []).push({ arn, accountId });
}
