/**
 * The console's API clients: the AWS SDK's browser clients pointed at the page's own origin, signing every call
 * with the credentials the operator signed in with. The credentials live in this object only, in memory: never
 * in localStorage, sessionStorage or a cookie. Signing out drops the object; reloading the page forgets it.
 * Since every request is signed (SigV4 over method, path, headers and body) and the server takes no cookie, a
 * page on another origin cannot make the browser act for the operator: CSRF is excluded by construction.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export type Session = {
  region: string;
  /** The caller's ARN and account, as GetCallerIdentity answered at sign-in. */
  identity: { arn: string; account: string };
  secrets: SecretsManagerClient;
  kms: KMSClient;
  iam: IAMClient;
  cloudTrail: CloudTrailClient;
  /** Coffer's VerifyAuditChain (no SDK knows it): a signed JSON 1.1 call. */
  verifyAuditChain(): Promise<AuditChainState>;
  close(): void;
};

export type AuditChainState = {
  Intact: boolean;
  EventsVerified: number;
  HeadSequence?: number;
  HeadEventTime?: number;
  BrokenSequence?: number;
  Reason?: string;
};

/** Checks the credentials with STS GetCallerIdentity, then makes the clients. */
export async function signIn(credentials: Credentials, region: string): Promise<Session> {
  const endpoint = window.location.origin;
  const common = { endpoint, region, credentials, maxAttempts: 2 };
  const sts = new STSClient(common);
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    const clients = {
      secrets: new SecretsManagerClient(common),
      kms: new KMSClient(common),
      iam: new IAMClient(common),
      cloudTrail: new CloudTrailClient(common),
    };
    return {
      region,
      identity: { arn: identity.Arn ?? '', account: identity.Account ?? '' },
      ...clients,
      verifyAuditChain: () => signedJsonCall<AuditChainState>(credentials, region, 'cloudtrail', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.VerifyAuditChain', {}),
      close: () => Object.values(clients).forEach((client) => client.destroy()),
    };
  } finally {
    sts.destroy();
  }
}

/**
 * Web identity sign-in: STS AssumeRoleWithWebIdentity (unsigned, as the SDKs send it) trades an OpenID Connect
 * token for the role's temporary credentials, which then sign everything like an access key would. The token
 * is sent once and not kept.
 */
export async function assumeWebIdentity(input: { roleArn: string; token: string; sessionName: string }, region: string): Promise<Credentials> {
  const sts = new STSClient({ endpoint: window.location.origin, region, maxAttempts: 1 });
  try {
    const answer = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: input.roleArn, WebIdentityToken: input.token, RoleSessionName: input.sessionName }));
    const credentials = answer.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) throw new Error('AssumeRoleWithWebIdentity returned no credentials.');
    return { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken };
  } finally {
    sts.destroy();
  }
}

async function signedJsonCall<T>(credentials: Credentials, region: string, service: string, target: string, input: unknown): Promise<T> {
  const url = new URL('/', window.location.origin);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: '/',
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body,
  });
  const { host: _host, ...headers } = signed.headers;
  const response = await fetch(url, { method: 'POST', headers, body, credentials: 'omit', cache: 'no-store' });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw Object.assign(new Error(String(answer.message ?? response.statusText)), { name: String(answer.__type ?? 'Error') });
  return answer as T;
}

/** An SDK error as the operator should read it: the AWS error code and its message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
