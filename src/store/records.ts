/**
 * The shapes the store persists. They are domain records, not rows: dates are Dates, blobs are Buffers,
 * and nothing here says which database holds them.
 */

/** https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html */
export const KEY_STATES = [
  'Creating',
  'Enabled',
  'Disabled',
  'PendingDeletion',
  'PendingImport',
  'PendingReplicaDeletion',
  'Unavailable',
  'Updating',
] as const;
export type KeyState = (typeof KEY_STATES)[number];

export type Tag = { TagKey: string; TagValue: string };

export type KeyRecord = {
  keyId: string;
  accountId: string;
  region: string;
  arn: string;
  description: string;
  keyUsage: string;
  keySpec: string;
  origin: string;
  keyManager: 'CUSTOMER' | 'AWS';
  keyState: KeyState;
  creationDate: Date;
  /** Set while PendingDeletion: when the key is destroyed. */
  deletionDate?: Date;
  pendingWindowDays?: number;
  policy: string;
  rotationEnabled: boolean;
  rotationPeriodDays?: number;
  nextRotationDate?: Date;
  /** The backing key that seals new ciphertexts; older ones stay for Decrypt. */
  currentBackingKeyId: string;
};

/** Fields an operation may change on an existing key. */
export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    | 'description'
    | 'keyState'
    | 'deletionDate'
    | 'pendingWindowDays'
    | 'policy'
    | 'rotationEnabled'
    | 'rotationPeriodDays'
    | 'nextRotationDate'
  >
>;

export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';

export type BackingKeyRecord = {
  keyId: string;
  backingKeyId: string;
  /** Key material sealed under the root key, bound to key ARN + backing key id. */
  sealedMaterial: Buffer;
  createdAt: Date;
  /** Absent for the material the key was created with. */
  rotationType?: RotationType;
};

export type AliasRecord = {
  accountId: string;
  region: string;
  aliasName: string;
  targetKeyId: string;
  creationDate: Date;
  lastUpdatedDate: Date;
};

/** A grant's encryption-context constraints, as CreateGrant's Constraints structure holds them. */
export type GrantConstraints = {
  EncryptionContextSubset?: Record<string, string>;
  EncryptionContextEquals?: Record<string, string>;
};

/** A KMS grant: lets its grantee use the key for the listed operations. Dies with its key. */
export type GrantRecord = {
  grantId: string;
  keyId: string;
  keyArn: string;
  name?: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  /** The root ARN of the account that issued the grant (the key's account). */
  issuingAccount: string;
  operations: string[];
  constraints?: GrantConstraints;
  creationDate: Date;
  /**
   * The grant's parameters in one canonical string: a named CreateGrant retried with identical parameters
   * finds the grant it made (insert-or-get on key, name and fingerprint).
   */
  fingerprint: string;
};

export type AccessKeyRecord = {
  accessKeyId: string;
  accountId: string;
  principalArn: string;
  /** The secret access key sealed under the root key: SigV4 verification needs it back. */
  sealedSecret: Buffer;
  createdAt: Date;
  /** Set for the short-lived keys Coffer hands to rotation functions and STS sessions. */
  expiresAt?: Date;
  /** The IAM user owning the key (its user id); undefined for root keys and temporary keys. */
  userId?: string;
  /** Inactive keys do not authenticate (UpdateAccessKey); absent means Active. */
  status?: AccessKeyStatus;
  /** SHA-256 (hex) of an STS session token: requests signed with the key must carry the token. */
  sessionTokenHash?: string;
};

export const ACCESS_KEY_STATUSES = ['Active', 'Inactive'] as const;
export type AccessKeyStatus = (typeof ACCESS_KEY_STATUSES)[number];

/** IAM users and roles: https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html, API_Role.html */
export type IamPrincipalKind = 'user' | 'role';

export type IamUserRecord = {
  accountId: string;
  userName: string;
  /** AIDA… */
  userId: string;
  arn: string;
  path: string;
  createdAt: Date;
  tags: IamTag[];
};

export type IamRoleRecord = {
  accountId: string;
  roleName: string;
  /** AROA… */
  roleId: string;
  arn: string;
  path: string;
  /** The trust policy as JSON text. */
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDurationSeconds: number;
  createdAt: Date;
  tags: IamTag[];
};

export type IamTag = { Key: string; Value: string };

/** A user's or role's inline policy. */
export type InlinePolicyRecord = { policyName: string; document: string };

