import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * How an audit event is kept on disk, apart from what it is. The hash chain (audit-hash.ts) is over the
 * canonical JSON text and its hashes are hex everywhere above the store; on disk the body is a template and
 * its holes (what appends and SQLite's imports write, codec 2 below), compressed (what imports write for an event
 * without a template, codec 1) or its text, and the hashes are 32 bytes. Both backends read every encoding: rows written before one keep theirs (they leave with
 * retention), so an upgrade rewrites nothing.
 *
 * Stored body: text = canonical JSON as it is (the old encoding, and an event whose template has not been seen
 * twice; PostgreSQL's migration turned text into its UTF-8 bytes, which start with `{`); bytes whose first byte
 * is a codec id = that codec's output after it. Codec 1 is raw DEFLATE (node:zlib) with the preset dictionary
 * BODY_DICTIONARY_1. A new dictionary is a new id with its own constant; the old one stays for the rows written
 * with it.
 */

/**
 * Text typical of Coffer's events, most frequent last (DEFLATE reaches back to the nearest match): a few error
 * texts and identity forms, then the canonical JSON of a PutSecretValue, a KMS Decrypt and a GetSecretValue as
 * the recorder writes them (audit/event.ts). Never change it: a new dictionary is a new codec id.
 */
const BODY_DICTIONARY_1 = Buffer.from(
  [
    "\"errorCode\":\"ResourceNotFoundException\",\"errorMessage\":\"Secrets Manager can't find the specified secret.\",\"errorCode\":\"AccessDeniedException\",\"errorMessage\":\"User: arn:aws:iam::000000000000:user/app is not authorized to perform: secretsmanager:GetSecretValue on resource: \",\"userIdentity\":{\"accessKeyId\":\"ASIA\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:sts::000000000000:assumed-role/\",\"type\":\"AssumedRole\",\"type\":\"Root\",\"userName\":\"root\"},",
    "{\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\",\"eventID\":\"00000000-0000-7000-8000-000000000000\",\"eventName\":\"PutSecretValue\",\"eventSource\":\"secretsmanager.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"eventType\":\"AwsApiCall\",\"eventVersion\":\"1.08\",\"managementEvent\":true,\"readOnly\":false,\"recipientAccountId\":\"000000000000\",\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"requestParameters\":{\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000000\",\"SecretId\":\"app/db\"},\"resources\":[{\"ARN\":\"app/db\",\"accountId\":\"000000000000\"},{\"ARN\":\"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf\",\"accountId\":\"000000000000\"}],\"responseElements\":{\"ARN\":\"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf\",\"Name\":\"app/db\",\"VersionId\":\"00000000-0000-4000-8000-000000000000\",\"VersionStages\":[\"AWSCURRENT\"]},\"sourceIPAddress\":\"127.0.0.1\",\"userAgent\":\"aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.700.0 m/E,N\",\"userIdentity\":{\"accessKeyId\":\"AKIA0000000000000000\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:iam::000000000000:user/app\",\"type\":\"IAMUser\",\"userName\":\"app\"}}",
    "{\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\",\"eventID\":\"00000000-0000-7000-8000-000000000000\",\"eventName\":\"Decrypt\",\"eventSource\":\"kms.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"eventType\":\"AwsApiCall\",\"eventVersion\":\"1.08\",\"managementEvent\":true,\"readOnly\":true,\"recipientAccountId\":\"000000000000\",\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"requestParameters\":{\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"},\"resources\":[{\"ARN\":\"arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000\",\"accountId\":\"000000000000\"}],\"responseElements\":null,\"sourceIPAddress\":\"127.0.0.1\",\"userAgent\":\"aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/kms#3.700.0 m/E,N\",\"userIdentity\":{\"accessKeyId\":\"AKIA0000000000000000\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:iam::000000000000:user/app\",\"type\":\"IAMUser\",\"userName\":\"app\"}}",
    "{\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\",\"eventID\":\"00000000-0000-7000-8000-000000000000\",\"eventName\":\"GetSecretValue\",\"eventSource\":\"secretsmanager.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"eventType\":\"AwsApiCall\",\"eventVersion\":\"1.08\",\"managementEvent\":true,\"readOnly\":true,\"recipientAccountId\":\"000000000000\",\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"requestParameters\":{\"SecretId\":\"app/db\"},\"resources\":[{\"ARN\":\"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf\",\"accountId\":\"000000000000\"}],\"responseElements\":null,\"sourceIPAddress\":\"127.0.0.1\",\"userAgent\":\"aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.700.0 m/E,N\",\"userIdentity\":{\"accessKeyId\":\"AKIA0000000000000000\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:iam::000000000000:user/app\",\"type\":\"IAMUser\",\"userName\":\"app\"}}",
  ].join(''),
  'utf8',
);

