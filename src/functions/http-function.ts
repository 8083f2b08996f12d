import type { Logger } from '../core/index.js';
import type { FunctionRecord } from '../store/index.js';
import { failed, MAX_RESPONSE_BYTES, timedOut, type Execution } from './hosted.js';

/**
 * Runs an HTTP function (Coffer's extension): POSTs the event as JSON to the function's URL, within its
 * timeout, without following redirects. A 2xx answer is success and its JSON body (or null) the payload;
 * any other status, a network error or the timeout is a failure. A failure body shaped like Lambda's
 * (`{"errorType", "errorMessage"}`) is passed on; other bodies are not, so a server's error page never ends up
 * in a rotation's recorded error.
 */
export async function runHttpFunction(record: FunctionRecord, event: unknown, requestId: string, logger: Logger): Promise<Execution> {
  if (!record.url) return failed('Runtime.InvalidEntrypoint', 'The function has no URL.');
  const timeoutMs = record.timeoutSeconds * 1000;
  let response: Response;
  let body: string;
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    response = await fetch(record.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Coffer',
        'x-coffer-request-id': requestId,
        'x-coffer-function-arn': record.arn,
      },
      body: JSON.stringify(event ?? null),
    });
    body = await readBounded(response, MAX_RESPONSE_BYTES);
  } catch (error) {
    if (isTimeout(error)) return timedOut(record.timeoutSeconds);
    if (error instanceof ResponseTooLarge) {
      return failed('Function.ResponseSizeTooLarge', `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`);
    }
    const reason = networkReason(error);
    logger.debug('HTTP function unreachable', { functionName: record.name, requestId, reason });
    return failed('Function.HttpRequestFailed', `The POST to the function URL failed: ${reason}`);
  }
  const parsed = parseJson(body);
  if (response.status >= 200 && response.status < 300) {
    return { outcome: { ok: true, payload: parsed.ok ? parsed.value : null }, logTail: '' };
  }
  const reported = parsed.ok && isErrorDocument(parsed.value) ? parsed.value : undefined;
  if (reported) {
    return { outcome: { ok: false, errorType: reported.errorType, errorMessage: reported.errorMessage }, errorDocument: reported, logTail: '' };
  }
  return failed('Function.HttpError', `The function URL answered HTTP ${response.status}.`);
}

class ResponseTooLarge extends Error {}

async function readBounded(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) {
      await response.body.cancel().catch(() => {});
      throw new ResponseTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isErrorDocument(value: unknown): value is { errorType: string; errorMessage: string } & Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const document = value as Record<string, unknown>;
  return typeof document.errorType === 'string' && typeof document.errorMessage === 'string';
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** The cause's code (ECONNREFUSED, ENOTFOUND, ...) without the URL, which may carry a token. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'unknown error';
}
