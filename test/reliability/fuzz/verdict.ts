import type { WireProtocol } from './catalog.js';
import type { Answer } from './transport.js';

/**
 * Whether an answer is what AWS would send: never a 5xx, and every error in its protocol's shape. JSON 1.1:
 * `application/x-amz-json-1.1` and `{"__type","message"}`; Query: `<ErrorResponse><Error><Type/><Code/><Message/>`
 * XML; REST-JSON: `x-amzn-ErrorType` and a JSON body with `message`. The HTTP edge refuses what never became a
 * request (bad framing, headers too large, too slow, a body too big) in the JSON 1.1 shape with `x-amzn-ErrorType`,
 * whatever protocol the client meant: accepted for every protocol. Returns the problem, or undefined when none.
 */
export function problemWith(answer: Answer, protocol: WireProtocol | 'any'): string | undefined {
  if (answer.status === 0) return `no answer (${answer.error})`;
  if (answer.status >= 500) return `HTTP ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (answer.status < 400) return successProblem(answer, protocol);
  const shapes = { json: isJsonError(answer), query: isQueryError(answer), rest: isRestError(answer), edge: isEdgeError(answer) };
  const fits = protocol === 'any' ? shapes.json || shapes.query || shapes.rest : shapes[protocol] || shapes.edge;
  return fits ? undefined : `an error not shaped for ${protocol}: HTTP ${answer.status} ${JSON.stringify(answer.headers['content-type'])} ${answer.body.slice(0, 300)}`;
}

/** The error code of an AWS-shaped error answer (for the tallies), or the status for a success. */
export function codeOf(answer: Answer): string {
  if (answer.status === 0) return 'no-answer';
  if (answer.status < 400) return String(answer.status);
  const header = answer.headers['x-amzn-errortype'];
  if (header) return header.split(':')[0]!;
  const xml = /<Code>([^<]*)<\/Code>/.exec(answer.body);
  if (xml) return xml[1]!;
  return (jsonObject(answer.body)?.__type as string | undefined) ?? `HTTP ${answer.status}`;
}

function successProblem(answer: Answer, protocol: WireProtocol | 'any'): string | undefined {
  if (protocol === 'json' && !jsonObject(answer.body)) return `a success whose body is not a JSON object: ${answer.body.slice(0, 200)}`;
  if (protocol === 'query' && !/^<(\w+)Response xmlns="[^"]+">[\s\S]*<\/\1Response>$/.test(answer.body)) return `a success that is not a Query response: ${answer.body.slice(0, 200)}`;
  return undefined;
}

function isJsonError(answer: Answer): boolean {
  const body = jsonObject(answer.body);
  return answer.headers['content-type'] === 'application/x-amz-json-1.1' && typeof body?.__type === 'string' && body.__type !== '' && typeof body.message === 'string';
}

function isQueryError(answer: Answer): boolean {
  return (
    answer.headers['content-type'] === 'text/xml' &&
    /^<ErrorResponse><Error><Type>(Sender|Receiver)<\/Type><Code>[^<]+<\/Code><Message>[^<]*<\/Message><\/Error><RequestId>[^<]+<\/RequestId><\/ErrorResponse>$/.test(answer.body)
  );
}

function isRestError(answer: Answer): boolean {
  const body = jsonObject(answer.body);
  return Boolean(answer.headers['x-amzn-errortype']) && typeof body?.message === 'string';
}

/** The edge's refusals (server/http.ts): JSON 1.1 shape, the code also in x-amzn-ErrorType. */
function isEdgeError(answer: Answer): boolean {
  return isJsonError(answer) && answer.headers['x-amzn-errortype'] === jsonObject(answer.body)?.__type;
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
