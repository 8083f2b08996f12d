import { commonError, type AwsError } from '../../core/index.js';

/**
 * Errors that mean the database could not be reached or the connection was lost (refused, reset, timed out,
 * the server shutting down or in recovery, a standby that cannot take writes), as opposed to the database
 * answering a statement with an error. The driver's own codes come first, then SQLSTATEs: 57P01-57P03 admin
 * shutdown / crash shutdown / cannot connect now, class 08 connection exceptions, 25006 read-only transaction
 * (a demoted primary), 53300 too many connections.
 */
const DRIVER_CODES = /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|QUERY_TIMEOUT|QUEUE_TIMEOUT)$/;
const SQLSTATES = /^(57P0[123]|08\w{3}|25006|53300)$/;

export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (DRIVER_CODES.test(code) || SQLSTATES.test(code));
}

/**
 * What a caller of the API gets when the database is unreachable (or a transaction kept losing conflicts past
 * its retry budget, transaction.ts): AWS's retryable 503, at once (the driver's
 * connect and query timeouts bound the wait), never a hang and never a guess. Whether a write whose COMMIT was
 * cut off took effect is unknown; a retry with the same ClientRequestToken is what settles it, as on AWS.
 */
export function unavailable(error: unknown): AwsError {
  const code = (error as { code?: unknown }).code;
  const why = isUnreachable(error) ? 'its database cannot be reached' : 'too many concurrent changes to the same resource';
  return Object.assign(commonError('ServiceUnavailable', `The service is temporarily unavailable (${why}: ${String(code)}). Retry the request.`), { cause: error });
}
