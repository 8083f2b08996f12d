import type { JsonWebKey } from 'node:crypto';
import { stsError } from '../errors.js';
import { discoveryUrl, fetchableUrl, type IssuerPolicy } from './issuer-urls.js';

/**
 * The signing keys of OIDC issuers, found as OIDC Discovery says (`<issuer>/.well-known/openid-configuration` →
 * `jwks_uri` → the JWKS), fetched over https with Node's fetch (the system trust store verifies the issuer's
 * certificate; IAM's thumbprints are kept but not needed for that), and cached per provider:
 * - a cached set is used for up to `maxAgeMs` (default 1 hour), then fetched again;
 * - a token naming a `kid` the cached set lacks fetches it again (the issuer rotated its keys), at most once per
 *   `minRefreshIntervalMs` (default 30 s) per provider, counted from the last such refresh, so tokens with
 *   made-up kids cannot make Coffer hammer an issuer;
 * - concurrent misses share one fetch; at most `maxProviders` sets are kept (the oldest is dropped first);
 * - each request has a time-out (default 5 s), redirects are refused and a body is read up to 256 KiB.
 * A provider given a JWKS by hand (`coffer oidc set-jwks`) uses that and is never fetched.
 * Multi-node: each node keeps its own cache; nothing correct depends on it.
 */
export type KeySource = { providerArn: string; issuerUrl: string; storedJwks?: string };

export type SigningKeyCacheOptions = {
  policy: IssuerPolicy;
  fetchTimeoutMs?: number;
  minRefreshIntervalMs?: number;
  maxAgeMs?: number;
  maxProviders?: number;
  /** Real time (cache ages); defaults to Date.now. */
  now?: () => number;
};

/** A provider's keys, when they were fetched, and when an unknown kid last made Coffer fetch them. */
type Entry = { keys: JsonWebKey[]; fetchedAt: number; kidRefreshAt?: number };

const MAX_BODY_BYTES = 256 * 1024;
const MAX_KEYS = 100;

export function idpUnreachable(reason: string) {
  return stsError('IDPCommunicationError', `Couldn't retrieve verification key from your identity provider (${reason}), please reference AssumeRoleWithWebIdentity documentation for requirements`);
}

export class SigningKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Entry>>();
  readonly #policy: IssuerPolicy;
  readonly #fetchTimeoutMs: number;
  readonly #minRefreshIntervalMs: number;
  readonly #maxAgeMs: number;
  readonly #maxProviders: number;
  readonly #now: () => number;

  constructor(options: SigningKeyCacheOptions) {
    this.#policy = options.policy;
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? 5000;
    this.#minRefreshIntervalMs = options.minRefreshIntervalMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 3_600_000;
    this.#maxProviders = options.maxProviders ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The keys that may have signed a token naming `kid` (undefined: the token names none). */
  async keysFor(source: KeySource, kid: string | undefined): Promise<JsonWebKey[]> {
    if (source.storedJwks !== undefined) return parseJwks(source.storedJwks) ?? [];
    const cacheKey = `${source.providerArn}\0${source.issuerUrl}`;
    let entry = this.#entries.get(cacheKey);
    const now = this.#now();
    const stale = !entry || now - entry.fetchedAt >= this.#maxAgeMs;
    if (stale) return (await this.#refresh(cacheKey, source.issuerUrl, entry?.kidRefreshAt)).keys;
    const kidUnknown = kid !== undefined && !entry!.keys.some((key) => key.kid === kid);
    const mayRefresh = entry!.kidRefreshAt === undefined || now - entry!.kidRefreshAt >= this.#minRefreshIntervalMs;
    if (!kidUnknown || !mayRefresh) return entry!.keys;
    // The attempt counts even if it fails, and a failed refresh keeps the cached keys (the token is then refused
    // for its unknown kid): an issuer that is down is not asked again on every such token.
    entry!.kidRefreshAt = now;
    try {
      return (await this.#refresh(cacheKey, source.issuerUrl, now)).keys;
    } catch {
      return entry!.keys;
    }
  }

  /** Forgets a provider's keys (its provider was deleted or changed). */
  forget(providerArn: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(`${providerArn}\0`)) this.#entries.delete(key);
  }

  #refresh(cacheKey: string, issuerUrl: string, kidRefreshAt: number | undefined): Promise<Entry> {
    const running = this.#inFlight.get(cacheKey);
    if (running) return running;
    const fetching = this.#fetchKeys(issuerUrl)
      .then((keys) => {
        const entry: Entry = { keys, fetchedAt: this.#now(), ...(kidRefreshAt !== undefined ? { kidRefreshAt } : {}) };
        this.#entries.delete(cacheKey);
        if (this.#entries.size >= this.#maxProviders) this.#entries.delete(this.#entries.keys().next().value!);
        this.#entries.set(cacheKey, entry);
        return entry;
      })
      .finally(() => this.#inFlight.delete(cacheKey));
    this.#inFlight.set(cacheKey, fetching);
    return fetching;
  }

  async #fetchKeys(issuerUrl: string): Promise<JsonWebKey[]> {
    const discovery = discoveryUrl(issuerUrl);
    // A provider made under --dev keeps its http URL after a restart without it: never fetched then.
    if (!fetchableUrl(discovery, this.#policy)) throw idpUnreachable('the issuer URL is not https');
    const configuration = await this.#fetchJson(discovery);
    const jwksUri = configuration.jwks_uri;
    if (typeof jwksUri !== 'string' || !fetchableUrl(jwksUri, this.#policy)) throw idpUnreachable('the discovery document has no usable jwks_uri');
    const keys = jwksKeys(await this.#fetchJson(jwksUri));
    if (!keys) throw idpUnreachable('the JWKS is not a key set');
    return keys;
  }

  async #fetchJson(url: string): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(this.#fetchTimeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      throw idpUnreachable(error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'connection failed');
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw idpUnreachable(`HTTP ${response.status}`);
    }
    const text = await readLimited(response, MAX_BODY_BYTES);
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // answered below
    }
    throw idpUnreachable('the answer is not a JSON object');
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw idpUnreachable('the answer is too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The keys of a JWKS document (`{"keys": [...]}`), or undefined when it is not one. */
export function jwksKeys(document: unknown): JsonWebKey[] | undefined {
  if (document === null || typeof document !== 'object') return undefined;
  const keys = (document as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length > MAX_KEYS) return undefined;
  if (!keys.every((key) => key !== null && typeof key === 'object' && !Array.isArray(key) && typeof (key as JsonWebKey).kty === 'string')) return undefined;
  return keys as JsonWebKey[];
}

/** A JWKS given as text (coffer oidc set-jwks), or undefined when it is not one. */
export function parseJwks(text: string): JsonWebKey[] | undefined {
  try {
    return jwksKeys(JSON.parse(text));
  } catch {
    return undefined;
  }
}