const DEFLATE_WITH_DICTIONARY_1 = 1;
/**
 * Level 1 and a 4 KiB window (the dictionary fits in it): each call sets up a fresh zlib stream, whose set-up is
 * most of the cost for a 1 KB event, and the smaller stream is the cheaper one to set up. Level 6 saved ~10 bytes
 * of a GetSecretValue's ~175 at no CPU difference measurable on a shared machine (bench/RESULTS.md, issue 21).
 */
const DEFLATE_OPTIONS = { level: 1, windowBits: 12, memLevel: 5, dictionary: BODY_DICTIONARY_1 };
const INFLATE_OPTIONS = { windowBits: 12, dictionary: BODY_DICTIONARY_1 };

/** The body as the compact encoding stores it: the codec id, then the compressed canonical JSON. */
export function encodeAuditBody(body: string): Buffer {
  const compressed = deflateRawSync(body, DEFLATE_OPTIONS);
  const stored = Buffer.allocUnsafe(compressed.length + 1);
  stored[0] = DEFLATE_WITH_DICTIONARY_1;
  compressed.copy(stored, 1);
  return stored;
}

/** What decoding a body of codec 2 needs: its template (by id; undefined for an id with none) and the row's columns. */
export type TemplatedBodyReader = { template(id: number): string | undefined; context(): AuditBodyContext };

/**
 * The canonical JSON of a stored body, whichever encoding it has (codec 2 needs `templated`). Bytes that do not
 * decode (a tampered row) come back as some text that is not the event: the chain's hash check names the event,
 * nothing throws.
 */
export function decodeAuditBody(stored: unknown, templated?: TemplatedBodyReader): string {
  if (typeof stored === 'string') return stored;
  if (!(stored instanceof Uint8Array)) return String(stored);
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (bytes[0] === TEMPLATE_CODEC) {
    const head = templateOfStoredBody(bytes);
    const template = head && templated?.template(head.templateId);
    if (head === undefined || template === undefined) return `undecodable stored body (${bytes.length} bytes)`;
    try {
      return joinAuditBody(template, bytes, head.holesAt, templated!.context());
    } catch {
      return `undecodable stored body (${bytes.length} bytes)`;
    }
  }
  if (bytes[0] !== DEFLATE_WITH_DICTIONARY_1) return bytes.toString('utf8');
  try {
    return inflateRawSync(bytes.subarray(1), INFLATE_OPTIONS).toString('utf8');
  } catch {
    return `undecodable stored body (${bytes.length} bytes)`;
  }
}

/**
 * Codec 2: the body as a template and its holes (what appends write). Most events repeat their canonical JSON
 * almost whole from call to call; what changes is a few values. The template is the text with those values
 * replaced by one raw control character each (canonical JSON never holds one raw: JSON.stringify escapes them),
 * kept once in a table of its own (audit_templates); the row stores the template's id and the holes' values.
 * A hole stands for a whole quoted JSON string of the text (quotes included):
 *
 * | character     | stands for                                      | bytes in the row |
 * |---------------|-------------------------------------------------|------------------|
 * | U+0001        | the event id (the row's event_id column)        | 0                |
 * | U+0002        | the event time (the row's event_time column), ISO 8601 | 0         |
 * | U+0003        | another lowercase UUID (requestID, tokens, version ids) | 16       |
 * | U+0004        | another ISO 8601 time with milliseconds         | 6 (signed ms)    |
 * | U+0010 + i    | resource name i (the row's resource_names), i < 16 | 0             |
 *
 * Stored: the codec id, the template id (unsigned LEB128), the holes' bytes in the order of the template.
 * Decoding puts back exactly the substrings that encoding took out, so the canonical text, and with it the hash
 * chain, comes back byte for byte whatever the text is (a text that already holds a control character gets no
 * template).
 */
