/**
 * Server-side verification of AWS Signature Version 4: reads the signature from the Authorization header
 * (or from a presigned query string), recomputes it with the caller's secret and maps every failure to the
 * common error AWS itself returns.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { commonError, rememberedWithLast, type AwsError } from '../../core/index.js';
import {
  ALGORITHM,
  UNSIGNED_PAYLOAD,
  buildCanonicalRequest,
  buildStringToSign,
  findQueryParam,
  listsSignedHeader,
  parseQueryString,
  sha256Hex,
  type HeaderBag,
  type RawQueryParam,
} from './canonical-request.js';
import { SCOPE_TERMINATOR, hmacSha256Hex, signingKeyCacheKey, type SigningKeyCache } from './signing-key.js';

export type SignedRequest = {
  method: string;
  /** Raw request path without the query, e.g. '/'. */
  path: string;
  /** Raw query string without '?', '' if none. */
  query: string;
  /** node IncomingMessage.headers (lower-case names). */
  headers: HeaderBag;
  body: Buffer;
};

export type SigV4Identity = {
  accessKeyId: string;
  region: string;
  service: string;
  signedAt: Date;
  sessionToken?: string;
};

/** Returns the secret access key for an access key id, or undefined when unknown. */
export type SecretKeyLookup = (accessKeyId: string) => string | undefined;

export type VerifyOptions = {
  /** How far the signing time may be from `now`, either way. Default 5 minutes. */
  maxSkewMs?: number;
};

const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000;
const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 60 * 60;
const AMZ_DATE_PATTERN = /^\d{8}T\d{6}Z$/;
const SCOPE_DATE_PATTERN = /^\d{8}$/;
const MAX_ECHOED_CHARS = 512;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const QUERY_PARAM = {
  algorithm: 'X-Amz-Algorithm',
  credential: 'X-Amz-Credential',
  date: 'X-Amz-Date',
  signedHeaders: 'X-Amz-SignedHeaders',
  signature: 'X-Amz-Signature',
  expires: 'X-Amz-Expires',
  securityToken: 'X-Amz-Security-Token',
} as const;

type CredentialScope = {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  scope: string;
  /** The signing key cache's key for this credential (made with the scope, which is remembered). */
  signingKeyCacheKey: string;
};

/** What the client claims it signed, read from the header or the query string. */
type SignatureClaim = {
  kind: 'header' | 'query';
  credential: CredentialScope;
  /** As sent: lower-case names joined by `;` (the canonical request repeats it as is). */
  signedHeaders: string;
  signature: string;
  amzDate: string;
  sessionToken: string | undefined;
  /** Query auth only: X-Amz-Expires in seconds, when given. */
  expiresSeconds: number | undefined;
};

