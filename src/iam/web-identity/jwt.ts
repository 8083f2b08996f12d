import { createPublicKey, constants, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AwsError } from '../../core/index.js';
import { stsError, stsErrors } from '../errors.js';

/**
 * Parsing and verifying an OIDC ID token (a JWS in compact form) with node:crypto only. Only asymmetric
 * signatures are accepted: RS256/384/512 (PKCS#1 v1.5), PS256/384/512 (RSA-PSS) and ES256/384/512 (ECDSA, the
 * JOSE r||s signature, crypto's `ieee-p1363` encoding). `none` and the HMAC algorithms are refused: an HMAC
 * "signature" would be checked with a key the issuer publishes, which anyone can then forge.
 * https://www.rfc-editor.org/rfc/rfc7515 · https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 * Every refusal is STS's InvalidIdentityToken; no message ever includes the token or a claim value beyond the
 * issuer (which names the provider the caller asked for).
 */
export const SIGNING_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** AWS's limit on WebIdentityToken. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html */
export const MAX_TOKEN_LENGTH = 20000;
/** RSA keys shorter than this are refused (RFC 7518 §3.3 requires 2048 bits). */
const MIN_RSA_BITS = 2048;

const EC_CURVES: Record<string, { crv: string; signatureBytes: number }> = {
  ES256: { crv: 'P-256', signatureBytes: 64 },
  ES384: { crv: 'P-384', signatureBytes: 96 },
  ES512: { crv: 'P-521', signatureBytes: 132 },
};

export type JwtHeader = { alg: SigningAlgorithm; kid?: string };
export type JwtClaims = Record<string, unknown>;

/** A token split and decoded, not yet verified. */
export type ParsedJwt = { header: JwtHeader; claims: JwtClaims; signingInput: Buffer; signature: Buffer };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function invalid(message = 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)') {
  return stsError('InvalidIdentityToken', message);
}

function decodeSegment(segment: string): Buffer {
  if (!BASE64URL.test(segment)) throw invalid();
  return Buffer.from(segment, 'base64url');
}

function decodeJsonObject(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeSegment(segment).toString('utf8'));
  } catch {
    throw invalid();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid();
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS; refuses anything but the asymmetric algorithms above (and so `none` and HS*). */
export function parseJwt(token: string): ParsedJwt {
  if (token.length > MAX_TOKEN_LENGTH) throw invalid('The web identity token is longer than 20000 characters.');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) throw invalid();
  const header = decodeJsonObject(parts[0]!);
  const claims = decodeJsonObject(parts[1]!);
  const alg = header.alg;
  if (typeof alg !== 'string' || !(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) {
    throw invalid(`The token's signing algorithm ${typeof alg === 'string' && /^[A-Za-z0-9]{1,16}$/.test(alg) ? alg : '(unknown)'} is not supported; use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or ES512.`);
  }
  if (header.crit !== undefined) throw invalid('The token names critical header parameters, which are not supported.');
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  return {
    header: { alg: alg as SigningAlgorithm, ...(kid !== undefined ? { kid } : {}) },
    claims,
    signingInput: Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
    signature: decodeSegment(parts[2]!),
  };
}

/** Whether a JWK may verify `alg`: its type and curve fit, it is a signing key, and it names no other algorithm. */
export function keyFits(jwk: JsonWebKey, alg: SigningAlgorithm): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (alg.startsWith('ES')) return jwk.kty === 'EC' && jwk.crv === EC_CURVES[alg]!.crv;
  return jwk.kty === 'RSA';
}

/** The public key of a JWK, or undefined when it is not a usable public key (private members are ignored). */
export function publicKeyOf(jwk: JsonWebKey): KeyObject | undefined {
  try {
    const { kty, n, e, crv, x, y } = jwk;
    const key = createPublicKey({ key: (kty === 'RSA' ? { kty, n, e } : { kty, crv, x, y }) as JsonWebKey, format: 'jwk' });
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
    return key;
  } catch {
    return undefined;
  }
}

/** Verifies the token's signature with one key. */
export function signatureValid(token: ParsedJwt, key: KeyObject): boolean {
  const { alg } = token.header;
  const digest = `sha${alg.slice(2)}`;
  try {
    if (alg.startsWith('ES')) {
      if (token.signature.length !== EC_CURVES[alg]!.signatureBytes) return false;
      return verify(digest, token.signingInput, { key, dsaEncoding: 'ieee-p1363' }, token.signature);
    }
    if (alg.startsWith('PS')) {
      return verify(digest, token.signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, token.signature);
    }
    return verify(digest, token.signingInput, { key, padding: constants.RSA_PKCS1_PADDING }, token.signature);
  } catch {
    return false;
  }
}

/**
 * How far a token's times may be off this server's clock: 60 seconds, either way, for `exp`, `nbf` and `iat`
 * (issuers and Coffer keep their clocks by NTP; a minute covers the drift without keeping an expired token alive long).
 */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * The time claims: `exp` is required and must be in the future (ExpiredTokenException otherwise, as STS answers);
 * `nbf` and `iat`, when present, must not be in the future. Numbers in seconds since the epoch (RFC 7519 NumericDate).
 */
export function checkTokenTimes(claims: JwtClaims, now: Date): void {
  const nowSeconds = now.getTime() / 1000;
  const { exp, nbf, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('Missing a required claim: exp');
  if (exp + CLOCK_SKEW_SECONDS <= nowSeconds) {
    // STS's own ExpiredTokenException (its wire code), not the shared "ExpiredToken" of an expired signing key.
    const message = `Token expired: current date/time ${Math.floor(nowSeconds)} must be before the expiration date/time ${Math.floor(exp)}`;
    throw new AwsError('ExpiredTokenException', message, stsErrors.ExpiredTokenException, { exactCode: true });
  }
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - CLOCK_SKEW_SECONDS > nowSeconds)) throw invalid('The token is not valid yet (nbf).');
  if (iat !== undefined && (typeof iat !== 'number' || iat - CLOCK_SKEW_SECONDS > nowSeconds)) throw invalid('The token was issued in the future (iat).');
}