const TEMPLATE_CODEC = 2;
const HOLE_EVENT_ID = '\u0001';
const HOLE_EVENT_TIME = '\u0002';
const HOLE_UUID = '\u0003';
const HOLE_TIME = '\u0004';
const FIRST_RESOURCE_HOLE = 0x10;
const RESOURCE_HOLES = 16;
const UUID_BYTES = 16;
const TIME_BYTES = 6;

/** Any control character: a text holding one raw (not canonical JSON) is kept as it is. */
const CONTROL_CHARACTER = /[\u0000-\u001f]/;
/** The values a hole of the row's own bytes takes: a quoted lowercase UUID or ISO 8601 time with milliseconds. */
const VALUE_HOLE = /"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"/g;
const HOLE_CHARACTER = /[\u0001-\u001f]/g;

/** The columns of the row that holes refer to. */
export type AuditBodyContext = { eventId: string; eventTime: number; resourceNames: readonly string[] };

/** A body split into its template and the bytes of its holes. */
export type AuditBodySplit = { template: string; holes: Buffer };

/** The largest holes a template may have (a body with more gets no template): 64 UUIDs. */
const MAX_HOLE_BYTES = 64 * UUID_BYTES;
/** The codec id and a template id (unsigned LEB128 of at most 7 bytes: templateOfStoredBody reads no more). */
const TEMPLATED_HEAD_MAX_BYTES = 8;
/** Where holes are read to (after room for a stored body's head: AuditTemplateMatcher.findStoredBody). */
const holeScratch = Buffer.alloc(TEMPLATED_HEAD_MAX_BYTES + MAX_HOLE_BYTES);

/** The template and holes of a canonical text, or undefined when it has none worth keeping (no hole at all, or a raw control character). */
export function splitAuditBody(body: string, context: AuditBodyContext): AuditBodySplit | undefined {
  if (CONTROL_CHARACTER.test(body)) return undefined;
  let template = body;
  const resources = Math.min(context.resourceNames.length, RESOURCE_HOLES);
  for (let index = 0; index < resources; index += 1) {
    template = template.replaceAll(JSON.stringify(context.resourceNames[index]), String.fromCharCode(FIRST_RESOURCE_HOLE + index));
  }
  const eventId = `"${context.eventId}"`;
  let eventTime: string | undefined;
  let length = 0;
  template = template.replace(VALUE_HOLE, (quoted) => {
    if (quoted.length === 38) {
      if (quoted === eventId) return HOLE_EVENT_ID;
      if (length + UUID_BYTES > MAX_HOLE_BYTES) return quoted;
      holeScratch.write(quoted.slice(1, 9) + quoted.slice(10, 14) + quoted.slice(15, 19) + quoted.slice(20, 24) + quoted.slice(25, 37), length, 'hex');
      length += UUID_BYTES;
      return HOLE_UUID;
    }
    eventTime ??= isoTime(context.eventTime);
    if (quoted.slice(1, -1) === eventTime) return HOLE_EVENT_TIME;
    const ms = Date.parse(quoted.slice(1, -1));
    // Only a time that prints back as the same text (a valid date, four-digit year) becomes a number.
    if (isoTime(ms) !== quoted.slice(1, -1) || Math.abs(ms) >= 2 ** 47 || length + TIME_BYTES > MAX_HOLE_BYTES) return quoted;
    holeScratch.writeIntBE(ms, length, TIME_BYTES);
    length += TIME_BYTES;
    return HOLE_TIME;
  });
  if (template === body) return undefined;
  return { template, holes: Buffer.from(holeScratch.subarray(0, length)) };
}

