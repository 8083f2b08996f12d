import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';

/**
 * The names whose repeated values node:http drops (the first one counts); every other repeated name is joined
 * with ', ' (cookie with '; '), and set-cookie is a list. The list is node's own (`matchKnownFields` in
 * lib/_http_incoming.js); test/unit/server/request-headers.test.ts holds headersFromRaw to node's answer.
 */
const FIRST_VALUE_WINS: ReadonlySet<string> = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * `req.headers` as node:http makes it from `req.rawHeaders` (same names, values and order), without node's
 * per-header work (a lookup over known names, then a lower-cased copy of each unknown name with a marker
 * character added and sliced off again): a name seen once, the usual case, costs one toLowerCase and one store.
 */
export function headersFromRaw(rawHeaders: readonly string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    const value = rawHeaders[index + 1]!;
    const had = headers[name];
    if (had === undefined && name !== 'set-cookie') headers[name] = value;
    else addRepeated(headers, name, value, had);
  }
  return headers as IncomingHttpHeaders;
}

/** A name seen before (or set-cookie, or a name Object.prototype answers for): node's rules, case by case. */
function addRepeated(headers: Record<string, string | string[]>, name: string, value: string, had: string | string[] | undefined): void {
  if (name === 'set-cookie') {
    if (had === undefined) headers[name] = [value];
    else (had as string[]).push(value);
  } else if (FIRST_VALUE_WINS.has(name)) {
    if (had === undefined) headers[name] = value;
  } else {
    // As node: joined onto an earlier string value only (`__proto__`, `constructor` and the like are overwritten).
    headers[name] = typeof had === 'string' ? had + (name === 'cookie' ? '; ' : ', ') + value : value;
  }
}

/**
 * The headers as the pipeline hands them on (SigV4 among others): `headers` itself when no name came more than once
 * (the usual case, no allocation), else a copy in which each repeated name is the list of all its values in the
 * order sent. Node keeps only the first value of some names and joins the others' with ', ', where SigV4's
 * canonical request joins every value of a repeated header with ',' (AWS's signature test suite,
 * get-header-key-duplicate): a request that signed a repeated header was refused. Readers of one value take the
 * list's first, as node does for the names it does not join.
 */
export function headersWithRepeats(headers: IncomingHttpHeaders, rawHeaders: readonly string[]): Record<string, string | string[] | undefined> {
  let names = 0;
  for (const _name in headers) names += 1;
  if (names * 2 === rawHeaders.length) return headers;
  const all = new Map<string, string[]>();
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    const values = all.get(name);
    if (values) values.push(rawHeaders[index + 1]!);
    else all.set(name, [rawHeaders[index + 1]!]);
  }
  // No prototype: a repeated `__proto__` is then a name like any other, where a plain object's setter made the list
  // the object's prototype (its items and methods read as headers).
  const withRepeats: Record<string, string | string[] | undefined> = Object.assign(Object.create(null) as Record<string, string | string[] | undefined>, headers);
  for (const [name, values] of all) if (values.length > 1) withRepeats[name] = values;
  return withRepeats;
}

const nodeHeaders = Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'headers')!;

/**
 * The server's request class: `headers` is made by headersFromRaw. Node's server reads `req.headers` for every
 * HTTP/1.1 request before the handler runs (its Host and Expect checks), so the object is always made; this
 * makes it for half of node's CPU (1,691 → 845 ns for an SDK request's 12 headers). The object is made on first read, once the parser has set rawHeaders (node
 * reads it only after); with `joinDuplicateHeaders` (not an option Coffer sets) node's own getter answers.
 */
export class EdgeRequest extends IncomingMessage {
  #headers: IncomingHttpHeaders | undefined;
  /** Set by node's parser from the server's option (not in @types/node). */
  declare joinDuplicateHeaders: boolean | undefined;

  static {
    Object.defineProperty(EdgeRequest.prototype, 'headers', {
      configurable: true,
      enumerable: false,
      get(this: EdgeRequest): IncomingHttpHeaders {
        if (this.joinDuplicateHeaders) return nodeHeaders.get!.call(this) as IncomingHttpHeaders;
        return (this.#headers ??= headersFromRaw(this.rawHeaders));
      },
      set(this: EdgeRequest, value: IncomingHttpHeaders) {
        if (this.joinDuplicateHeaders) nodeHeaders.set!.call(this, value);
        else this.#headers = value;
      },
    });
  }
}
