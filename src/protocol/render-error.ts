import { AwsError } from '../core/index.js';

export type RenderedError = { status: number; code: string; body: string; fault: 'client' | 'server' };

/**
 * The only writer of error bodies. JSON 1.1 services get `{"__type", "message"}`; REST-JSON services (Lambda)
 * get the code in the `x-amzn-ErrorType` header and `{"Type", "message"}` in the body. An error that is not an
 * AwsError becomes the service's internal error with a generic message; the caller logs the real one with the
 * request id.
 */
export function renderError(error: unknown, internalErrorCode: string, requestId: string): RenderedError {
  const { status, code, fault, message } = describeError(error, internalErrorCode, requestId);
  return { status, code, fault, body: JSON.stringify({ __type: code, message }) };
}

/**
 * Lambda's error shape: `x-amzn-ErrorType: <Code>` and `{"Type": "User" | "Service", "message": "..."}`.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
 */
export function renderRestError(error: unknown, internalErrorCode: string, requestId: string): RenderedError & { headers: Record<string, string> } {
  const { status, code, fault, message } = describeError(error, internalErrorCode, requestId);
  return {
    status,
    code,
    fault,
    headers: { 'x-amzn-ErrorType': code },
    body: JSON.stringify({ Type: fault === 'client' ? 'User' : 'Service', message }),
  };
}

function describeError(error: unknown, internalErrorCode: string, requestId: string) {
  if (error instanceof AwsError) return { status: error.status, code: error.code, fault: error.fault, message: error.message };
  return { status: 500, code: internalErrorCode, fault: 'server' as const, message: `An internal error occurred. Request id: ${requestId}` };
}