/** The stored body of a template's event: codec id, template id, holes. */
export function encodeTemplatedBody(templateId: number, holes: Buffer): Buffer {
  let idLength = 1;
  for (let rest = templateId; rest >= 0x80; rest = Math.floor(rest / 0x80)) idLength += 1;
  const stored = Buffer.allocUnsafe(1 + idLength + holes.length);
  holes.copy(stored, writeTemplatedHead(stored, templateId));
  return stored;
}

/** Writes codec 2's id and the template id at the start of `into`; answers how many bytes that took. */
function writeTemplatedHead(into: Buffer, templateId: number): number {
  into[0] = TEMPLATE_CODEC;
  let at = 1;
  let rest = templateId;
  do {
    into[at] = (rest % 0x80) + (rest >= 0x80 ? 0x80 : 0);
    at += 1;
    rest = Math.floor(rest / 0x80);
  } while (rest > 0);
  return at;
}

/** The template id of a stored body of codec 2 (and where its holes start); undefined for any other body. */
export function templateOfStoredBody(stored: unknown): { templateId: number; holesAt: number } | undefined {
  if (!(stored instanceof Uint8Array) || stored[0] !== TEMPLATE_CODEC) return undefined;
  let templateId = 0;
  let scale = 1;
  for (let at = 1; at < stored.length && at < 8; at += 1) {
    const byte = stored[at]!;
    templateId += (byte & 0x7f) * scale;
    if (byte < 0x80) return { templateId, holesAt: at + 1 };
    scale *= 0x80;
  }
  return undefined;
}

/** The canonical text of a template filled with the row's holes and columns; throws on holes that do not fit it. */
export function joinAuditBody(template: string, holes: Uint8Array, holesAt: number, context: AuditBodyContext): string {
  const bytes = Buffer.from(holes.buffer, holes.byteOffset, holes.byteLength);
  let at = holesAt;
  const text = template.replace(HOLE_CHARACTER, (hole) => {
    switch (hole) {
      case HOLE_EVENT_ID:
        return JSON.stringify(context.eventId);
      case HOLE_EVENT_TIME:
        return `"${isoTime(context.eventTime)}"`;
      case HOLE_UUID: {
        if (at + UUID_BYTES > bytes.length) throw new Error('holes end early');
        const hex = bytes.toString('hex', at, (at += UUID_BYTES));
        return `"${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}"`;
      }
      case HOLE_TIME: {
        if (at + TIME_BYTES > bytes.length) throw new Error('holes end early');
        const ms = bytes.readIntBE(at, TIME_BYTES);
        at += TIME_BYTES;
        return `"${isoTime(ms)}"`;
      }
      default: {
        const name = context.resourceNames[hole.charCodeAt(0) - FIRST_RESOURCE_HOLE];
        if (name === undefined) throw new Error('no such resource name');
        return JSON.stringify(name);
      }
    }
  });
  if (at !== bytes.length) throw new Error('holes left over');
  return text;
}

/**
 * Templates already kept, compiled for matching: an append first tries the templates recently used for the same
 * key (operation and access key) by walking the body along each one (its literal texts compared in place, its
 * holes read where they stand), which costs far less than splitting the body (two scans, a new string, a Map
 * lookup hashing it). A match gives the exact body back on decoding whatever splitting would have cut, because
 * every literal was compared and every hole read from the body itself. A miss falls back to splitAuditBody.
 */
export class AuditTemplateMatcher {
  readonly #byKey = new Map<string, CompiledTemplate[]>();

  /** The template id and holes of `body` if it fills one of the key's recent templates; undefined if none fits. */
  find(key: string, body: string, context: AuditBodyContext): { templateId: number; holes: Buffer } | undefined {
    const compiled = this.#match(key, body, context, 0);
    return compiled && { templateId: compiled.id, holes: Buffer.from(holeScratch.subarray(0, compiled.holesEnd)) };
  }

