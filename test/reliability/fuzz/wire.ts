import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256, type AccessKey } from '../../helpers/signed-fetch.js';
import type { FuzzOperation } from './catalog.js';
import { RawJson } from './schema-arbitrary.js';

/** One HTTP request as the fuzzer sends it: the path already percent-encoded, the query as encoded pairs. */
export type WireRequest = { method: string; path: string; query: Array<[string, string]>; headers: Record<string, string>; body: Buffer };

/** The input of `operation` placed on the wire the way an AWS SDK would place it (unsigned). */
export function encodeCall(operation: FuzzOperation, input: unknown): WireRequest {
  if (operation.protocol === 'json') {
    return {
      method: 'POST',
      path: '/',
      query: [],
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${operation.targetPrefix}.${operation.name}` },
      body: Buffer.from(jsonText(input)),
    };
  }
  if (operation.protocol === 'query') {
    const form = new URLSearchParams({ Action: operation.name, Version: operation.version! });
    for (const [name, value] of queryMembers('', input)) form.append(name, value);
    return { method: 'POST', path: '/', query: [], headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: Buffer.from(form.toString()) };
  }
  return restCall(operation, input);
}

/** JSON text with RawJson members spliced in (deep nesting no client-side walker could serialize). */
export function jsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value ?? {}, (_key, member: unknown) => {
    if (!(member instanceof RawJson)) return member;
    raws.push(member.text);
    return `\u0000raw${raws.length - 1}\u0000`;
  });
  return raws.length === 0 ? text : text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_match, index: string) => raws[Number(index)]!);
}

/** Query members: structures as `A.B`, lists as `A.member.N`, scalars as text. */
function queryMembers(prefix: string, value: unknown): Array<[string, string]> {
  if (value instanceof RawJson) return [[`${prefix}${value.querySuffix}`, '1']];
  if (Array.isArray(value)) return value.flatMap((item, index) => queryMembers(`${prefix}.member.${index + 1}`, item));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([member, item]) => queryMembers(prefix === '' ? member : `${prefix}.${member}`, item));
  }
  if (prefix === '') return [];
  return [[prefix, value === null || value === undefined ? '' : String(value)]];
}

/** REST-JSON: labels into the path, bound members into the query and headers, the rest (or the payload) as the body. */
function restCall(operation: FuzzOperation, input: unknown): WireRequest {
  const route = operation.route!;
  const members: Record<string, unknown> = input !== null && typeof input === 'object' && !Array.isArray(input) ? { ...(input as Record<string, unknown>) } : {};
  const take = (member: string) => {
    const value = members[member];
    delete members[member];
    return value;
  };
  const path = route.path.replace(/\{(\w+)\}/g, (_match, label: string) => uriEscape(scalarText(take(label))));
  const query: Array<[string, string]> = [];
  for (const [parameter, member] of Object.entries(route.query ?? {})) {
    const value = take(member);
    if (value !== undefined) query.push([uriEscape(parameter), uriEscape(scalarText(value))]);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [header, member] of Object.entries(route.headers ?? {})) {
    const value = take(member);
    // node:http refuses header values outside visible Latin-1 on the client side: the raw-socket cases send those.
    if (value !== undefined) headers[header] = scalarText(value).replace(/[^\x20-\x7e]/g, '?');
  }
  let body: Buffer;
  if (route.payload) {
    const payload = take(route.payload);
    body = payload instanceof RawJson ? Buffer.from(payload.text) : typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload === undefined ? '' : jsonText(payload));
  } else {
    body = route.method === 'GET' || route.method === 'DELETE' ? Buffer.alloc(0) : Buffer.from(jsonText(members));
  }
  return { method: route.method, path, query, headers, body };
}

function scalarText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (value instanceof RawJson) return value.text.slice(0, 4096);
  return jsonText(value);
}

/** Percent-encoding with AWS's unreserved set (RFC 3986), of the UTF-8 bytes (a lone surrogate becomes U+FFFD). */
export function uriEscape(text: string): string {
  return encodeURIComponent(wellFormed(text)).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

export type Signing = { credentials: AccessKey; service: string; region: string; date?: Date };

/** Signs the request with the SDK's own SigV4 signer; the host header is the endpoint's. */
export async function signRequest(request: WireRequest, host: string, signing: Signing): Promise<WireRequest> {
  const signer = new SignatureV4({ credentials: signing.credentials, region: signing.region, service: signing.service, sha256: NodeSha256 });
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of request.query) {
    const name = decodeURIComponent(key);
    const decoded = decodeURIComponent(value);
    const existing = query[name];
    query[name] = existing === undefined ? decoded : [...(Array.isArray(existing) ? existing : [existing]), decoded];
  }
  const unsigned = new HttpRequest({
    method: request.method,
    protocol: 'http:',
    hostname: host.split(':')[0]!,
    port: Number(host.split(':')[1]),
    path: request.path,
    query,
    headers: { ...request.headers, host },
    body: request.body,
  });
  const signed = (await signer.sign(unsigned, { signingDate: signing.date ?? new Date() })) as HttpRequest;
  return { ...request, headers: { ...signed.headers } };
}

export function requestTarget(request: WireRequest): string {
  return request.query.length === 0 ? request.path : `${request.path}?${request.query.map(([key, value]) => `${key}=${value}`).join('&')}`;
}

/** The bytes of the request as HTTP/1.1 (what a raw socket sends); `extraHead` goes in after the headers. */
export function httpBytes(request: WireRequest, options: { extraHead?: string; connection?: string } = {}): Buffer {
  const headers = { ...request.headers, 'content-length': String(request.body.length), connection: options.connection ?? 'close' };
  const head = `${request.method} ${requestTarget(request)} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}${options.extraHead ?? ''}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), request.body]);
}

/** Lone surrogates replaced by U+FFFD, as a UTF-8 encoder does (encodeURIComponent throws on them). */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
