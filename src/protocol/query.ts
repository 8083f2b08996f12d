import { AwsError, commonError, Sensitive, type QueryServiceTable } from '../core/index.js';
import { echoed } from './echo.js';
import { MAX_INPUT_VALUES, tooManyValues } from './input-bounds.js';
import type { RenderedError } from './render-error.js';
import type { Target } from './json11.js';

/**
 * The AWS Query codec (IAM, STS): `POST /` with a form-urlencoded body `Action=CreateUser&Version=2010-05-08&
 * UserName=…`, lists flattened as `Tags.member.1.Key`, maps as `Attributes.entry.1.key`; the response is XML
 * `<CreateUserResponse xmlns=…><CreateUserResult>…</CreateUserResult><ResponseMetadata>…`, errors
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 * It knows no service: compose.ts hands it the tables.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
export const QUERY_CONTENT_TYPE = 'application/x-www-form-urlencoded';
export const XML_CONTENT_TYPE = 'text/xml';

export type QueryTarget = Target & { table: QueryServiceTable };

/** Whether a request without X-Amz-Target is a Query request: a form-encoded POST. */
export function isQueryRequest(method: string, contentType: string | undefined): boolean {
  return method === 'POST' && (contentType ?? '').toLowerCase().split(';')[0]!.trim() === QUERY_CONTENT_TYPE;
}

export function createQueryRouter(tables: readonly QueryServiceTable[]) {
  const bySigningName = new Map(tables.map((table) => [table.signingName, table]));
  // Operations a client sends without SigV4 (access 'unsigned': STS AssumeRoleWithWebIdentity): an unsigned
  // request has no credential scope, so its Action alone names the table.
  const unsigned = new Map(tables.flatMap((table) => Object.entries(table.operations).filter(([, spec]) => spec.access === 'unsigned').map(([name]) => [name, table] as const)));
  return {
    /** The service comes from the credential scope (`iam`, `sts`); the operation from the body's `Action`. */
    route(signingName: string | undefined, body: Buffer): QueryTarget {
      const table = signingName === undefined ? undefined : bySigningName.get(signingName);
      const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? '';
      if (signingName === undefined) {
        const unsignedTable = unsigned.get(action);
        if (unsignedTable) return { table: unsignedTable, operationName: action };
        throw commonError('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
      }
      if (!table) throw commonError('UnknownOperationException', `The service ${echoed(signingName)} does not speak the Query protocol here.`);
      if (!Object.hasOwn(table.operations, action)) {
        throw commonError('UnknownOperationException', `Could not find operation ${action ? echoed(action) : '(no Action)'} for version ${table.version}`);
      }
      return { table, operationName: action };
    },
  };
}

export type QueryRouter = ReturnType<typeof createQueryRouter>;

type Tree = { [member: string]: Tree | string };

/**
 * The most dot-separated segments a member name may have. IAM's and STS's deepest inputs are a few levels
 * (`ContextEntries.member.1.ContextKeyValues.member.2`); a name nested thousands deep is refused before the
 * (recursive) unflatten would exhaust the stack.
 */
export const MAX_QUERY_MEMBER_SEGMENTS = 32;

/**
 * The form body as the operation's input: `A.member.2.B=x` becomes `{A: [.., {B: 'x'}]}`, `A.entry.1.key=k&
 * A.entry.1.value=v` becomes `{A: {k: v}}`. Values stay strings; the schemas convert numbers and booleans.
 */
export function decodeQueryBody(body: Buffer): Record<string, unknown> {
  const tree: Tree = {};
  let values = 0;
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (name === 'Action' || name === 'Version') continue;
    if (++values > MAX_INPUT_VALUES) throw tooManyValues();
    const path = name.split('.', MAX_QUERY_MEMBER_SEGMENTS + 1);
    if (path.length > MAX_QUERY_MEMBER_SEGMENTS) {
      throw commonError('SerializationException', `A member name is nested more than ${MAX_QUERY_MEMBER_SEGMENTS} levels deep.`);
    }
    let node = tree;
    for (const [index, segment] of path.entries()) {
      if (segment === '__proto__' || segment === 'constructor' || segment === 'prototype') break;
      if (index === path.length - 1) {
        node[segment] = value;
        break;
      }
      const next = node[segment];
      node = typeof next === 'object' ? next : (node[segment] = {});
    }
  }
  return unflatten(tree) as Record<string, unknown>;
}

