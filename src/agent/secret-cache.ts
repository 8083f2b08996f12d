import type { GetSecretValueCommandOutput, SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';

/**
 * An in-memory cache of GetSecretValue answers, like AWS's Secrets Manager caching clients
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets.html) and the Secrets Manager
 * Agent's cache (https://docs.aws.amazon.com/secretsmanager/latest/userguide/secrets-manager-agent.html):
 *
 * - an entry is fresh for `ttlSeconds` (300, the Agent's default; AWS's language caching clients use 1 hour);
 * - an entry read in the last `refreshBeforeExpirySeconds` of its life is refreshed in the background, so a
 *   secret read steadily never waits for the server;
 * - concurrent reads of one entry that is missing or expired make one GetSecretValue call between them;
 * - at most `maxCacheSize` entries (1024, as AWS's caching clients), the least recently read evicted first;
 * - while Secrets Manager is unreachable (no answer, a 5xx or throttling), the last good value is served for
 *   up to `maxStaleSeconds` past its expiry, logged once per entry; an answer that says the secret or the
 *   permission is gone (a 4xx) drops the entry and is thrown: a deleted secret or a revoked permission must
 *   not keep being served;
 * - values live in this process's memory only: nothing is written to disk.
 *
 * It imports nothing from the rest of Coffer, so an application can use it alone (`coffer/secret-cache`).
 */

export type SecretCacheLogger = {
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
};

export type SecretCacheOptions = {
  /** The client to call; its endpoint, region and credentials are used as they are. */
  client?: SecretsManagerClient;
  /** Without `client`: the configuration of the client the cache creates (and destroys on close()). */
  clientConfig?: SecretsManagerClientConfig;
  /** Seconds an answer is served without asking the server again (default 300; 0 turns caching off). */
  ttlSeconds?: number;
  /** Most entries kept (default 1024); the least recently read goes first. */
  maxCacheSize?: number;
  /** A read this many seconds before expiry refreshes the entry in the background (default a tenth of the TTL). */
  refreshBeforeExpirySeconds?: number;
  /** How long past its expiry a value is still served while the server is unreachable (default 900; 0: never). */
  maxStaleSeconds?: number;
  logger?: SecretCacheLogger;
  /** Milliseconds since the epoch (tests inject a clock). */
  now?: () => number;
};

/** Which version to read; neither means AWSCURRENT, as GetSecretValue. */
export type SecretVersionSelector = { versionStage?: string; versionId?: string };

/** GetSecretValue's answer, without the SDK's metadata. */
export type CachedSecretValue = Readonly<{
  ARN?: string;
  Name?: string;
  VersionId?: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
  VersionStages?: string[];
  CreatedDate?: Date;
}>;

type Entry = {
  key: string;
  secretId: string;
  selector: SecretVersionSelector;
  value?: CachedSecretValue;
  fetchedAtMs: number;
  inFlight?: Promise<CachedSecretValue>;
  /** Refresh failures in a row, for the back-off while a stale value is served. */
  failures: number;
  retryAtMs: number;
  /** Whether serving this entry stale has been logged (once until it is refreshed again). */
  staleLogged: boolean;
};

const DEFAULT_TTL_SECONDS = 300;
const DEFAULT_MAX_CACHE_SIZE = 1024;
const DEFAULT_MAX_STALE_SECONDS = 900;
/** Back-off between refresh attempts while a stale value is served: 1 s doubling up to 60 s. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;

export class SecretCache {
  /** The caller's client, or the one created from `#clientConfig` on the first call. */
  #client: SecretsManagerClient | undefined;
  readonly #clientConfig: SecretsManagerClientConfig | undefined;
  readonly #ttlMs: number;
  readonly #refreshAheadMs: number;
  readonly #maxStaleMs: number;
  readonly #maxSize: number;
  readonly #logger: SecretCacheLogger | undefined;
  readonly #now: () => number;
  /** Insertion order is recency: a read moves its entry to the end, eviction takes the first. */
  readonly #entries = new Map<string, Entry>();
  /** The SDK, loaded on the first call: a process that only imports this file does not pay for it. */
  #sdk: Promise<typeof import('@aws-sdk/client-secrets-manager')> | undefined;
  #closed = false;

  constructor(options: SecretCacheOptions & ({ client: SecretsManagerClient } | { clientConfig: SecretsManagerClientConfig })) {
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    const maxCacheSize = options.maxCacheSize ?? DEFAULT_MAX_CACHE_SIZE;
    const maxStaleSeconds = options.maxStaleSeconds ?? DEFAULT_MAX_STALE_SECONDS;
    const refreshAheadSeconds = options.refreshBeforeExpirySeconds ?? ttlSeconds / 10;
    requireNumber('ttlSeconds', ttlSeconds, 0);
    requireNumber('maxStaleSeconds', maxStaleSeconds, 0);
    requireNumber('refreshBeforeExpirySeconds', refreshAheadSeconds, 0);
    if (!Number.isInteger(maxCacheSize) || maxCacheSize < 1) throw new RangeError('SecretCache: maxCacheSize must be a whole number of at least 1');
    this.#ttlMs = ttlSeconds * 1000;
    this.#refreshAheadMs = Math.min(refreshAheadSeconds * 1000, this.#ttlMs);
    this.#maxStaleMs = maxStaleSeconds * 1000;
    this.#maxSize = maxCacheSize;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#client = options.client;
    this.#clientConfig = options.client ? undefined : options.clientConfig;
  }

  /** GetSecretValue's answer for the secret (name or ARN) and version, from the cache when fresh. */
  async getSecretValue(secretId: string, selector: SecretVersionSelector = {}): Promise<CachedSecretValue> {
    if (this.#closed) throw new Error('SecretCache: closed');
    if (typeof secretId !== 'string' || secretId.length === 0) throw new TypeError('SecretCache: secretId must be a non-empty string');
    if (this.#ttlMs === 0) return this.#fetch(secretId, selector);
    const key = cacheKey(secretId, selector);
    const entry = this.#entries.get(key);
    if (!entry) return this.#load(key, secretId, selector);
    this.#touch(entry);
    // The first read is on its way: share it (or, if it just failed and the entry is on its way out, ask again).
    if (!entry.value) return entry.inFlight ?? this.#refresh(entry);
    const ageMs = this.#now() - entry.fetchedAtMs;
    if (ageMs < this.#ttlMs) {
      if (ageMs >= this.#ttlMs - this.#refreshAheadMs) this.#refreshInBackground(entry);
      return entry.value;
    }
    return this.#refreshExpired(entry, ageMs);
  }

  /**
   * The cached answer when it is fresh, without a promise (undefined otherwise: then call getSecretValue).
   * The agent's hot path: a hit costs one map lookup. A read near expiry still starts the background refresh.
   */
  peekFresh(secretId: string, selector: SecretVersionSelector = {}): CachedSecretValue | undefined {
    if (this.#closed || this.#ttlMs === 0) return undefined;
    const entry = this.#entries.get(cacheKey(secretId, selector));
    if (!entry?.value) return undefined;
    const ageMs = this.#now() - entry.fetchedAtMs;
    if (ageMs >= this.#ttlMs) return undefined;
    this.#touch(entry);
    if (ageMs >= this.#ttlMs - this.#refreshAheadMs) this.#refreshInBackground(entry);
    return entry.value;
  }

  /** The version's SecretString (undefined for a binary secret). */
  async getSecretString(secretId: string, selector?: SecretVersionSelector): Promise<string | undefined> {
    return (await this.getSecretValue(secretId, selector)).SecretString;
  }

  /** The version's SecretBinary (undefined for a string secret). */
  async getSecretBinary(secretId: string, selector?: SecretVersionSelector): Promise<Uint8Array | undefined> {
    return (await this.getSecretValue(secretId, selector)).SecretBinary;
  }

  /**
   * The SecretString parsed as JSON; with `key`, that key's value (as an ECS `valueFrom` `...:password::`).
   * Errors name the secret and the key, never the value.
   */
  async getJson(secretId: string, key?: string, selector?: SecretVersionSelector): Promise<unknown> {
    const text = await this.getSecretString(secretId, selector);
    if (text === undefined) throw new SecretCacheError('NotJson', `secret ${secretId} has no SecretString (it is binary)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SecretCacheError('NotJson', `secret ${secretId}'s SecretString is not JSON`);
    }
    if (key === undefined) return parsed;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new SecretCacheError('NotJsonObject', `secret ${secretId}'s SecretString is not a JSON object`);
    }
    if (!Object.hasOwn(parsed, key)) throw new SecretCacheError('JsonKeyNotFound', `secret ${secretId} has no JSON key ${key}`);
    return (parsed as Record<string, unknown>)[key];
  }

  /** Reads the version from the server now, whatever the cache holds, and caches the answer (the Agent's refreshNow). */
  async refreshNow(secretId: string, selector: SecretVersionSelector = {}): Promise<CachedSecretValue> {
    if (this.#closed) throw new Error('SecretCache: closed');
    if (this.#ttlMs === 0) return this.#fetch(secretId, selector);
    const key = cacheKey(secretId, selector);
    const entry = this.#entries.get(key);
    if (!entry) return this.#load(key, secretId, selector);
    this.#touch(entry);
    // A refresh already on its way started before this call; ask again so the answer is at least as new as the call.
    if (entry.inFlight) await entry.inFlight.catch(() => undefined);
    return this.#refresh(entry).catch((error: unknown) => {
      if (!isTransient(error)) this.#drop(entry);
      throw error;
    });
  }

  /** Entries held now (tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every value; destroys the client if the cache created it. */
  close(): void {
    this.#closed = true;
    this.#entries.clear();
    if (this.#clientConfig) this.#client?.destroy();
  }

  async #load(key: string, secretId: string, selector: SecretVersionSelector): Promise<CachedSecretValue> {
    const entry: Entry = { key, secretId, selector: { ...selector }, fetchedAtMs: 0, failures: 0, retryAtMs: 0, staleLogged: false };
    this.#entries.set(key, entry);
    this.#evictOverflow();
    try {
      return await this.#refresh(entry);
    } catch (error) {
      this.#drop(entry);
      throw error;
    }
  }

  /** An expired entry: refresh it, or serve it stale within the bound while the server is unreachable. */
  async #refreshExpired(entry: Entry, ageMs: number): Promise<CachedSecretValue> {
    const withinStaleBound = ageMs - this.#ttlMs <= this.#maxStaleMs && this.#maxStaleMs > 0;
    // Backing off after a failed refresh: serve the stale value without asking the server again yet.
    if (withinStaleBound && entry.failures > 0 && this.#now() < entry.retryAtMs && !entry.inFlight) return this.#serveStale(entry, undefined);
    try {
      return await this.#refresh(entry);
    } catch (error) {
      if (!isTransient(error)) {
        this.#drop(entry);
        throw error;
      }
      // Re-read the age: the refresh itself may have taken long.
      const staleMs = this.#now() - entry.fetchedAtMs - this.#ttlMs;
      if (this.#maxStaleMs > 0 && staleMs <= this.#maxStaleMs && entry.value) return this.#serveStale(entry, error);
      throw error;
    }
  }

  #serveStale(entry: Entry, error: unknown): CachedSecretValue {
    if (!entry.staleLogged) {
      entry.staleLogged = true;
      this.#logger?.warn('Secrets Manager is unreachable: serving the last value read, until it answers or the staleness bound passes', {
        secretId: entry.secretId,
        ...entry.selector,
        fetchedAt: new Date(entry.fetchedAtMs).toISOString(),
        maxStaleSeconds: this.#maxStaleMs / 1000,
        ...(error === undefined ? {} : { error: describeError(error) }),
      });
    }
    return entry.value!;
  }

  #refreshInBackground(entry: Entry): void {
    if (entry.inFlight || this.#now() < entry.retryAtMs) return;
    // The failure is remembered on the entry (back-off, later stale serving); nobody awaits this promise.
    this.#refresh(entry).catch((error: unknown) => {
      if (!isTransient(error)) this.#drop(entry);
    });
  }

  /** One GetSecretValue for the entry, shared by every caller while it runs. */
  #refresh(entry: Entry): Promise<CachedSecretValue> {
    if (entry.inFlight) return entry.inFlight;
    const call = this.#fetch(entry.secretId, entry.selector).then(
      (value) => {
        entry.value = value;
        entry.fetchedAtMs = this.#now();
        entry.failures = 0;
        entry.retryAtMs = 0;
        if (entry.staleLogged) {
          entry.staleLogged = false;
          this.#logger?.info('Secrets Manager answers again: the cached value is fresh', { secretId: entry.secretId, ...entry.selector });
        }
        return value;
      },
      (error: unknown) => {
        entry.failures += 1;
        entry.retryAtMs = this.#now() + Math.min(RETRY_BASE_MS * 2 ** (entry.failures - 1), RETRY_MAX_MS);
        throw error;
      },
    );
    entry.inFlight = call;
    const clear = () => {
      if (entry.inFlight === call) entry.inFlight = undefined;
    };
    call.then(clear, clear);
    return call;
  }

  async #fetch(secretId: string, selector: SecretVersionSelector): Promise<CachedSecretValue> {
    this.#sdk ??= import('@aws-sdk/client-secrets-manager');
    const { GetSecretValueCommand, SecretsManagerClient: Client } = await this.#sdk;
    this.#client ??= new Client(this.#clientConfig!);
    const answer: GetSecretValueCommandOutput = await this.#client.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionId: selector.versionId, VersionStage: selector.versionStage }),
    );
    return Object.freeze({
      ARN: answer.ARN,
      Name: answer.Name,
      VersionId: answer.VersionId,
      SecretString: answer.SecretString,
      SecretBinary: answer.SecretBinary,
      VersionStages: answer.VersionStages,
      CreatedDate: answer.CreatedDate,
    });
  }

  #touch(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.#entries.set(entry.key, entry);
  }

  #drop(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
  }

  #evictOverflow(): void {
    while (this.#entries.size > this.#maxSize) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

/** A value the cache holds that is not what the caller asked for (not JSON, no such key). */
export class SecretCacheError extends Error {
  constructor(
    readonly code: 'NotJson' | 'NotJsonObject' | 'JsonKeyNotFound',
    message: string,
  ) {
    super(message);
    this.name = 'SecretCacheError';
  }
}

/**
 * Whether an error means Secrets Manager could not be reached or could not answer now (no HTTP answer,
 * a timeout, a 5xx, throttling), as opposed to an answer about the secret (not found, access denied, ...).
 */
export function isTransient(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if (name === 'ThrottlingException' || status === 429) return true;
  if (status === undefined) return !(error instanceof SecretCacheError);
  return status >= 500;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return (error as { code?: string }).code ?? error.name;
  return 'unknown';
}

function cacheKey(secretId: string, selector: SecretVersionSelector): string {
  return JSON.stringify([secretId, selector.versionId ?? null, selector.versionStage ?? null]);
}

function requireNumber(name: string, value: number, minimum: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) throw new RangeError(`SecretCache: ${name} must be a number of at least ${minimum}`);
}
