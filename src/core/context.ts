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
  /** What an STS session carries besides its principal: session policies, session tags, source identity. */
  session?: SessionAttributes;
};

/**
 * The attributes a role session was given when it was made (AssumeRole, AssumeRoleWithWebIdentity), kept with
 * its access key and read on every request made with it.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
 */
export type SessionAttributes = {
  /** Inline session policy (AssumeRole's Policy) as JSON text: the session may do only what it and the identity side allow. */
  policy?: string;
  /** Managed policies named as session policies (PolicyArns), resolved when a request is decided. */
  policyArns?: string[];
  /** Session tags: aws:PrincipalTag/<key>, in place of the role's tag of the same key. */
  tags?: Array<{ Key: string; Value: string }>;
  /** Tag keys that pass on to the sessions this session assumes (role chaining). */
  transitiveTagKeys?: string[];
  /** aws:SourceIdentity: set once, then passed on to every session assumed from this one. */
  sourceIdentity?: string;
  /** A web identity session: the provider's ARN and the token's claims that conditions may test. */
  webIdentity?: { providerArn: string; subject: string; audience: string; issuer: string; amr?: string[] };
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
