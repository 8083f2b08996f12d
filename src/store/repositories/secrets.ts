import type { Tag } from '../records/common.js';
import type {
  LabelPlanner,
  PagedSecret,
  ReplicaState,
  ReplicaSyncOutcome,
  SecretAccessRecord,
  SecretPageRequest,
  SecretPatch,
  SecretRecord,
  SecretReplicaRecord,
  SecretRotation,
  SecretVersionRecord,
  VersionDataKey,
} from '../records/secrets.js';

/**
 * Secrets with their versions, staging labels, tags, resource policies and rotation configuration: what
 * secrets owns.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface SecretsRepository {
  /**
   * Creates a secret with its tags and, when given, its first version labelled AWSCURRENT, all or nothing.
   * When the name is taken in that account and region (also by a secret pending deletion), nothing is
   * written and the existing secret is returned.
   */
  createSecret(
    secret: SecretRecord,
    tags: Tag[],
    firstVersion?: Omit<SecretVersionRecord, 'stages'>,
  ): Promise<{ created: true } | { created: false; existing: SecretRecord }>;
  getSecretByArn(arn: string): Promise<SecretRecord | undefined>;
  getSecretByName(accountId: string, region: string, name: string): Promise<SecretRecord | undefined>;
  /**
   * One page of an account and region's secrets, sorted in the database, with tags and version labels:
   * what an unfiltered ListSecrets needs, without reading the other secrets. The page starts after the cursor
   * `after` (of the same sort order) or, for a token from before cursors, at `offset`. Secrets whose recovery
   * window ended by `now` are left out; those marked deleted too unless `includeDeleted`.
   */
  listSecretPage(accountId: string, region: string, page: SecretPageRequest): Promise<PagedSecret[]>;
  /** Every secret of an account and region with its tags (no labels), in creation order: for filtering. */
  listSecrets(accountId: string, region: string): Promise<Array<SecretRecord & { tags: Tag[] }>>;
  /** The version labels of the given secrets: secret ARN → version id → labels. */
  listVersionStages(secretArns: string[]): Promise<Record<string, Record<string, string[]>>>;
  /**
   * Marks a live secret deleted with its scheduled deletion date; undefined when absent, already deleted, or
   * it has replica rows (tested in the same statement, so a concurrent addSecretReplicas never leaves a deleted
   * primary with replicas: one of the two finds the other's write).
   */
  markSecretDeleted(arn: string, deletedDate: Date, scheduledDeletionDate: Date): Promise<SecretRecord | undefined>;
  /** Clears the deletion mark; undefined when the secret is absent. */
  restoreSecret(arn: string): Promise<SecretRecord | undefined>;
  /** Sets the secret's resource policy text, or removes it with undefined; undefined when the secret is absent. */
  setSecretResourcePolicy(arn: string, policy: string | undefined): Promise<SecretRecord | undefined>;
  /**
   * Removes a secret with its versions and tags for good. False, changing nothing, when it is absent or the
   * primary of replicas (tested in the same transaction, so a concurrent addSecretReplicas never leaves
   * replicas without their primary).
   */
  destroySecret(arn: string): Promise<boolean>;
  listSecretsDueForDeletion(now: Date, limit: number): Promise<SecretRecord[]>;
  /** Sets LastAccessedDate (kept to the day) of each secret and version named, in one transaction. */
  recordSecretAccesses(accesses: readonly SecretAccessRecord[]): Promise<void>;
  /**
   * Adds a version and applies the planner's label moves and prunes in one transaction. When the version id
   * exists already with a value, nothing changes and the existing version is returned (idempotent retries);
   * when it exists as a value-less placeholder, a version with a value fills it in.
   * The planner runs inside the transaction on the labels as they are then; it must be pure and may throw
   * an AwsError to refuse, which rolls everything back.
   */
  putSecretVersion(
    version: Omit<SecretVersionRecord, 'stages'>,
    planner: LabelPlanner,
    lastChangedDate: Date,
  ): Promise<{ inserted: true } | { inserted: false; existing: SecretVersionRecord }>;
  /** Applies the planner's label moves to existing versions in one transaction (same rules as above). */
  updateSecretLabels(secretArn: string, planner: LabelPlanner, lastChangedDate: Date): Promise<void>;
  /**
   * Applies the patch and adds a newly wrapped data key to each named version, in one transaction: how a
   * change of the secret's KMS key re-encrypts its labelled versions while the old wrapping stays usable.
   */
  rewrapSecretVersions(
    secretArn: string,
    dataKeys: Array<{ versionId: string; dataKey: VersionDataKey }>,
    patch: SecretPatch,
  ): Promise<SecretRecord | undefined>;
  getSecretVersion(secretArn: string, versionId: string): Promise<SecretVersionRecord | undefined>;
  getSecretVersionByStage(secretArn: string, stage: string): Promise<SecretVersionRecord | undefined>;
  /** Every version of a secret with its labels, newest first. */
  listSecretVersions(secretArn: string): Promise<SecretVersionRecord[]>;
  putSecretTags(arn: string, tags: Tag[]): Promise<void>;
  removeSecretTags(arn: string, tagKeys: string[]): Promise<void>;
  listSecretTags(arn: string): Promise<Tag[]>;
  /** Replaces a secret's rotation configuration and schedule; undefined when the secret is absent. */
  setSecretRotation(arn: string, rotation: SecretRotation): Promise<SecretRecord | undefined>;

  // Replication (replica secrets in other Regions of the same account). A replica is a secret row of its own
  // whose primary_region is not its region; the primary keeps one secret_replicas row per Region.
  /**
   * Lists Regions for a primary (status InProgress, generation 0), only while the primary exists and is not
   * marked deleted. A Region already listed is left as it is (the primary key refuses a second row). Returns
   * the Regions added.
   */
  addSecretReplicas(primaryArn: string, replicas: Array<Pick<SecretReplicaRecord, 'region' | 'replicaArn' | 'kmsKeyId' | 'forceOverwrite'>>): Promise<string[]>;
  /** The replica rows of each primary named (with each replica's LastAccessedDate), by Region. */
  listSecretReplicas(primaryArns: string[]): Promise<Record<string, SecretReplicaRecord[]>>;
  /** Replica rows not InSync (failed, or a sync that never finished), oldest generation first: for the sweep. */
  listSecretReplicasToSync(limit: number): Promise<SecretReplicaRecord[]>;
  /** Starts a sync: generation + 1 and status InProgress. Returns the new generation; undefined when the row is gone. */
  beginReplicaSync(primaryArn: string, region: string): Promise<number | undefined>;
  /**
   * Makes the replica hold exactly `state`, in one transaction, if `generation` is still the row's: creates the
   * replica secret (replacing the secret holding its name when the row says forceOverwrite), or updates its
   * metadata, replaces its tags, inserts and fills versions, deletes versions the state lacks, sets every label
   * as in the state; then status InSync. See ReplicaSyncOutcome.
   */
  applyReplicaSync(primaryArn: string, region: string, generation: number, state: ReplicaState, nameTakenMessage: string): Promise<ReplicaSyncOutcome>;
  /** Status Failed with `message`, if `generation` is still the row's. */
  failReplicaSync(primaryArn: string, region: string, generation: number, message: string): Promise<void>;
  /**
   * A replica's own encryption key (UpdateSecret in the replica's Region): the primary's row for that Region
   * names it, and every later sync seals with it and sets it on the replica (applyReplicaSync reads it from the
   * row). False when the Region is not (or no longer) listed.
   */
  setReplicaKmsKey(primaryArn: string, region: string, kmsKeyId: string | undefined): Promise<boolean>;
  /** Deletes the rows of those Regions and, in the same transaction, their replica secrets (immediately, no window). */
  removeSecretReplicas(primaryArn: string, regions: string[]): Promise<void>;
  /**
   * StopReplicationToReplica: the replica becomes a standalone secret (its primary_region its own region) and
   * its primary's row for that Region goes, in one transaction. Undefined when it is not (or no longer) a replica.
   */
  promoteReplicaSecret(replicaArn: string, primaryArn: string): Promise<SecretRecord | undefined>;
}