export function verifySigV4(
  req: SignedRequest,
  lookup: SecretKeyLookup,
  now: Date,
  cache: SigningKeyCache,
  options: VerifyOptions = {},
): SigV4Identity {
  const query = parseQueryString(req.query);
  const claim = readSignatureClaim(req, query);
  const signedAt = parseAmzDate(claim.amzDate);
  requireScopeDateMatches(claim);

  const secret = lookup(claim.credential.accessKeyId);
  if (secret === undefined) {
    throw commonError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  requireFreshSignature(claim, signedAt, now, options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);

  const { date, region, service } = claim.credential;
  const signingKey = cache.get(claim.credential.accessKeyId, secret, date, region, service, claim.credential.signingKeyCacheKey);
  if (!anyPayloadHashMatches(req, query, claim, signingKey)) throw commonError('InvalidSignatureException', SIGNATURE_MISMATCH);

  return toIdentity(claim, signedAt);
}

function toIdentity(claim: SignatureClaim, signedAt: Date): SigV4Identity {
  const { accessKeyId, region, service } = claim.credential;
  const identity: SigV4Identity = { accessKeyId, region, service, signedAt };
  if (claim.sessionToken !== undefined) identity.sessionToken = claim.sessionToken;
  return identity;
}

// --- reading the claim -----------------------------------------------------------------------------------

function readSignatureClaim(req: SignedRequest, query: readonly RawQueryParam[]): SignatureClaim {
  const authorization = nonBlank(firstHeaderValue(req.headers, 'authorization'));
  const hasQueryAuth = query.length > 0 && hasQueryAuthParams(query);
  if (authorization !== undefined && hasQueryAuth) {
    throw incomplete(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );
  }
  if (authorization !== undefined) return readHeaderClaim(authorization, req.headers);
  if (hasQueryAuth) return readQueryClaim(query, req.headers);
  throw commonError('MissingAuthenticationTokenException', 'Missing Authentication Token');
}

function hasQueryAuthParams(query: readonly RawQueryParam[]): boolean {
  return (
    findQueryParam(query, QUERY_PARAM.algorithm) !== undefined ||
    findQueryParam(query, QUERY_PARAM.credential) !== undefined ||
    findQueryParam(query, QUERY_PARAM.signature) !== undefined
  );
}

type AuthorizationParam = { name: string; value: string };

function readHeaderClaim(authorization: string, headers: HeaderBag): SignatureClaim {
  const header = authorization.trim();
  const space = header.indexOf(' ');
  const algorithm = space === -1 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${truncate(algorithm)}'.`);
  }
  const paramsText = space === -1 ? '' : header.slice(space + 1);
  const params = readSigningParams(paramsText);
  // The echo of the header in error messages is built only when one is thrown.
  const echo = () => `Authorization=${redactAuthorization(algorithm, parseAuthorizationParams(paramsText))}`;
  const requireParam = (name: keyof SigningParams): string => {
    const value = params[name];
    if (value === undefined || value === '') throw incomplete(`Authorization header requires '${name}' parameter. ${echo()}`);
    return value;
  };
  const credential = parseCredentialScope(requireParam('Credential'));
  const signedHeaders = parseSignedHeaders(requireParam('SignedHeaders'));
  const signature = requireParam('Signature');
  const amzDate = firstHeaderValue(headers, 'x-amz-date') ?? httpDateAsAmzDate(firstHeaderValue(headers, 'date'));
  if (amzDate === undefined) {
    throw incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ${echo()}`);
  }
  return {
    kind: 'header',
    credential,
    signedHeaders,
    signature,
    amzDate,
    sessionToken: firstHeaderValue(headers, 'x-amz-security-token'),
    expiresSeconds: undefined,
  };
}

/** The three parameters of the Authorization header that SigV4 reads; the first of each name counts. */
type SigningParams = { Credential?: string; SignedHeaders?: string; Signature?: string };

/**
 * `Credential=..., SignedHeaders=..., Signature=...` read into the three values, walking the text once: no list of
 * every parameter (parseAuthorizationParams makes that, for an error's echo only), and no copy of a name to
 * compare it. Clients differ on the space after each comma.
 */
function readSigningParams(text: string): SigningParams {
  const params: SigningParams = {};
  let start = 0;
  while (start < text.length) {
    const comma = text.indexOf(',', start);
    const end = comma === -1 ? text.length : comma;
    const equals = text.indexOf('=', start);
    // A parameter without `=` has an empty value (and its name still counts as the first of that name).
    const nameEnd = equals !== -1 && equals < end ? equals : end;
    const name = signingParamNamed(text, start, nameEnd);
    if (name !== undefined && params[name] === undefined) {
      params[name] = nameEnd === end ? '' : text.slice(equals + 1, end).trim();
    }
    start = end + 1;
  }
  return params;
}

const SIGNING_PARAM_NAMES = ['Credential', 'SignedHeaders', 'Signature'] as const;

/**
 * Which of the three names text[start, end) is, trimmed as String.prototype.trim trims. The usual text (one space
 * before the name, none after) is compared in place; anything else is sliced and trimmed.
 */
function signingParamNamed(text: string, start: number, end: number): keyof SigningParams | undefined {
  if (text.charCodeAt(start) === 0x20) start += 1;
  if (!isTrimmable(text.charCodeAt(start)) && !isTrimmable(text.charCodeAt(end - 1))) {
    for (const name of SIGNING_PARAM_NAMES) if (end - start === name.length && text.startsWith(name, start)) return name;
    return undefined;
  }
  const trimmed = text.slice(start, end).trim();
  return SIGNING_PARAM_NAMES.find((name) => name === trimmed);
}

/** Whether trim() may remove this character: ASCII whitespace and controls, or anything beyond ASCII. */
function isTrimmable(charCode: number): boolean {
  return charCode <= 0x20 || charCode >= 0x7f;
}

/** Every `name=value` of the Authorization header, in order (for the echo in an error message). */
function parseAuthorizationParams(text: string): AuthorizationParam[] {
  const params: AuthorizationParam[] = [];
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    if (equals === -1) params.push({ name: trimmed, value: '' });
    else params.push({ name: trimmed.slice(0, equals).trim(), value: trimmed.slice(equals + 1).trim() });
  }
  return params;
}

/** The header as the client sent it, minus the signature, for error messages. */
function redactAuthorization(algorithm: string, params: readonly AuthorizationParam[]): string {
  const shown = params.map((param) => (param.name === 'Signature' ? 'Signature=[redacted]' : `${param.name}=${param.value}`));
  return truncate(`${algorithm} ${shown.join(', ')}`);
}

function readQueryClaim(query: readonly RawQueryParam[], headers: HeaderBag): SignatureClaim {
  const requireParam = (name: string): string => {
    const value = findQueryParam(query, name);
    if (value === undefined || value === '') {
      throw incomplete(
        `AWS query-string parameters must include '${name}'. Re-examine the query-string parameters.`,
      );
    }
    return value;
  };
  const algorithm = requireParam(QUERY_PARAM.algorithm);
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${truncate(algorithm)}'.`);
  const credential = parseCredentialScope(requireParam(QUERY_PARAM.credential));
  const signedHeaders = parseSignedHeaders(requireParam(QUERY_PARAM.signedHeaders));
  const signature = requireParam(QUERY_PARAM.signature);
  const amzDate = requireParam(QUERY_PARAM.date);
  const expires = findQueryParam(query, QUERY_PARAM.expires);
  return {
    kind: 'query',
    credential,
    signedHeaders,
    signature,
    amzDate,
    sessionToken: findQueryParam(query, QUERY_PARAM.securityToken) ?? firstHeaderValue(headers, 'x-amz-security-token'),
    expiresSeconds: expires === undefined ? undefined : parseExpires(expires),
  };
}

