import { timingSafeEqual } from 'node:crypto';
import { commonError, type Principal } from '../core/index.js';
import { sessionTokenHash, type Credentials } from './credentials.js';
import { SigningKeyCache, verifySigV4, type SignedRequest, type SigV4Identity } from './sigv4/index.js';

export type Authenticated = { identity: SigV4Identity; principal: Principal };

/**
 * Verifies a request's SigV4 signature and resolves who signed it. The access key is looked up before
 * verification (the store is asynchronous, the verifier is not); verifySigV4 then reports every failure
 * with AWS's code, including an unknown key. Always a promise (createAuthenticatorNow is the pipeline's).
 */
export function createAuthenticator(credentials: Credentials, signingKeys = new SigningKeyCache()) {
  const authenticateNow = createAuthenticatorNow(credentials, signingKeys);
  return function authenticate(request: SignedRequest, now: Date): Promise<Authenticated> {
    try {
      return Promise.resolve(authenticateNow(request, now));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

/**
 * createAuthenticator's check, answered at once for a key known without a store read (`--dev`'s): the answer, or
 * its refusal thrown; a promise only when the key had to be read. The pipeline awaits only a promise.
 */
export function createAuthenticatorNow(credentials: Credentials, signingKeys = new SigningKeyCache()) {
  return function authenticate(request: SignedRequest, now: Date): Authenticated | Promise<Authenticated> {
    const accessKeyId = claimedAccessKeyId(request);
    const found = accessKeyId === undefined ? undefined : credentials.lookup(accessKeyId, now);
    if (found instanceof Promise) return found.then((loaded) => verified(request, now, accessKeyId, loaded));
    return verified(request, now, accessKeyId, found);
  };

  function verified(request: SignedRequest, now: Date, accessKeyId: string | undefined, found: Awaited<ReturnType<Credentials['lookup']>>): Authenticated {
    if (found && 'expiredSession' in found) throw commonError('ExpiredTokenException', 'The security token included in the request is expired');
    const credential = found;
    const lookup = (id: string) => (credential && id === accessKeyId ? credential.secretAccessKey : undefined);
    const identity = verifySigV4(request, lookup, now, signingKeys);
    // verifySigV4 only succeeds when lookup found the secret, so the credential is present here.
    if (credential!.sessionTokenHash !== undefined) checkSessionToken(request, credential!.sessionTokenHash);
    return { identity, principal: credential!.principal };
  }
}

export type AuthenticateNow = ReturnType<typeof createAuthenticatorNow>;

/**
 * A temporary (STS) key works only with its session token, sent as X-Amz-Security-Token (header, or query
 * parameter of a presigned URL). A missing or wrong token is AWS's "security token ... is invalid".
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html
 */
function checkSessionToken(request: SignedRequest, expectedHash: string): void {
  const header = request.headers['x-amz-security-token'];
  const token = (Array.isArray(header) ? header[0] : header) ?? new URLSearchParams(request.query).get('X-Amz-Security-Token') ?? undefined;
  const matches = token !== undefined && timingSafeEqual(Buffer.from(sessionTokenHash(token), 'hex'), Buffer.from(expectedHash, 'hex'));
  if (!matches) throw commonError('UnrecognizedClientException', 'The security token included in the request is invalid.');
}

const HEADER_CREDENTIAL = /Credential=([^/,\s]+)\//;
const QUERY_CREDENTIAL = /(?:^|&)X-Amz-Credential=([^%&/]+)(?:%2F|\/)/i;

function claimedAccessKeyId(request: SignedRequest): string | undefined {
  const header = request.headers['authorization'];
  // A repeated header comes as the list of its values (server/request-headers.ts); the first is the claim, as node keeps it.
  const authorization = Array.isArray(header) ? header[0] : header;
  if (typeof authorization === 'string') return HEADER_CREDENTIAL.exec(authorization)?.[1];
  return QUERY_CREDENTIAL.exec(request.query)?.[1];
}
