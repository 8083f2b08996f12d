import type { Tag } from './common.js';

/**
 * What Secrets Manager keeps: secrets, versions and labels, rotation configuration, list pages.
 * Domain records, not rows (see ../records.ts).
 */

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
  /** false: each secret's versionStages is left empty, not read (a filtered listing reads them for its page only). */
  labels?: boolean;
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
/**
 * A planner gets every version of the secret. One may also offer `fromHolders`, which the store may ask first
 * when it can read that cheaply: the versions that hold a label (without their dates) and how many versions the
 * secret has, the one being written included. It answers the plan, or undefined when it needs every version
 * (to prune past 100 deprecated ones); the store then calls the planner itself. Reading every version on every
 * put cost O(versions of the secret), and a secret keeps its deprecated versions for 24 hours (issue 21).
 */
export type LabelHolders = { labeled: Array<Pick<VersionLabels, 'versionId' | 'stages'>>; versionCount: number };
export type LabelPlanner = ((versions: VersionLabels[]) => LabelPlan) & { fromHolders?: (holders: LabelHolders) => LabelPlan | undefined };

/** One GetSecretValue's LastAccessedDate update: the secret, the version read, the day. */
export type SecretAccessRecord = { readonly arn: string; readonly versionId: string; readonly accessedDate: Date };

/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicationStatusType.html */
export type ReplicationStatus = 'InSync' | 'Failed' | 'InProgress';

/** One Region a primary secret is replicated to (the primary's side of the link). */
export type SecretReplicaRecord = {
  primaryArn: string;
  region: string;
  /** The replica's ARN: the primary's with this Region (same name, same six-character suffix). */
  replicaArn: string;
  /** The replica's KmsKeyId as the caller gave it; undefined means that Region's aws/secretsmanager key. */
  kmsKeyId?: string;
  status: ReplicationStatus;
  statusMessage?: string;
  /** ForceOverwriteReplicaSecret as given when the Region was added: a secret holding the name is replaced. */
  forceOverwrite: boolean;
  /** Grows with every sync begun; a sync's result is applied only while it is still the newest (applyReplicaSync). */
  generation: number;
  /** The replica secret's LastAccessedDate, read from its row (undefined while it has none or does not exist). */
  lastAccessedDate?: Date;
};

/** A version as a replica holds it: its primary's id, date, type and labels, sealed under the replica's key. */
export type ReplicaVersion = {
  versionId: string;
  createdDate: Date;
  valueType: SecretValueType;
  stages: string[];
  /** The primary's version has a value (false for a rotation's AWSPENDING placeholder). */
  hasValue: boolean;
  /** The value sealed for the replica; undefined when the replica already holds it (or it has none). */
  sealed?: { dataKeys: VersionDataKey[]; sealedValue: Buffer };
};

/** Everything a replica must hold after a sync: its record (metadata copied from the primary), tags, versions. */
export type ReplicaState = { secret: SecretRecord; tags: Tag[]; versions: ReplicaVersion[] };

/**
 * What applyReplicaSync did: applied (the replica now mirrors the state, status InSync); stale (a newer sync
 * began, the Region was removed, the replica promoted, or a version the state assumed present is missing:
 * nothing written); name-taken (another secret holds the name in that Region and overwriting was not asked
 * for: status Failed with `message`, nothing else written).
 */
export type ReplicaSyncOutcome = 'applied' | 'stale' | 'name-taken';