function parseExpires(text: string): number {
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw incomplete(
      `X-Amz-Expires must be a whole number of seconds between 1 and ${MAX_PRESIGNED_EXPIRES_SECONDS}, got '${truncate(text)}'.`,
    );
  }
  return seconds;
}

/**
 * `AKID/20240101/us-east-1/kms/aws4_request`. A client signs a day's requests with one credential, so the parsed
 * scope of one up to 256 characters is kept (frozen, shared) for the next request that sends it; a malformed one
 * throws every time (nothing is kept), and a longer one is parsed each time and not kept.
 */
const parseCredentialScope = rememberedWithLast(credentialScopeOf, 256);

function credentialScopeOf(credential: string): CredentialScope {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || accessKeyId === undefined || date === undefined || region === undefined || service === undefined) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${truncate(credential)}'`,
    );
  }
  if (terminator !== SCOPE_TERMINATOR) {
    throw incomplete(`Credential should be scoped with a valid terminator: '${SCOPE_TERMINATOR}', not '${truncate(terminator ?? '')}'.`);
  }
  if (accessKeyId === '' || region === '' || service === '' || !SCOPE_DATE_PATTERN.test(date)) {
    throw incomplete(`Credential should be scoped to a valid date, region and service, got '${truncate(credential)}'.`);
  }
  // The scope is the credential after the key id: `date/region/service/aws4_request`, checked above.
  const scope = credential.slice(accessKeyId.length + 1);
  return Object.freeze({ accessKeyId, date, region, service, scope, signingKeyCacheKey: signingKeyCacheKey(accessKeyId, date, region, service) });
}

function parseSignedHeaders(text: string): string {
  if (!listsSignedHeader(text, 'host')) {
    throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return text;
}

// --- time ------------------------------------------------------------------------------------------------

/**
 * The last X-Amz-Date parsed and its time: the requests of one second carry the same text. Only the number is
 * kept; every call gets a Date of its own.
 */
const lastAmzDate = { text: '', ms: 0 };

/** Parses `20240101T000000Z`; rejects anything else, including impossible dates like month 13. */
function parseAmzDate(amzDate: string): Date {
  if (amzDate === lastAmzDate.text) return new Date(lastAmzDate.ms);
  const date = parseNewAmzDate(amzDate);
  lastAmzDate.text = amzDate;
  lastAmzDate.ms = date.getTime();
  return date;
}

function parseNewAmzDate(amzDate: string): Date {
  const invalid = () => incomplete(`Date must be in ISO-8601 'basic format'. Got '${truncate(amzDate)}'.`);
  if (!AMZ_DATE_PATTERN.test(amzDate)) throw invalid();
  const year = digits(amzDate, 0, 4);
  const month = digits(amzDate, 4, 6);
  const day = digits(amzDate, 6, 8);
  const hours = digits(amzDate, 9, 11);
  const minutes = digits(amzDate, 11, 13);
  const seconds = digits(amzDate, 13, 15);
  const date = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds));
  // Date.UTC rolls an impossible field over (month 13, 31 April, 24:00) and reads years 0-99 as 19xx: the date
  // is valid only when every field comes back as written (checked on the fields, not by formatting it again).
  const exact =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hours &&
    date.getUTCMinutes() === minutes &&
    date.getUTCSeconds() === seconds;
  if (!exact) throw invalid();
  return date;
}

/** The decimal number in text[start, end): only called on text that AMZ_DATE_PATTERN matched. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (text.charCodeAt(i) - 48);
  return value;
}

/** A `Date` header may carry an HTTP date (RFC 7231) or the basic ISO-8601 form. */
function httpDateAsAmzDate(dateHeader: string | undefined): string | undefined {
  if (dateHeader === undefined) return undefined;
  if (AMZ_DATE_PATTERN.test(dateHeader)) return dateHeader;
  const millis = Date.parse(dateHeader);
  return Number.isNaN(millis) ? dateHeader : formatAmzDate(new Date(millis));
}