  /**
   * `body` as codec 2 stores it (encodeTemplatedBody of find's answer) if it fills one of the key's recent
   * templates: the holes are read in place after the head, and the stored bytes copied out once.
   */
  findStoredBody(key: string, body: string, context: AuditBodyContext): Buffer | undefined {
    const compiled = this.#match(key, body, context, TEMPLATED_HEAD_MAX_BYTES);
    if (compiled === undefined) return undefined;
    const headLength = writeTemplatedHead(holeScratch, compiled.id);
    holeScratch.copyWithin(headLength, TEMPLATED_HEAD_MAX_BYTES, compiled.holesEnd);
    return Buffer.from(holeScratch.subarray(0, compiled.holesEnd - TEMPLATED_HEAD_MAX_BYTES + headLength));
  }

  /** The key's template `body` fills (moved to the front), its holes in holeScratch from `holesAt` to holesEnd. */
  #match(key: string, body: string, context: AuditBodyContext, holesAt: number): { id: number; holesEnd: number } | undefined {
    const candidates = this.#byKey.get(key);
    if (candidates === undefined) return undefined;
    for (let index = 0; index < candidates.length; index += 1) {
      const compiled = candidates[index]!;
      const holesEnd = matchTemplate(compiled, body, context, holesAt);
      if (holesEnd < 0) continue;
      if (index > 0) {
        candidates.splice(index, 1);
        candidates.unshift(compiled);
      }
      return { id: compiled.id, holesEnd };
    }
    return undefined;
  }

  /** Remembers a kept template (id committed, or committed with the rows that use it) for the key. */
  add(key: string, template: string, id: number): void {
    let candidates = this.#byKey.get(key);
    if (candidates === undefined) {
      if (this.#byKey.size >= MATCHER_KEYS) this.#byKey.clear();
      candidates = [];
      this.#byKey.set(key, candidates);
    }
    if (candidates.some((candidate) => candidate.id === id)) return;
    candidates.unshift(compileTemplate(template, id));
    if (candidates.length > TEMPLATES_PER_KEY) candidates.pop();
  }

  /** Forgets every template (after a rolled-back transaction: ids given in it no longer exist). */
  clear(): void {
    this.#byKey.clear();
  }
}

/** Keys (operation and access key) whose templates a matcher keeps; past it the map starts over. */
const MATCHER_KEYS = 1024;
/** Templates tried per key, most recently used first. */
const TEMPLATES_PER_KEY = 8;

/** The matcher's key for an event: its operation and access key. */
export function templateMatcherKey(eventName: string, accessKeyId: string): string {
  return `${eventName}\n${accessKeyId}`;
}

/** Templates a store keeps in memory, either way (text → id, id → text); past it a map starts over. */
export const AUDIT_TEMPLATE_CACHE_LIMIT = 4096;
/** Templates seen once and not kept yet, remembered; past it the set starts over. */
const SEEN_ONCE_LIMIT = 1024;

/**
 * A template is kept from the second event that has it on (the first keeps its text: an event whose template is
 * its own costs no more than its text). This remembers the first sights, for both stores' appends.
 */
export class TemplateFirstSights {
  readonly #seenOnce = new Set<string>();

