/**
 * The shapes of the policy language after parsing, the findings reported about a document, and the request an
 * evaluation is asked about. Lists in the JSON that may be a single string are always arrays here.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
export const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;
export type PolicyVersion = (typeof POLICY_VERSIONS)[number];

export const EFFECTS = ['Allow', 'Deny'] as const;
export type Effect = (typeof EFFECTS)[number];

export const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** `"*"` or a map of principal type to values (`{"AWS": "123456789012"}` becomes `{ AWS: ['123456789012'] }`). */
export type PrincipalSpec = '*' | { readonly [type in PrincipalType]?: readonly string[] };

/** operator (with any ForAnyValue:/ForAllValues: prefix and IfExists suffix) → context key → policy values. */
export type ConditionBlock = { readonly [operator: string]: { readonly [key: string]: readonly string[] } };

export type PolicyStatement = {
  readonly Sid?: string;
  readonly Effect: Effect;
  readonly Principal?: PrincipalSpec;
  readonly NotPrincipal?: PrincipalSpec;
  readonly Action?: readonly string[];
  readonly NotAction?: readonly string[];
  readonly Resource?: readonly string[];
  readonly NotResource?: readonly string[];
  readonly Condition?: ConditionBlock;
};

export type PolicyDocument = {
  readonly Version?: PolicyVersion;
  readonly Id?: string;
  readonly Statement: readonly PolicyStatement[];
};

/** The finding types of IAM Access Analyzer's ValidatePolicy. */
export const FINDING_TYPES = ['ERROR', 'SECURITY_WARNING', 'SUGGESTION', 'WARNING'] as const;
export type FindingType = (typeof FINDING_TYPES)[number];

/** One step of a path into the document, like Access Analyzer's PathElement (`value` or `index`). */
export type PathElement = { readonly Value: string } | { readonly Index: number };

/**
 * A finding in the style of IAM Access Analyzer's ValidatePolicyFinding.
 * https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_ValidatePolicyFinding.html
 */
export type PolicyFinding = {
  readonly FindingType: FindingType;
  readonly IssueCode: string;
  readonly FindingDetails: string;
  readonly Location?: { readonly Path: readonly PathElement[] };
};

/** A request context value; `undefined` means the key is absent. Numbers and booleans are compared as strings. */
export type ContextValue = string | readonly string[] | boolean | number | undefined;
export type RequestContextValues = { readonly [key: string]: ContextValue };

export type RequestPrincipal = {
  /** The caller's ARN: `arn:aws:iam::<acct>:user/<name>`, `arn:aws:iam::<acct>:root`, `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  readonly arn: string;
  readonly accountId: string;
  /** For an assumed-role session: the role's ARN, which a policy's Principal names to mean every session of the role. */
  readonly roleArn?: string;
  /** For an AWS service principal (`secretsmanager.amazonaws.com`): matched by `Principal: {Service: ...}`. */
  readonly service?: string;
  /**
   * For a federated caller (AssumeRoleWithWebIdentity): the identity provider's ARN, matched only by
   * `Principal: {Federated: ...}` (or `"*"`), never by AWS account or ARN entries.
   */
  readonly federated?: string;
};

export type AuthorizationRequest = {
  readonly principal: RequestPrincipal;
  /** `service:Action`, for example `kms:Decrypt`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without a resource. */
  readonly resource: string;
  readonly context: RequestContextValues;
};
