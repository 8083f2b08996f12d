import type { Principal } from '../core/index.js';
import type { Credentials } from './credentials.js';
import { SigningKeyCache, verifySigV4, type SignedRequest, type SigV4Identity } from './sigv4/index.js';

export type Authenticated = { identity: SigV4Identity; principal: Principal };

/**
 * Verifies a request's SigV4 signature and resolves who signed it. The access key is looked up before
 * verification (the store is asynchronous, the verifier is not); verifySigV4 then reports every failure
 * with AWS's code, including an unknown key.
 */
export function createAuthenticator(credentials: Credentials, signingKeys = new SigningKeyCache()) {
  return async function authenticate(request: SignedRequest, now: Date): Promise<Authenticated> {
    const accessKeyId = claimedAccessKeyId(request);
    const credential = accessKeyId === undefined ? undefined : await credentials.resolve(accessKeyId, now);
    const lookup = (id: string) => (credential && id === accessKeyId ? credential.secretAccessKey : undefined);
    const identity = verifySigV4(request, lookup, now, signingKeys);
    // verifySigV4 only succeeds when lookup found the secret, so the credential is present here.
    return { identity, principal: credential!.principal };
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

const HEADER_CREDENTIAL = /Credential=([^/,\s]+)\//;
const QUERY_CREDENTIAL = /(?:^|&)X-Amz-Credential=([^%&/]+)(?:%2F|\/)/i;

function claimedAccessKeyId(request: SignedRequest): string | undefined {
  const authorization = request.headers['authorization'];
  if (typeof authorization === 'string') return HEADER_CREDENTIAL.exec(authorization)?.[1];
  return QUERY_CREDENTIAL.exec(request.query)?.[1];
}