  /** True when the template was seen before (and is no longer remembered here); otherwise remembers it. */
  seenBefore(template: string): boolean {
    if (this.#seenOnce.delete(template)) return true;
    if (this.#seenOnce.size >= SEEN_ONCE_LIMIT) this.#seenOnce.clear();
    this.#seenOnce.add(template);
    return false;
  }
}

/** A template as its literal texts (strings) and holes (their character codes), in order. */
type CompiledTemplate = { id: number; parts: Array<string | number> };

function compileTemplate(template: string, id: number): CompiledTemplate {
  const parts: Array<string | number> = [];
  let literalStart = 0;
  for (let at = 0; at < template.length; at += 1) {
    const code = template.charCodeAt(at);
    if (code > 0x1f) continue;
    if (at > literalStart) parts.push(template.slice(literalStart, at));
    parts.push(code);
    literalStart = at + 1;
  }
  if (template.length > literalStart) parts.push(template.slice(literalStart));
  return { id, parts };
}

const TIME_AT = /"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/y;

/**
 * The holes of `body` read along `compiled` (the bytes codec 2 stores), written to holeScratch from `holesAt`;
 * answers where they end, or -1 where the body differs from the template.
 */
function matchTemplate(compiled: CompiledTemplate, body: string, context: AuditBodyContext, holesAt: number): number {
  let at = 0;
  let length = holesAt;
  const holesLimit = holesAt + MAX_HOLE_BYTES;
  for (const part of compiled.parts) {
    if (typeof part === 'string') {
      // A substring's equality compares memory at once; startsWith at an offset goes character by character.
      if (body.substring(at, at + part.length) !== part) return -1;
      at += part.length;
      continue;
    }
    let value: string;
    if (part === 0x01) value = JSON.stringify(context.eventId);
    else if (part === 0x02) {
      // An ISO time needs no JSON escaping: compared between its quotes in place, not as a new quoted string.
      const time = isoTime(context.eventTime);
      if (!quotedAt(body, at, time)) return -1;
      at += time.length + 2;
      continue;
    } else if (part === 0x03) {
      if (!isQuotedUuidAt(body, at) || length + UUID_BYTES > holesLimit) return -1;
      writeUuidBytes(body, at + 1, holeScratch, length);
      length += UUID_BYTES;
      at += 38;
      continue;
    } else if (part === 0x04) {
      TIME_AT.lastIndex = at;
      if (!TIME_AT.test(body)) return -1;
      const text = body.slice(at + 1, at + 25);
      const ms = Date.parse(text);
      if (isoTime(ms) !== text || Math.abs(ms) >= 2 ** 47 || length + TIME_BYTES > holesLimit) return -1;
      holeScratch.writeIntBE(ms, length, TIME_BYTES);
      length += TIME_BYTES;
      at += 26;
      continue;
    } else {
      const name = quotedResourceNames(context.resourceNames)[part - FIRST_RESOURCE_HOLE];
      if (name === undefined) return -1;
      value = name;
    }
    if (body.substring(at, at + value.length) !== value) return -1;
    at += value.length;
  }
  return at === body.length ? length : -1;
}

/** Whether `text` holds `value` between double quotes at `at` (for a value JSON writes as it is, unescaped). */
function quotedAt(text: string, at: number, value: string): boolean {
  const end = at + 1 + value.length;
  return text.charCodeAt(at) === 0x22 && text.charCodeAt(end) === 0x22 && text.substring(at + 1, end) === value;
}

// The JSON texts of the last resource names matched: the events of a batch mostly name the same resources.
let lastResourceNames: readonly string[] = [];
let lastQuotedResourceNames: string[] = [];

/** Each resource name as JSON text, kept for the last names asked (compared by value: an array may be reused). */
function quotedResourceNames(names: readonly string[]): string[] {
  if (names.length !== lastResourceNames.length || names.some((name, index) => name !== lastResourceNames[index])) {
    lastQuotedResourceNames = names.map((name) => JSON.stringify(name));
    lastResourceNames = [...names];
  }
  return lastQuotedResourceNames;
}

/** The 16 bytes of the lowercase UUID at `at` of `text` (checked by isQuotedUuidAt), written at `offset`: no slices, no hex text. */
function writeUuidBytes(text: string, at: number, into: Buffer, offset: number): void {
  let from = at;
  for (let index = 0; index < UUID_BYTES; index += 1) {
    if (from - at === 8 || from - at === 13 || from - at === 18 || from - at === 23) from += 1;
    into[offset + index] = lowerHexValue(text.charCodeAt(from)) * 16 + lowerHexValue(text.charCodeAt(from + 1));
    from += 2;
  }
}

/** Whether `text` holds a quoted lowercase UUID at `at` (what VALUE_HOLE matches; a loop costs less than a sticky RegExp). */
function isQuotedUuidAt(text: string, at: number): boolean {
  if (text.charCodeAt(at) !== 0x22 || text.charCodeAt(at + 37) !== 0x22) return false;
  for (let offset = 1; offset < 37; offset += 1) {
    const code = text.charCodeAt(at + offset);
    if (offset === 9 || offset === 14 || offset === 19 || offset === 24) {
      if (code !== 0x2d) return false;
    } else if (!((code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66))) return false;
  }
  return true;
}

// The text up to the milliseconds of the last second printed: toISOString costs ~0.3 µs, and the events of a
// batch mostly fall in one second.
let lastSecond = Number.NaN;
let lastSecondText = '';

/** Date's ISO 8601 text of a time in ms ('' for one it cannot print), as `new Date(ms).toISOString()`. */
function isoTime(ms: number): string {
  // As Date does: the integer part, toward zero (and -0 as 0); beyond ±8.64e15 ms there is no date.
  const time = Math.trunc(ms) + 0;
  if (!(Math.abs(time) <= 8.64e15)) return '';
  const second = Math.floor(time / 1000);
  if (second !== lastSecond) {
    const text = new Date(second * 1000).toISOString();
    lastSecondText = text.slice(0, text.length - 4);
    lastSecond = second;
  }
  const millis = time - second * 1000;
  return `${lastSecondText}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

/** A chain hash (64 hex characters) as 32 bytes; anything else (never written by Coffer) stays text. */
export function encodeAuditHash(hex: string): Buffer | string {
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : hex;
}

/** A stored hash as the hex text the chain works with. */
export function decodeAuditHash(stored: unknown): string {
  if (stored instanceof Uint8Array) return Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('hex');
  return String(stored);
}

/**
 * An event id as SQLite stores it: its 16 bytes when it is a lowercase UUID whose first 48 bits are the event's
 * time in ms (every id Coffer makes: audit/event.ts, timeOrderedEventId), otherwise its text. The bytes need no
 * index of their own: audit_events_by_time (event_time, event_id) finds them from the time they carry. A text id
 * is found by the partial index on text ids (audit migration 5).
 */
export function encodeAuditEventId(eventId: string, eventTime: number): Buffer | string {
  const bytes = uuidBytes(eventId);
  return bytes !== undefined && bytes.readUIntBE(0, EVENT_ID_TIME_BYTES) === eventTime ? bytes : eventId;
}

/** The bytes of the id (encodeAuditEventId's) and the time an event with that id was stored at; time undefined for a text id. */
export function auditEventIdKey(eventId: string): { time: number | undefined; stored: Buffer | string } {
  const bytes = uuidBytes(eventId);
  return bytes === undefined ? { time: undefined, stored: eventId } : { time: bytes.readUIntBE(0, EVENT_ID_TIME_BYTES), stored: bytes };
}

/** A UUID v7's time: its first 48 bits. */
const EVENT_ID_TIME_BYTES = 6;

/** A lowercase UUID's 16 bytes; undefined for any other text. */
function uuidBytes(eventId: string): Buffer | undefined {
  // One pass over the characters (every append runs it), instead of a RegExp test, a dash-free copy and a hex decode.
  if (eventId.length !== 36) return undefined;
  const bytes = Buffer.allocUnsafe(UUID_BYTES);
  let at = 0;
  for (let index = 0; index < UUID_BYTES; index += 1) {
    if (at === 8 || at === 13 || at === 18 || at === 23) {
      if (eventId.charCodeAt(at) !== 0x2d) return undefined;
      at += 1;
    }
    const high = lowerHexValue(eventId.charCodeAt(at));
    const low = lowerHexValue(eventId.charCodeAt(at + 1));
    if (high < 0 || low < 0) return undefined;
    bytes[index] = high * 16 + low;
    at += 2;
  }
  return bytes;
}

/** A lowercase hex digit's value, -1 for any other character (uppercase would not print back the same). */
function lowerHexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

export function decodeAuditEventId(stored: unknown): string {
  if (!(stored instanceof Uint8Array)) return String(stored);
  const hex = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
