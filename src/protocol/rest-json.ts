import { commonError, type RestRoute, type RestServiceTable } from '../core/index.js';
import { echoed } from './echo.js';
import { decodeJsonBody, encodeJsonBody, type Target } from './json11.js';

/**
 * The REST-JSON codec (AWS's restJson1, as Lambda speaks it): the method and path pick the operation, path
 * labels, query parameters and headers fill input members, and the body is a JSON object of the remaining
 * members or, for an httpPayload member, the raw bytes. It knows no service: compose.ts hands it the tables
 * (`RestServiceTable`, each route declared by the service that owns it).
 * https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html
 */
export const REST_JSON_CONTENT_TYPE = 'application/json';

export type RestTarget = Target & { route: RestRoute; labels: Record<string, string> };

export type RestRequest = {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
};

export type EncodedRestResponse = { status: number; headers: Record<string, string>; body: string };

type Segment = { literal: string } | { label: string };
type CompiledRoute = { table: RestServiceTable; route: RestRoute; segments: Segment[] };

export function createRestRouter(tables: readonly RestServiceTable[]) {
  const routes = tables.flatMap((table) => table.routes.map((route) => ({ table, route, segments: compile(route.path) })));
  const prefixes = tables.map((table) => table.pathPrefix);

  return {
    /** Whether a request without X-Amz-Target on this path belongs to a REST service. */
    claims(path: string): boolean {
      return prefixes.some((prefix) => path.startsWith(prefix));
    },
    route(method: string, path: string): RestTarget {
      const segments = splitPath(path);
      for (const candidate of routes) {
        if (candidate.route.method !== method) continue;
        const labels = matchSegments(candidate, segments);
        if (labels) return { table: candidate.table, operationName: candidate.route.operation, route: candidate.route, labels };
      }
      throw commonError('UnknownOperationException', `No operation is bound to ${echoed(method)} ${echoed(path)}.`);
    },
  };
}

export type RestRouter = ReturnType<typeof createRestRouter>;

/** The operation's input as the schema expects it: body members, then query and header members, then labels. */
export function decodeRestRequest(target: RestTarget, request: RestRequest): Record<string, unknown> {
  const { route } = target;
  const input: Record<string, unknown> = route.payload === undefined ? decodeJsonBody(request.body) : {};
  if (route.payload !== undefined && request.body.length > 0) input[route.payload] = request.body;
  if (route.query) {
    const params = new URLSearchParams(request.query);
    for (const [name, member] of Object.entries(route.query)) {
      const value = params.get(name);
      if (value !== null) input[member] = value;
    }
  }
  for (const [name, member] of Object.entries(route.headers ?? {})) {
    const raw = request.headers[name.toLowerCase()];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) input[member] = value;
  }
  return Object.assign(input, target.labels);
}

/** Places the operation's output: bound members as status, headers or the raw body; the rest as a JSON body. */
export function encodeRestResponse(route: RestRoute, output: unknown): EncodedRestResponse {
  const members: Record<string, unknown> = output !== null && typeof output === 'object' ? { ...(output as Record<string, unknown>) } : {};
  let status = route.status ?? 200;
  const headers: Record<string, string> = { 'content-type': REST_JSON_CONTENT_TYPE };
  const bound = route.output ?? {};
  if (bound.status !== undefined) {
    const code = members[bound.status];
    if (typeof code === 'number') status = code;
    delete members[bound.status];
  }
  for (const [member, name] of Object.entries(bound.headers ?? {})) {
    const value = members[member];
    if (value !== undefined && value !== null) headers[name] = String(value);
    delete members[member];
  }
  let body: string;
  if (bound.payload !== undefined) {
    const payload = members[bound.payload];
    body = Buffer.isBuffer(payload) || payload instanceof Uint8Array ? Buffer.from(payload).toString('utf8') : typeof payload === 'string' ? payload : '';
  } else {
    body = encodeJsonBody(members);
  }
  if (status === 204 || status === 304) body = '';
  return { status, headers, body };
}

function compile(path: string): Segment[] {
  return splitPath(path).map((segment) => {
    const label = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
    return label ? { label: label[1]! } : { literal: segment };
  });
}

/** Path segments after the leading `/`; one trailing slash is not a segment (`/functions/` = `/functions`). */
function splitPath(path: string): string[] {
  const segments = path.split('/').slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  return segments;
}

function matchSegments(candidate: CompiledRoute, segments: string[]): Record<string, string> | undefined {
  if (candidate.segments.length !== segments.length) return undefined;
  const labels: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const expected = candidate.segments[i]!;
    const actual = segments[i]!;
    if ('literal' in expected) {
      if (expected.literal !== actual) return undefined;
      continue;
    }
    if (actual === '') return undefined;
    try {
      labels[expected.label] = decodeURIComponent(actual);
    } catch {
      return undefined;
    }
  }
  return labels;
}
