import { commonError, remembered, Sensitive, type ServiceTable } from '../core/index.js';
import { echoed } from './echo.js';
import { assertBoundedInput, MAX_INPUT_VALUES } from './input-bounds.js';

/**
 * The AWS JSON 1.1 codec: `POST /`, `X-Amz-Target: <prefix>.<Operation>`, a JSON body in and out.
 * Blobs travel as base64 and timestamps as epoch seconds. It knows no service: compose.ts hands it the tables.
 */
export const JSON11_CONTENT_TYPE = 'application/x-amz-json-1.1';

export type Target = { table: ServiceTable; operationName: string };

export function createTargetRouter(tables: readonly ServiceTable[]) {
  const byPrefix = new Map(tables.flatMap((table) => [table.targetPrefix, ...(table.targetPrefixAliases ?? [])].map((prefix) => [prefix, table] as const)));
  return function route(targetHeader: string | undefined): Target {
    // The operation follows the last dot: CloudTrail's prefix (com.amazonaws.cloudtrail.v20131101.…) has dots.
    const dot = targetHeader?.lastIndexOf('.') ?? -1;
    const table = dot > 0 ? byPrefix.get(targetHeader!.slice(0, dot)) : undefined;
    const operationName = dot > 0 ? targetHeader!.slice(dot + 1) : '';
    if (!table || !Object.hasOwn(table.operations, operationName)) {
      throw commonError('UnknownOperationException', `The operation ${targetHeader === undefined ? '(no X-Amz-Target)' : echoed(targetHeader)} is not known.`);
    }
    return { table, operationName };
  };
}

/** An empty body is an empty input, as the SDKs send for operations without members. */
export function decodeJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    // JSON.parse's own message quotes the document; it is never repeated (the body may hold a secret).
    throw commonError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw commonError('SerializationException', 'The request body must be a JSON object.');
  }
  // Each value takes at least two bytes of JSON (itself and a separator): a body of up to twice the bound cannot
  // hold more than the bound, so only a larger one is walked.
  if (body.length > 2 * MAX_INPUT_VALUES) assertBoundedInput(value);
  return value as Record<string, unknown>;
}

export function encodeJsonBody(output: unknown): string {
  if (hasTopLevelBlob(output)) return encodeWithBlobs(output);
  return JSON.stringify(toWire(output) ?? {});
}

/**
 * An output with a blob member at its top (Decrypt's Plaintext, GenerateDataKey's CiphertextBlob): its base64 needs
 * no JSON escaping, so it goes into the text as is, where JSON.stringify would check each of its characters (≈ 1 µs
 * for a 1 KiB blob's 1,368). The other members are written by JSON.stringify one by one; the text is the same as
 * JSON.stringify(toWire(output)) gives (a test holds it so).
 */
function encodeWithBlobs(output: Record<string, unknown>): string {
  let text = '{';
  for (const member in output) {
    if (!Object.hasOwn(output, member)) continue;
    const value = output[member];
    if (value === undefined) continue;
    const blob = blobOf(value);
    const json = blob ? '"' + base64Of(blob) + '"' : JSON.stringify(toWire(value));
    if (json === undefined) continue;
    text += (text.length === 1 ? '' : ',') + memberNameJson(member) + json;
  }
  return text + '}';
}

/**
 * `"<member>":`, kept per member name: the outputs that reach encodeWithBlobs have a handful of member names, written
 * on every call (a Decrypt answer's four: ≈ 0.3 µs and 0.4 KB of strings less per answer).
 */
const memberNameJson = remembered((member) => JSON.stringify(member) + ':', { limit: 256, longestKey: 256 });

function hasTopLevelBlob(output: unknown): output is Record<string, unknown> {
  if (typeof output !== 'object' || output === null || Array.isArray(output) || blobOf(output) !== undefined) return false;
  for (const member in output) {
    if (Object.hasOwn(output, member) && blobOf((output as Record<string, unknown>)[member]) !== undefined) return true;
  }
  return false;
}

/** A blob value as toWire reads it: bytes, or bytes wrapped as Sensitive. */
function blobOf(value: unknown): Uint8Array | undefined {
  const revealed = value instanceof Sensitive ? value.reveal() : value;
  return revealed instanceof Uint8Array ? revealed : undefined;
}

function base64Of(bytes: Uint8Array): string {
  // A view over the same bytes, not a copy.
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64');
}

/**
 * Converts an operation's output to its wire form; Sensitive values are revealed here and only here. Strings,
 * numbers and booleans (most members) return before the object checks.
 */
function toWire(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Sensitive) return toWire(value.reveal());
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value instanceof Uint8Array) return base64Of(value);
  // for...in over a plain object, not Object.entries: no [member, value] pair allocated per member.
  const wire: Record<string, unknown> = {};
  for (const member in value) {
    if (!Object.hasOwn(value, member)) continue;
    const memberValue = (value as Record<string, unknown>)[member];
    if (memberValue !== undefined) wire[member] = toWire(memberValue);
  }
  return wire;
}
