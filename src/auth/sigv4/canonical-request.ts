/**
 * Rebuilds the SigV4 canonical request and string to sign from a request exactly as it arrived on the wire,
 * so the server can recompute the signature the client made.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * Everything here runs on every request, so the encoders work on precomputed byte tables and take a fast
 * path when a component needs no encoding at all.
 */
import { hash } from 'node:crypto';
import { rememberedWithLast } from '../../core/index.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export type HeaderBag = Record<string, string | string[] | undefined>;

/** One `key=value` pair of a query string, both still percent-encoded as sent. */
export type RawQueryParam = { readonly key: string; readonly value: string };

export type CanonicalRequestInput = {
  method: string;
  path: string;
  query: readonly RawQueryParam[];
  headers: HeaderBag;
  /** The SignedHeaders list as the client sent it: lower-case names joined by `;`. */
  signedHeaders: string;
  payloadHash: string;
  /** Query auth signs every parameter except the signature itself. */
  omitQueryKey?: string;
};

/**
 * Built by concatenation: V8 keeps the pieces as a rope that the hash right after flattens in one copy. Joining a
 * list of the ~40 parts cost more (build and hash of an SDK request's text: 1,182 against 959 ns).
 */
export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  let text = input.method + '\n' + canonicalUri(input.path) + '\n' + canonicalQueryString(input.query, input.omitQueryKey) + '\n';
  text += canonicalHeaders(input.headers, input.signedHeaders);
  return text + '\n' + input.signedHeaders + '\n' + input.payloadHash;
}

export function buildStringToSign(amzDate: string, credentialScope: string, canonicalRequest: string): string {
  return ALGORITHM + '\n' + amzDate + '\n' + credentialScope + '\n' + sha256Hex(canonicalRequest);
}

export function sha256Hex(data: string | Buffer): string {
  // The one-shot hash() skips the Hash object createHash() builds (two of these per request).
  return hash('sha256', data, 'hex');
}

// --- canonical URI ---------------------------------------------------------------------------------------

/**
 * Every service but S3 normalises the path (empty, `.` and `..` segments) and then URI-encodes each segment
 * of the already-encoded path a second time, as the AWS SDKs do when they sign.
 */
export function canonicalUri(path: string): string {
  if (path === '/' || path === '') return '/';
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  if (segments.length === 0) return '/';
  const trailingSlash = path.endsWith('/') ? '/' : '';
  return `/${segments.join('/')}${trailingSlash}`;
}

// --- canonical query string ------------------------------------------------------------------------------

/** What an empty query string parses to (a signed API call's usual query), shared rather than made each time. */
const NO_QUERY_PARAMS: readonly RawQueryParam[] = Object.freeze([]);

export function parseQueryString(query: string): readonly RawQueryParam[] {
  if (query === '') return NO_QUERY_PARAMS;
  const params: RawQueryParam[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    params.push(equals === -1 ? { key: pair, value: '' } : { key: pair.slice(0, equals), value: pair.slice(equals + 1) });
  }
  return params;
}

/** The decoded value of the first parameter named `name`, or undefined when absent. */
export function findQueryParam(params: readonly RawQueryParam[], name: string): string | undefined {
  for (const param of params) {
    if (param.key === name || (param.key.indexOf('%') !== -1 && uriDecode(param.key) === name)) {
      return uriDecode(param.value);
    }
  }
  return undefined;
}

/** Keys and values are decoded, re-encoded with AWS's unreserved set, then sorted by key and value. */
export function canonicalQueryString(params: readonly RawQueryParam[], omitKey?: string): string {
  if (params.length === 0) return '';
  const encoded: Array<[key: string, value: string]> = [];
  for (const param of params) {
    const key = normaliseEncoding(param.key);
    if (omitKey !== undefined && key === omitKey) continue;
    encoded.push([key, normaliseEncoding(param.value)]);
  }
  encoded.sort(compareKeyThenValue);
  return encoded.map(([key, value]) => `${key}=${value}`).join('&');
}