/** What the identity side of authorization reads about a user or role. */
/** A user or role as authorization reads it; `id` is its unique id (AIDA…/AROA…), the aws:userid policy key. */
export type IamIdentityRecord = { id: string; arn: string; policyDocuments: string[]; tags: Record<string, string> };

/** Why DeleteUser / DeleteRole did nothing (IAM's DeleteConflict names what is still attached). */
export type IamDeleteOutcome = 'deleted' | 'absent' | 'has-access-keys' | 'has-policies';

export type UserAccessKeyOutcome = 'created' | 'limit-exceeded' | 'no-such-user';

export type Page<T> = { items: T[]; nextMarker?: string };

export type SecretRecord = {
  arn: string;
  accountId: string;
  region: string;
  name: string;
  description?: string;
  /** The KmsKeyId as the caller gave it; undefined means the account's aws/secretsmanager key. */
  kmsKeyId?: string;
  createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  /** Set while the secret waits out its recovery window. */
  deletedDate?: Date;
  scheduledDeletionDate?: Date;
  owningService?: string;
  primaryRegion: string;
  /** The resource policy's JSON text (PutResourcePolicy); undefined when the secret has none. */
  resourcePolicy?: string;
} & SecretRotation;

/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html */
export type RotationRules = { AutomaticallyAfterDays?: number; Duration?: string; ScheduleExpression?: string };

/** A secret's rotation configuration and schedule. The window is [nextRotationDate, nextRotationWindowEnd). */
export type SecretRotation = {
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  lastRotatedDate?: Date;
  nextRotationDate?: Date;
  nextRotationWindowEnd?: Date;
};

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/**
 * One rotation of one secret: which step it has reached, how often it failed, and when to try again.
 * A lease lets exactly one node drive it at a time.
 */
export type RotationRunRecord = {
  secretArn: string;
  /** The ClientRequestToken of the rotation: the VersionId of the new version. */
  token: string;
  /** running: being tried (again); failed: gave up until a new RotateSecret; cancelled by CancelRotateSecret. */
  status: 'running' | 'failed' | 'succeeded' | 'cancelled';
  step: RotationStep;
  attempts: number;
  lastError?: string;
  startedAt: Date;
  updatedAt: Date;
  nextAttemptAt: Date;
  leaseOwner?: string;
  leaseExpiresAt?: Date;
};

export type RotationRunPatch = Partial<Pick<RotationRunRecord, 'status' | 'step' | 'attempts' | 'lastError' | 'updatedAt' | 'nextAttemptAt'>>;

/** A KMS envelope: the data key as KMS wrapped it, and the value sealed with that data key (iv | tag | ciphertext). */
export type SealedEnvironment = { kmsKeyArn: string; encryptedDataKey: Buffer; sealedValue: Buffer };

/**
 * A rotation function hosted by Coffer: a zip run as a child process, a URL Coffer POSTs to, or one of
 * Coffer's built-in rotators (named by `handler`).
 */
export type FunctionRecord = {
  arn: string;
  accountId: string;
  region: string;
  name: string;
  kind: 'zip' | 'http' | 'builtin';
  runtime?: string;
  handler?: string;
  codeZip?: Buffer;
  codeSha256?: string;
  codeSize: number;
  /**
   * The URL and Environment.Variables in clear: only on rows written before variables were sealed, until the
   * server's start seals them (functions/environment-sealing.ts); the functions service writes them empty.
   */
  url?: string;
  environment: Record<string, string>;
  /** Environment.Variables (with an HTTP function's URL) sealed under KMS; absent when there are none. */
  sealedEnvironment?: SealedEnvironment;
  /** KMSKeyArn as the caller gave it; absent: the account's AWS managed key `alias/aws/lambda`. */
  kmsKeyArn?: string;
  timeoutSeconds: number;
  description: string;
  role?: string;
  createdAt: Date;
  lastModified: Date;
  revisionId: string;
};

/** What updateFunction may change; a field present with `undefined` clears it. */
export type FunctionPatch = Partial<
  Pick<
    FunctionRecord,
    'codeZip' | 'codeSha256' | 'codeSize' | 'url' | 'runtime' | 'handler' | 'environment' | 'sealedEnvironment' | 'kmsKeyArn' | 'timeoutSeconds' | 'description' | 'lastModified' | 'revisionId'
  >
>;

/** How ListSecrets orders secrets. */
export type SecretSort = 'created-date' | 'last-accessed-date' | 'last-changed-date' | 'name';

