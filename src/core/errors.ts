/**
 * AwsError is the one error type that crosses module boundaries. Each service keeps its own table of codes
 * (kms/errors.ts, ...); protocol/render-error.ts is the only place that turns one into a wire body.
 */
export type Fault = 'client' | 'server';

export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: Fault;
  /**
   * The code goes on the wire as it is, never renamed to a protocol's name for a shared code (Query renames
   * ExpiredTokenException to ExpiredToken for an expired signing key; STS's AssumeRoleWithWebIdentity answers an
   * expired web identity token with ExpiredTokenException itself).
   */
  readonly exactCode: boolean;

  constructor(code: string, message: string, status = 400, options?: { cause?: unknown; exactCode?: boolean }) {
    super(message, options);
    this.name = code;
    this.code = code;
    this.status = status;
    this.fault = status >= 500 ? 'server' : 'client';
    this.exactCode = options?.exactCode ?? false;
  }
}

/**
 * Codes every AWS JSON service shares: the protocol and signature layers raise these before any service runs.
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 */
export const commonErrors = {
  SerializationException: 400,
  UnknownOperationException: 400,
  ValidationException: 400,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  UnrecognizedClientException: 400,
  InvalidSignatureException: 400,
  AccessDeniedException: 400,
  ExpiredTokenException: 400,
  RequestEntityTooLargeException: 413,
  ThrottlingException: 400,
  InternalFailure: 500,
  /** A temporary failure (the database cannot be reached): retryable, SDKs retry 503s by themselves. */
  ServiceUnavailable: 503,
} as const;

export type CommonErrorCode = keyof typeof commonErrors;

export function commonError(code: CommonErrorCode, message: string): AwsError {
  return new AwsError(code, message, commonErrors[code]);
}

/** Builds the typed constructor for one service's table, so a code from the wrong table is a type error. */
export function errorFactory<T extends Record<string, number>>(table: T) {
  return (code: keyof T & string, message: string): AwsError => new AwsError(code, message, table[code]);
}