function unflatten(node: Tree | string): unknown {
  if (typeof node === 'string') return node;
  const members = Object.keys(node);
  if (members.length === 1 && members[0] === 'member' && typeof node.member === 'object') {
    return numbered(node.member).map(unflatten);
  }
  if (members.length === 1 && members[0] === 'entry' && typeof node.entry === 'object') {
    const entries = numbered(node.entry).map((entry) => (typeof entry === 'object' ? entry : {}));
    return Object.fromEntries(entries.map((entry) => [String(entry.key ?? ''), unflatten(entry.value ?? '')]));
  }
  return Object.fromEntries(members.map((member) => [member, unflatten(node[member]!)]));
}

/** `{ '2': x, '1': y }` → `[y, x]`: list positions are 1-based and may arrive in any order. */
function numbered(node: Tree): Array<Tree | string> {
  return Object.keys(node)
    .filter((key) => /^\d+$/.test(key))
    .sort((a, b) => Number(a) - Number(b))
    .map((key) => node[key]!);
}

/** `<OpResponse><OpResult>…</OpResult><ResponseMetadata>…` (no Result element for an empty output, as AWS). */
export function encodeQueryResponse(target: QueryTarget, output: unknown, requestId: string): string {
  const name = target.operationName;
  const members = output !== null && typeof output === 'object' ? toXml(output) : '';
  const result = members === '' ? '' : `<${name}Result>${members}</${name}Result>`;
  return (
    `<${name}Response xmlns="${escapeXml(target.table.xmlNamespace)}">${result}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${name}Response>`
  );
}

/** Members as elements; list items as `<member>`; Sensitive values are revealed here and only here. */
function toXml(value: unknown): string {
  if (value instanceof Sensitive) return toXml(value.reveal());
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  // A map member (EvalDecisionDetails): `<entry><key>…</key><value>…</value></entry>`, as the Query protocol writes maps.
  if (value instanceof Map) return [...value].map(([key, item]) => `<entry><key>${toXml(key)}</key><value>${toXml(item)}</value></entry>`).join('');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .filter(([, memberValue]) => memberValue !== undefined && memberValue !== null)
      .map(([member, memberValue]) => `<${member}>${toXml(memberValue)}</${member}>`)
      .join('');
  }
  return escapeXml(String(value));
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than producing a document no client can parse.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

/**
 * The errors the shared layers raise (signature, schema, authorization) under the names Query services use.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
 */
const QUERY_COMMON_ERRORS: Record<string, { code: string; status: number }> = {
  AccessDeniedException: { code: 'AccessDenied', status: 403 },
  ValidationException: { code: 'ValidationError', status: 400 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403 },
  UnknownOperationException: { code: 'InvalidAction', status: 400 },
  SerializationException: { code: 'MalformedInput', status: 400 },
  ThrottlingException: { code: 'Throttling', status: 400 },
  ExpiredTokenException: { code: 'ExpiredToken', status: 400 },
};

/** The XML error body; an error that is not an AwsError becomes the service's internal error, generically. */
export function renderQueryError(error: unknown, internalErrorCode: string, requestId: string): RenderedError {
  let status = 500;
  let code = internalErrorCode;
  let message = `An internal error occurred. Request id: ${requestId}`;
  if (error instanceof AwsError) {
    const mapped = error.exactCode ? undefined : QUERY_COMMON_ERRORS[error.code];
    status = mapped?.status ?? error.status;
    code = mapped?.code ?? error.code;
    message = error.message;
  }
  const fault = status >= 500 ? 'server' : 'client';
  const body =
    `<ErrorResponse><Error><Type>${fault === 'client' ? 'Sender' : 'Receiver'}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`;
  return { status, code, fault, body };
}