// Encoded strings are ASCII, so `<` is the byte order AWS sorts by (localeCompare is not).
function compareKeyThenValue(a: [string, string], b: [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

// --- canonical headers -----------------------------------------------------------------------------------

/**
 * `name:value\n` for each signed header, in the order the client listed them. Each item's prefix carries the line
 * break that ends the line before it, so a header adds two pieces to the rope, not three (an SDK request's nine
 * headers: 9 string objects, ≈ 0.3 KB, less per request).
 */
function canonicalHeaders(headers: HeaderBag, signedHeaders: string): string {
  const items = signedHeaderItems(signedHeaders);
  let text = '';
  for (let index = 0; index < items.length; index++) {
    const item = items[index]!;
    text += item.prefix;
    text += canonicalHeaderValue(headers[item.key]);
  }
  return items.length === 0 ? text : text + '\n';
}

type SignedHeaderItem = {
  /** `name:` for the first item, `\nname:` for the others (the line break ends the line before). */
  readonly prefix: string;
  readonly key: string;
};

/**
 * The SignedHeaders list's items: their prefixes as the canonical request writes them, and the lower-case name node's
 * headers are keyed by (split on `;` as the list is walked: an empty item stays an empty name). A client sends the
 * same list with every request, so the items of a list up to 512 characters are made once and shared (frozen); a
 * longer one, which no SDK sends, is not kept.
 */
const signedHeaderItems = rememberedWithLast(signedHeaderItemsOf, 512);

function signedHeaderItemsOf(signedHeaders: string): readonly SignedHeaderItem[] {
  return Object.freeze(
    signedHeaders.split(';').map((name, index) => Object.freeze({ prefix: `${index === 0 ? '' : '\n'}${name}:`, key: name.toLowerCase() })),
  );
}

/** Whether the `;`-separated SignedHeaders list names `name`. */
export function listsSignedHeader(signedHeaders: string, name: string): boolean {
  let start = 0;
  while (start <= signedHeaders.length) {
    const end = endOfListItem(signedHeaders, start);
    if (end - start === name.length && signedHeaders.startsWith(name, start)) return true;
    start = end + 1;
  }
  return false;
}

function endOfListItem(list: string, start: number): number {
  const separator = list.indexOf(';', start);
  return separator === -1 ? list.length : separator;
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return trimAndCollapseSpaces(value);
  return value.map(trimAndCollapseSpaces).join(',');
}

/** Trims the value and turns each inner run of whitespace into one space. */
export function trimAndCollapseSpaces(value: string): string {
  if (!needsWhitespaceCleanup(value)) return value;
  let result = '';
  let pendingSpace = false;
  for (let i = 0; i < value.length; i++) {
    if (isHeaderWhitespace(value.charCodeAt(i))) {
      pendingSpace = result.length > 0;
      continue;
    }
    if (pendingSpace) result += ' ';
    pendingSpace = false;
    result += value[i];
  }
  return result;
}

/**
 * Whitespace at either end, a tab or line break anywhere, or two spaces in a row. One regexp test: each signed
 * header's value is checked on every request, and four indexOf calls per value cost 2.5× this (9 SDK values).
 */
const NEEDS_WHITESPACE_CLEANUP = /^[ \t\n\r]|[ \t\n\r]$|[\t\n\r]| {2}/;

function needsWhitespaceCleanup(value: string): boolean {
  return NEEDS_WHITESPACE_CLEANUP.test(value);
}

function isHeaderWhitespace(charCode: number): boolean {
  return charCode === 0x20 || charCode === 0x09 || charCode === 0x0a || charCode === 0x0d;
}

// --- RFC 3986 encoding with AWS's unreserved set ---------------------------------------------------------

const UNRESERVED = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~') {
  UNRESERVED[char.charCodeAt(0)] = 1;
}

const ENCODED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, byte) =>
  isUnreserved(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
);

function isUnreserved(charCode: number): boolean {
  return charCode < 128 && UNRESERVED[charCode] === 1;
}

function isAllUnreserved(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (!isUnreserved(value.charCodeAt(i))) return false;
  }
  return true;
}

/** Percent-encodes every byte of the UTF-8 form outside A-Z a-z 0-9 - _ . ~ (uppercase hex). */
export function uriEncode(value: string): string {
  if (isAllUnreserved(value)) return value;
  return encodeBytes(Buffer.from(value, 'utf8'));
}

function encodeBytes(bytes: Uint8Array): string {
  let result = '';
  for (const byte of bytes) result += ENCODED_BYTE[byte] ?? '';
  return result;
}

/** Decodes %XX escapes; a `%` not followed by two hex digits stays literal, so this never throws. */
export function uriDecode(value: string): string {
  if (value.indexOf('%') === -1) return value;
  return percentDecodeToBytes(value).toString('utf8');
}

/**
 * Brings a component as sent to the one encoding AWS signs: decoded to bytes, then re-encoded.
 * `+` is a literal plus here, as in RFC 3986 (the SDKs send spaces as %20).
 */
function normaliseEncoding(component: string): string {
  if (isAllUnreserved(component)) return component;
  return encodeBytes(percentDecodeToBytes(component));
}

function percentDecodeToBytes(value: string): Buffer {
  const chunks: Buffer[] = [];
  let literalStart = 0;
  let percent = value.indexOf('%');
  while (percent !== -1) {
    const high = hexDigitValue(value.charCodeAt(percent + 1));
    const low = hexDigitValue(value.charCodeAt(percent + 2));
    if (high === -1 || low === -1) {
      percent = value.indexOf('%', percent + 1);
      continue;
    }
    chunks.push(Buffer.from(value.slice(literalStart, percent), 'utf8'), Buffer.of(high * 16 + low));
    literalStart = percent + 3;
    percent = value.indexOf('%', literalStart);
  }
  chunks.push(Buffer.from(value.slice(literalStart), 'utf8'));
  return Buffer.concat(chunks);
}

function hexDigitValue(charCode: number): number {
  if (charCode >= 0x30 && charCode <= 0x39) return charCode - 0x30;
  if (charCode >= 0x41 && charCode <= 0x46) return charCode - 0x41 + 10;
  if (charCode >= 0x61 && charCode <= 0x66) return charCode - 0x61 + 10;
  return -1;
}