function formatAmzDate(date: Date): string {
  const iso = date.toISOString(); // 2024-01-01T00:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

function requireScopeDateMatches(claim: SignatureClaim): void {
  const requestDate = claim.amzDate.slice(0, 8);
  if (claim.credential.date !== requestDate) {
    throw commonError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${claim.credential.date}' != '${requestDate}', from '${claim.amzDate}'.`,
    );
  }
}

/**
 * Header auth must be signed within maxSkew of now, either way. A presigned URL with X-Amz-Expires is
 * valid until that many seconds after signing instead; a time in the future is still held to maxSkew.
 */
function requireFreshSignature(claim: SignatureClaim, signedAt: Date, now: Date, maxSkewMs: number): void {
  const nowMs = now.getTime();
  const oldestAcceptedMs = claim.expiresSeconds === undefined ? nowMs - maxSkewMs : nowMs - claim.expiresSeconds * 1000;
  if (signedAt.getTime() < oldestAcceptedMs) {
    const window = claim.expiresSeconds === undefined ? describeMinutes(maxSkewMs) : `${claim.expiresSeconds} sec.`;
    throw commonError(
      'InvalidSignatureException',
      `Signature expired: ${claim.amzDate} is now earlier than ${formatAmzDate(new Date(oldestAcceptedMs))} ` +
        `(${formatAmzDate(now)} - ${window})`,
    );
  }
  const latestAcceptedMs = nowMs + maxSkewMs;
  if (signedAt.getTime() > latestAcceptedMs) {
    throw commonError(
      'InvalidSignatureException',
      `Signature not yet current: ${claim.amzDate} is still later than ${formatAmzDate(new Date(latestAcceptedMs))} ` +
        `(${formatAmzDate(now)} + ${describeMinutes(maxSkewMs)})`,
    );
  }
}

function describeMinutes(ms: number): string {
  return `${ms / 60_000} min.`;
}

// --- payload and signature -------------------------------------------------------------------------------

/**
 * Whether the signature matches under a hash the client may have signed the body under. An x-amz-content-sha256
 * header names it, and is checked against the body unless it is UNSIGNED-PAYLOAD. Without the header a presigned
 * URL may have been signed either over the body or as UNSIGNED-PAYLOAD, so both are tried.
 */
function anyPayloadHashMatches(req: SignedRequest, query: readonly RawQueryParam[], claim: SignatureClaim, signingKey: KeyObject): boolean {
  const matches = (payloadHash: string) => signatureMatches(claim.signature, expectedSignature(req, query, claim, payloadHash, signingKey));
  const declared = firstHeaderValue(req.headers, 'x-amz-content-sha256');
  if (declared === UNSIGNED_PAYLOAD) return matches(UNSIGNED_PAYLOAD);
  const bodyHash = sha256Hex(req.body);
  if (declared !== undefined && declared !== bodyHash) {
    throw commonError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  if (matches(bodyHash)) return true;
  return declared === undefined && claim.kind === 'query' && matches(UNSIGNED_PAYLOAD);
}

function expectedSignature(
  req: SignedRequest,
  query: readonly RawQueryParam[],
  claim: SignatureClaim,
  payloadHash: string,
  signingKey: KeyObject,
): string {
  const canonicalRequest = buildCanonicalRequest({
    method: req.method,
    path: req.path,
    query,
    headers: req.headers,
    signedHeaders: claim.signedHeaders,
    payloadHash,
    omitQueryKey: claim.kind === 'query' ? QUERY_PARAM.signature : undefined,
  });
  const stringToSign = buildStringToSign(claim.amzDate, claim.credential.scope, canonicalRequest);
  return hmacSha256Hex(signingKey, stringToSign);
}

/** Constant-time for equal lengths; a length difference is not secret (every valid signature is 64 chars). */
function signatureMatches(provided: string, expected: string): boolean {
  const providedBytes = Buffer.from(provided, 'utf8');
  const expectedBytes = Buffer.from(expected, 'utf8');
  return providedBytes.length === expectedBytes.length && timingSafeEqual(providedBytes, expectedBytes);
}

// --- helpers ---------------------------------------------------------------------------------------------

function firstHeaderValue(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// An empty Authorization header carries no claim at all, so it counts as missing.
function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function incomplete(message: string): AwsError {
  return commonError('IncompleteSignatureException', message);
}

// Error messages echo client input; cap it so a huge header cannot bloat logs and responses.
function truncate(text: string): string {
  return text.length <= MAX_ECHOED_CHARS ? text : `${text.slice(0, MAX_ECHOED_CHARS)}...`;
}
