import { AwsError } from '../core/index.js';

export type RenderedError = { status: number; code: string; body: string; fault: 'client' | 'server' };

/**
 * The only writer of `{"__type", "message"}`. An error that is not an AwsError becomes the service's internal
 * error with a generic message; the caller logs the real one with the request id.
 */
export function renderError(error: unknown, internalErrorCode: string, requestId: string): RenderedError {
  if (error instanceof AwsError) {
    return { status: error.status, code: error.code, fault: error.fault, body: JSON.stringify({ __type: error.code, message: error.message }) };
  }
  const message = `An internal error occurred. Request id: ${requestId}`;
  return { status: 500, code: internalErrorCode, fault: 'server', body: JSON.stringify({ __type: internalErrorCode, message }) };
}