/** A secret as ListSecrets shows it: with its tags and the labels of its versions (versionId → labels). */
export type ListedSecret = SecretRecord & { tags: Tag[]; versionStages: Record<string, string[]> };

/**
 * A secret's place in a ListSecrets order: its sort value (epoch milliseconds, -1 for a secret never accessed
 * when sorting by last-accessed date, or the name) and a tiebreaker that only grows. A page asked to start
 * after a cursor reads only its own rows, however deep into the list it is (keyset paging).
 */
export type SecretListCursor = { readonly sortValue: number | string; readonly position: number };

export type SecretPageRequest = {
  includeDeleted: boolean;
  now: Date;
  sortBy: SecretSort;
  descending: boolean;
  /** Start after this secret's place (a cursor of the same sortBy and direction). */
  after?: SecretListCursor;
  /** Skip this many first (a NextToken from before cursors); ignored when `after` is given. */
  offset?: number;
  limit: number;
};

/** A listed secret with its place in the order it was listed in. */
export type PagedSecret = ListedSecret & { cursor: SecretListCursor };

export type SecretPatch = Partial<Pick<SecretRecord, 'description' | 'kmsKeyId' | 'lastChangedDate'>>;

export type SecretValueType = 'string' | 'binary';

/** The version's data key as one KMS key wrapped it (a KMS ciphertext blob); its plaintext is never stored. */
export type VersionDataKey = {
  kmsKeyArn: string;
  encryptedDataKey: Buffer;
  /** Wrapped by the account's aws/secretsmanager key because the secret named no key. */
  defaultKey: boolean;
};

export type SecretVersionRecord = {
  secretArn: string;
  versionId: string;
  /** Newest first. One entry at creation; another each time the secret's key changes while this version is labelled. */
  dataKeys: VersionDataKey[];
  /** The value sealed with the data key (iv | tag | ciphertext). */
  /**
   * The value sealed with the data key (iv | tag | ciphertext). Absent for the placeholder RotateSecret
   * creates under AWSPENDING before the rotation function writes the new value, as AWS does.
   */
  sealedValue?: Buffer;
  valueType: SecretValueType;
  createdDate: Date;
  lastAccessedDate?: Date;
  stages: string[];
};

/** The labels of every version of a secret, as the staging-label rules see them. */
export type VersionLabels = { versionId: string; createdDate: Date; stages: string[] };

/**
 * What a label change does, computed by a pure function from the current labels:
 * `moves` gives each touched stage its new holder (null removes it); `deleteVersions` prunes versions.
 */
export type LabelPlan = { moves: Array<{ stage: string; versionId: string | null }>; deleteVersions: string[] };
export type LabelPlanner = (versions: VersionLabels[]) => LabelPlan;

/** The LookupEvents attributes the store filters on (CloudTrail's LookupAttribute keys, minus EventCategory). */
export const AUDIT_LOOKUP_KEYS = ['EventId', 'EventName', 'EventSource', 'ReadOnly', 'Username', 'ResourceName', 'AccessKeyId'] as const;
export type AuditLookupKey = (typeof AUDIT_LOOKUP_KEYS)[number];

/**
 * One audit event as stored: the event's canonical JSON (`body`, what the hash covers), its place in the hash
 * chain, and copies of the fields LookupEvents filters on. The copies are checked against the body on verify.
 */
export type AuditEventRecord = {
  /** 1, 2, 3, …: the chain order; a constraint keeps it unique, so concurrent appends never fork the chain. */
  sequence: number;
  eventId: string;
  /** The account the call was made in (recipientAccountId); '' for calls that failed before a principal was known. */
  accountId: string;
  eventTime: Date;
  eventName: string;
  eventSource: string;
  readOnly: boolean;
  accessKeyId: string;
  username: string;
  resourceNames: string[];
  body: string;
  prevHash: string;
  hash: string;
};

export type AuditEventDraft = Omit<AuditEventRecord, 'sequence' | 'prevHash' | 'hash'>;

export type AuditLookup = {
  /** Only this account's events, as CloudTrail shows an account its own trail; undefined (local CLI only): all. */
  accountId: string | undefined;
  attribute?: { key: AuditLookupKey; value: string };
  startTime?: Date;
  endTime?: Date;
  /** Paging: only events with a smaller sequence (the page before ended there). */
  beforeSequence?: number;
  limit: number;
};

/** One GetSecretValue's LastAccessedDate update: the secret, the version read, the day. */
export type SecretAccessRecord = { readonly arn: string; readonly versionId: string; readonly accessedDate: Date };
