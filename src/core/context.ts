import type { Clock } from './clock.js';

/** Who is calling: resolved from the SigV4 access key by auth. */
export type Principal = {
  accountId: string;
  arn: string;
  accessKeyId: string;
  /**
   * Set for temporary (ASIA) credentials, STS sessions and a function's keys: when they were issued, the
   * policy key aws:TokenIssueTime. Undefined for long-term keys.
   */
  tokenIssuedAt?: Date;
};

/** Everything an operation may know about the call besides its input. */
export type RequestContext = {
  requestId: string;
  principal: Principal;
  region: string;
  clock: Clock;
  sourceIp?: string;
  userAgent?: string;
  /** True when the request came over TLS (aws:SecureTransport); Coffer's listener is plain HTTP today. */
  secureTransport?: boolean;
  /** Set when an AWS service (Secrets Manager) calls KMS on the caller's behalf: the kms:ViaService value. */
  viaService?: string;
  /**
   * Shared by every context derived from one call (copies keep the reference): the authorizer counts its checks
   * here, and the pipeline refuses an operation declared to authorize itself that never did.
   */
  access?: AccessLedger;
};

export type AccessLedger = {
  checks: number;
  /** The caller's identity policies, loaded once per call by the authorizer (opaque to everyone else). */
  identity?: unknown;
  /**
   * The resources the call's checks were about, for its audit event: each allowed resource's ARN, or for a refusal
   * the ARN formed from the caller's own request (never a resolved secret suffix or alias target).
   */
  resources?: Array<{ arn: string; accountId: string }>;
};
