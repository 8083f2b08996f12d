/**
 * OpenID Connect provider URLs, ARNs and token issuers. IAM names a provider by its URL without the scheme:
 * `https://token.actions.githubusercontent.com` → `arn:aws:iam::<acct>:oidc-provider/token.actions.githubusercontent.com`,
 * and the same host/path prefixes the trust policy's condition keys (`<host/path>:sub`). The URL "must begin with
 * https:// ... Per the OIDC standard, path components are allowed but query parameters are not."
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
 * With the server's --dev flag a plain-http issuer on a loopback address (127.0.0.1, ::1, localhost) is accepted
 * too, so a test or a laptop can run its own issuer; it is never accepted otherwise.
 */
export type IssuerPolicy = { allowLoopbackHttp: boolean };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** `host[:port][/path]` of a provider URL, or a sentence saying why the URL is refused. */
export function providerKeyOf(url: string, policy: IssuerPolicy): { key: string } | { problem: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'The URL is not a valid URL.' };
  }
  const loopbackHttp = parsed.protocol === 'http:' && policy.allowLoopbackHttp && LOOPBACK_HOSTS.has(parsed.hostname);
  if (parsed.protocol !== 'https:' && !loopbackHttp) return { problem: 'The URL must begin with https://.' };
  if (!url.startsWith(`${parsed.protocol}//`)) return { problem: 'The URL must begin with https://.' };
  if (parsed.search !== '' || url.includes('?')) return { problem: 'The URL may not contain query parameters.' };
  if (parsed.hash !== '' || url.includes('#')) return { problem: 'The URL may not contain a fragment.' };
  if (parsed.username !== '' || parsed.password !== '') return { problem: 'The URL may not contain credentials.' };
  // The key is the text after the scheme, as given (IAM keeps the URL's case and any trailing slash).
  return { key: url.slice(`${parsed.protocol}//`.length) };
}

export function providerArn(accountId: string, key: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${key}`;
}

/** `arn:aws:iam::<acct>:oidc-provider/<key>` → account and key; undefined for anything else. */
export function parseProviderArn(arn: string): { accountId: string; key: string } | undefined {
  const match = /^arn:aws:iam::(\d{12}):oidc-provider\/(.+)$/.exec(arn);
  return match ? { accountId: match[1]!, key: match[2]! } : undefined;
}

/**
 * The provider key a token's `iss` names. AWS accepts an `iss` with or without `https://` (Google's tokens have
 * carried `accounts.google.com`); Coffer does the same, and otherwise requires `iss` to be exactly the
 * provider's URL: a trailing slash counts, as for IAM two URLs differing only by it are two providers.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
 */
export function issuerKeyOf(iss: string, policy: IssuerPolicy): string | undefined {
  if (/^https?:\/\//i.test(iss)) {
    const key = providerKeyOf(iss, policy);
    return 'key' in key ? key.key : undefined;
  }
  const key = providerKeyOf(`https://${iss}`, policy);
  return 'key' in key ? key.key : undefined;
}

/** Whether a token's `iss` names exactly this provider's URL (scheme included when the token gives one). */
export function issuerMatches(iss: string, providerUrl: string): boolean {
  return /^https?:\/\//i.test(iss) ? iss === providerUrl : `https://${iss}` === providerUrl;
}

/** Where an issuer publishes its discovery document: `<issuer>/.well-known/openid-configuration` (OIDC Discovery §4). */
export function discoveryUrl(issuerUrl: string): string {
  return `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** Whether a jwks_uri may be fetched under the issuer policy: https, or loopback http in --dev. */
export function fetchableUrl(url: string, policy: IssuerPolicy): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && policy.allowLoopbackHttp && LOOPBACK_HOSTS.has(parsed.hostname));
  } catch {
    return false;
  }
}
