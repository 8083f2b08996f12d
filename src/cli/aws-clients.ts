import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';

/**
 * Secrets Manager clients for the CLI's remote commands (`coffer run`, `coffer render`). Credentials, Region
 * and endpoint come from the AWS SDK's own default chains, so Coffer is configured exactly as any AWS client:
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE and the shared config and
 * credentials files (~/.aws/config, ~/.aws/credentials, with profiles), web identity
 * (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), AWS_REGION, and the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * AWS_ENDPOINT_URL or a profile's `endpoint_url`
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). The flags only override them.
 */
export type ClientOptions = {
  region?: string;
  endpointUrl?: string;
  profile?: string;
};

export type SecretsManagerSdk = typeof import('@aws-sdk/client-secrets-manager');
export type SsmSdk = typeof import('@aws-sdk/client-ssm');

/** One client per Region: an ARN names its Region, and the secret lives there (Regions are namespaces in Coffer). */
export class SecretsManagerClients {
  readonly #options: ClientOptions;
  readonly #sdk: SecretsManagerSdk;
  readonly #defaultRegion: string | undefined;
  readonly #byRegion = new Map<string, SecretsManagerClient>();
  readonly #ssmByRegion = new Map<string, SSMClient>();
  #ssmSdk: Promise<SsmSdk> | undefined;

  private constructor(sdk: SecretsManagerSdk, options: ClientOptions, defaultRegion: string | undefined) {
    this.#sdk = sdk;
    this.#options = options;
    this.#defaultRegion = defaultRegion;
  }

  /** Loads the SDK (on demand: every other `coffer` command, the server among them, would pay ~150 ms for it). */
  static async open(options: ClientOptions): Promise<SecretsManagerClients> {
    // The SDK's notice about future Node versions is for the operator of Coffer, not for each CLI run.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const sdk = await import('@aws-sdk/client-secrets-manager');
    return new SecretsManagerClients(sdk, options, await resolveRegion(options, (config) => new sdk.SecretsManagerClient(config)));
  }

  get sdk(): SecretsManagerSdk {
    return this.#sdk;
  }

  /** The client for `region` (undefined: the Region of --region or the SDK's chain). */
  client(region?: string): SecretsManagerClient {
    const key = region ?? '';
    let client = this.#byRegion.get(key);
    if (client === undefined) {
      client = new this.#sdk.SecretsManagerClient({
        region: region ?? this.#defaultRegion,
        endpoint: this.#options.endpointUrl,
        profile: this.#options.profile,
        // A missing secret or a refusal is an answer, not a fault to retry; throttling and 5xx are retried.
        maxAttempts: 3,
      });
      this.#byRegion.set(key, client);
    }
    return client;
  }

  /**
   * Parameter Store's client for `region`, with the same credentials, profile and endpoint (AWS_ENDPOINT_URL_SSM
   * or AWS_ENDPOINT_URL); its SDK is loaded the first time a reference names a parameter.
   */
  async parameterStore(region?: string): Promise<{ client: SSMClient; sdk: SsmSdk }> {
    this.#ssmSdk ??= import('@aws-sdk/client-ssm');
    const sdk = await this.#ssmSdk;
    const key = region ?? '';
    let client = this.#ssmByRegion.get(key);
    if (client === undefined) {
      client = new sdk.SSMClient({ region: region ?? this.#defaultRegion, endpoint: this.#options.endpointUrl, profile: this.#options.profile, maxAttempts: 3 });
      this.#ssmByRegion.set(key, client);
    }
    return { client, sdk };
  }

  close(): void {
    for (const client of [...this.#byRegion.values(), ...this.#ssmByRegion.values()]) client.destroy();
    this.#byRegion.clear();
    this.#ssmByRegion.clear();
  }
}

/** A client of any AWS SDK service, as far as finding the Region goes. */
type RegionProbe = { config: { region(): Promise<string> }; destroy(): void };

/**
 * --region, else the SDK's chain (AWS_REGION, the profile's `region`) read through a throwaway client of the
 * command's own service, else AWS_DEFAULT_REGION (which the AWS CLI and boto3 read and the JavaScript SDK does not).
 */
export async function resolveRegion(options: ClientOptions, makeProbe: (config: { profile?: string }) => RegionProbe): Promise<string | undefined> {
  if (options.region !== undefined) return options.region;
  const probe = makeProbe({ profile: options.profile });
  try {
    return await probe.config.region();
  } catch {
    return process.env.AWS_DEFAULT_REGION || undefined;
  } finally {
    probe.destroy();
  }
}

/**
 * A one-line description of an SDK error for a person, never carrying a request's payload: the error's
 * code and the server's message (Coffer's messages name resources, never values), with a hint for the
 * set-up mistakes the SDK reports in its own words.
 */
export function describeSdkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (/Region is missing/i.test(error.message)) {
    return 'no Region configured: set AWS_REGION, a profile with a region, or pass --region';
  }
  if (error.name === 'CredentialsProviderError' || /Could not load credentials/i.test(error.message)) {
    return `no credentials: ${error.message} (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or source <data-dir>/admin-credentials)`;
  }
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET') {
    return `cannot reach the endpoint (${code}): is Coffer running, and is AWS_ENDPOINT_URL (or --endpoint-url) its URL?`;
  }
  return `${error.name}: ${error.message}`;
}
