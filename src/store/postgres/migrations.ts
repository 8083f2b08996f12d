import type { PostgresMigration } from './migration-runner.js';

/**
 * The PostgreSQL schema, one migration per repository as it is ported (the SQLite schema's tables, same
 * names and columns). Dates are BIGINT epoch milliseconds, as the records' Dates carry milliseconds and the
 * SQLite backend stores them; Buffers are BYTEA; tag lists are JSON text. Uniqueness is a constraint, never
 * a check before an insert.
 */
export const postgresMigrations: readonly PostgresMigration[] = [
  {
    id: 1,
    name: 'meta',
    sql: `
      CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value BYTEA NOT NULL
      );
    `,
  },
  {
    id: 2,
    name: 'iam',
    sql: `
      CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        created_at BIGINT NOT NULL
      );
      INSERT INTO accounts (account_id, created_at) VALUES ('000000000000', 0);
      -- IAM names are unique per account regardless of case: name_key is the upper-cased name.
      CREATE TABLE iam_users (
        user_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        arn TEXT NOT NULL,
        path TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        tags TEXT NOT NULL,
        UNIQUE (account_id, name_key)
      );
      CREATE TABLE iam_roles (
        role_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        role_name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        arn TEXT NOT NULL,
        path TEXT NOT NULL,
        assume_role_policy TEXT NOT NULL,
        description TEXT,
        max_session_duration INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        tags TEXT NOT NULL,
        UNIQUE (account_id, name_key)
      );
      CREATE TABLE iam_user_policies (
        owner_id TEXT NOT NULL REFERENCES iam_users (user_id) ON DELETE CASCADE,
        policy_name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (owner_id, name_key)
      );
      CREATE TABLE iam_role_policies (
        owner_id TEXT NOT NULL REFERENCES iam_roles (role_id) ON DELETE CASCADE,
        policy_name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (owner_id, name_key)
      );
      -- A user's keys go with the user: a deleted user's key can never authenticate.
      CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        principal_arn TEXT NOT NULL,
        sealed_secret BYTEA NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        user_id TEXT REFERENCES iam_users (user_id) ON DELETE CASCADE,
        status TEXT NOT NULL DEFAULT 'Active',
        session_token_hash TEXT
      );
      CREATE INDEX access_keys_by_user ON access_keys (user_id) WHERE user_id IS NOT NULL;
      CREATE INDEX access_keys_by_account ON access_keys (account_id);
      CREATE INDEX access_keys_by_expiry ON access_keys (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    id: 3,
    name: 'kms',
    // Ids, alias names and tag keys page and sort in byte order (COLLATE "C"), as SQLite's TEXT does, so a
    // marker compares the same way whatever the database's default collation. A backing key's position
    // orders a key's backing keys (SQLite's rowid): the next one is counted inside the rotating transaction,
    // and the primary key on (key_id, position) refuses a duplicate, so no sequence is needed.
    sql: `
      CREATE TABLE kms_keys (
        key_id TEXT COLLATE "C" PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        key_usage TEXT NOT NULL,
        key_spec TEXT NOT NULL,
        origin TEXT NOT NULL,
        key_manager TEXT NOT NULL,
        key_state TEXT NOT NULL,
        creation_date BIGINT NOT NULL,
        deletion_date BIGINT,
        pending_window_days INTEGER,
        policy TEXT NOT NULL,
        rotation_enabled BOOLEAN NOT NULL,
        rotation_period_days INTEGER,
        next_rotation_date BIGINT,
        current_backing_key_id TEXT NOT NULL
      );
      CREATE INDEX kms_keys_by_scope ON kms_keys (account_id, region, key_id);
      CREATE INDEX kms_keys_by_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
      CREATE INDEX kms_keys_by_rotation ON kms_keys (next_rotation_date) WHERE rotation_enabled;
      CREATE TABLE kms_backing_keys (
        key_id TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        backing_key_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        sealed_material BYTEA NOT NULL,
        created_at BIGINT NOT NULL,
        rotation_type TEXT,
        PRIMARY KEY (key_id, backing_key_id),
        UNIQUE (key_id, position)
      );
      CREATE TABLE kms_key_tags (
        key_id TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        tag_key TEXT COLLATE "C" NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, tag_key)
      );
      CREATE TABLE kms_aliases (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        alias_name TEXT COLLATE "C" NOT NULL,
        target_key_id TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        creation_date BIGINT NOT NULL,
        last_updated_date BIGINT NOT NULL,
        PRIMARY KEY (account_id, region, alias_name)
      );
      CREATE INDEX kms_aliases_by_key ON kms_aliases (target_key_id);
      CREATE TABLE kms_grants (
        grant_id TEXT COLLATE "C" PRIMARY KEY,
        key_id TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        key_arn TEXT NOT NULL,
        name TEXT,
        grantee_principal TEXT NOT NULL,
        retiring_principal TEXT,
        issuing_account TEXT NOT NULL,
        operations TEXT NOT NULL,
        constraints TEXT,
        fingerprint TEXT NOT NULL,
        creation_date BIGINT NOT NULL
      );
      -- CreateGrant with a Name is idempotent: the same key, name and parameters find the existing grant.
      CREATE UNIQUE INDEX kms_grants_by_name ON kms_grants (key_id, name, fingerprint) WHERE name IS NOT NULL;
      CREATE INDEX kms_grants_by_grantee ON kms_grants (key_id, grantee_principal);
      CREATE INDEX kms_grants_by_retiring_principal ON kms_grants (retiring_principal, grant_id) WHERE retiring_principal IS NOT NULL;
    `,
  },
  {
    id: 4,
    name: 'secrets',
    // list_position orders a secret among its account and region's secrets in creation order (SQLite's rowid,
    // which ListSecrets' cursor carries to break ties): the next one is counted inside the creating
    // transaction, and the UNIQUE constraint refuses a duplicate, so no sequence is needed (Aurora DSQL has
    // none). A version's position does the same among its secret's versions. The rotation columns are
    // here because SecretsRepository sets them (setSecretRotation); the runs come with the rotation port.
    sql: `
      CREATE TABLE secrets (
        arn TEXT COLLATE "C" PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        list_position BIGINT NOT NULL,
        description TEXT,
        kms_key_id TEXT,
        created_date BIGINT NOT NULL,
        last_changed_date BIGINT NOT NULL,
        last_accessed_date BIGINT,
        deleted_date BIGINT,
        scheduled_deletion_date BIGINT,
        owning_service TEXT,
        primary_region TEXT NOT NULL,
        resource_policy TEXT,
        rotation_enabled BOOLEAN NOT NULL DEFAULT FALSE,
        rotation_lambda_arn TEXT,
        rotation_rules TEXT,
        last_rotated_date BIGINT,
        next_rotation_date BIGINT,
        next_rotation_window_end BIGINT,
        UNIQUE (account_id, region, name),
        UNIQUE (account_id, region, list_position)
      );
      CREATE INDEX secrets_by_creation ON secrets (account_id, region, created_date, list_position);
      CREATE INDEX secrets_by_last_changed ON secrets (account_id, region, last_changed_date, list_position);
      CREATE INDEX secrets_by_last_accessed ON secrets (account_id, region, (coalesce(last_accessed_date, -1)), list_position);
      CREATE INDEX secrets_by_deletion ON secrets (scheduled_deletion_date) WHERE scheduled_deletion_date IS NOT NULL;
      CREATE INDEX secrets_by_next_rotation ON secrets (next_rotation_date) WHERE rotation_enabled;
      CREATE TABLE secret_versions (
        secret_arn TEXT COLLATE "C" NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        version_id TEXT COLLATE "C" NOT NULL,
        position INTEGER NOT NULL,
        -- JSON list of {kmsKeyArn, encryptedDataKey (base64), defaultKey}, newest first (as in SQLite).
        data_keys TEXT NOT NULL,
        -- NULL for a rotation's AWSPENDING placeholder until the rotation function writes its value.
        sealed_value BYTEA,
        value_type TEXT NOT NULL,
        created_date BIGINT NOT NULL,
        last_accessed_date BIGINT,
        PRIMARY KEY (secret_arn, version_id),
        UNIQUE (secret_arn, position)
      );
      CREATE TABLE secret_version_stages (
        secret_arn TEXT COLLATE "C" NOT NULL,
        stage TEXT COLLATE "C" NOT NULL,
        version_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (secret_arn, stage),
        FOREIGN KEY (secret_arn, version_id) REFERENCES secret_versions (secret_arn, version_id) ON DELETE CASCADE
      );
      CREATE INDEX secret_version_stages_by_version ON secret_version_stages (secret_arn, version_id);
      CREATE TABLE secret_tags (
        secret_arn TEXT COLLATE "C" NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        tag_key TEXT COLLATE "C" NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (secret_arn, tag_key)
      );
    `,
  },
  {
    id: 5,
    name: 'rotation',
    sql: `
      CREATE TABLE rotation_runs (
        secret_arn TEXT COLLATE "C" NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        token TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL,
        step TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        started_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        lease_owner TEXT,
        lease_expires_at BIGINT,
        PRIMARY KEY (secret_arn, token)
      );
      -- At most one unfinished rotation per secret.
      CREATE UNIQUE INDEX rotation_runs_one_open ON rotation_runs (secret_arn) WHERE status IN ('running', 'failed');
      CREATE INDEX rotation_runs_due ON rotation_runs (next_attempt_at) WHERE status = 'running';
    `,
  },
  {
    id: 6,
    name: 'functions',
    // A function's variables (and an HTTP function's URL) sealed under KMS in the environment_* columns;
    // 'environment' keeps only what rows from before sealing had in clear (as in SQLite).
    sql: `
      CREATE TABLE functions (
        arn TEXT COLLATE "C" PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL,
        runtime TEXT,
        handler TEXT,
        code_zip BYTEA,
        code_sha256 TEXT,
        code_size INTEGER NOT NULL,
        url TEXT,
        environment TEXT NOT NULL,
        environment_key_arn TEXT,
        environment_data_key BYTEA,
        environment_sealed BYTEA,
        kms_key_arn TEXT,
        timeout_seconds INTEGER NOT NULL,
        description TEXT NOT NULL,
        role TEXT,
        created_at BIGINT NOT NULL,
        last_modified BIGINT NOT NULL,
        revision_id TEXT NOT NULL,
        UNIQUE (account_id, region, name)
      );
    `,
  },
  {
    id: 7,
    name: 'audit',
    // The audit log in the same database (SQLite keeps it in audit.db, behind one writer). The sequence is
    // the primary key: two appends that read the same chain end cannot both commit, so the chain never forks.
    // resource_names is an array, for LookupEvents' ResourceName.
    sql: `
      CREATE TABLE audit_events (
        sequence BIGINT PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        event_time BIGINT NOT NULL,
        event_name TEXT NOT NULL,
        event_source TEXT NOT NULL,
        read_only BOOLEAN NOT NULL,
        access_key_id TEXT NOT NULL,
        username TEXT NOT NULL,
        resource_names TEXT[] NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_events_by_account ON audit_events (account_id, sequence);
      CREATE INDEX audit_events_by_time ON audit_events (event_time);
    `,
  },
  {
    id: 8,
    name: 'rotation-lease-epoch',
    // The fencing token of a run's lease: every claim adds one, and the holder's writes name the epoch it
    // claimed with, so a node whose lease was taken over can no longer write to the run.
    sql: `
      ALTER TABLE rotation_runs ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
    `,
  },
  {
    id: 9,
    name: 'kms-multi-region-keys',
    // Multi-Region keys: each member (primary or replica) is its own row, stored under key_id '<mrk id>/<region>'
    // (store/records/kms.ts keyStoreId) so its backing keys, tags, aliases and grants keep referencing kms_keys
    // (key_id). multi_region_key_id is the public 'mrk-…' id shared by the members, primary_region the Region of
    // their primary; both NULL for single-Region keys.
    sql: `
      ALTER TABLE kms_keys ADD COLUMN multi_region_key_id TEXT;
      ALTER TABLE kms_keys ADD COLUMN primary_region TEXT;
      CREATE INDEX kms_keys_by_multi_region_key ON kms_keys (multi_region_key_id) WHERE multi_region_key_id IS NOT NULL;
    `,
  },
  {
    id: 10,
    name: 'audit-events-by-name',
    // KMS's GetKeyLastUsage asks for the newest successful event of a few operations on one key: per operation,
    // a walk back through that operation's events (store lastSuccessfulAuditEvent), not through the whole log.
    sql: `
      CREATE INDEX audit_events_by_name ON audit_events (event_name, sequence);
    `,
  },
  {
    id: 11,
    name: 'kms-imported-key-material',
    // Keys of imported material (Origin EXTERNAL): when the material expires, whether it does, and its
    // KeyMaterialId (an HMAC of the material, never the material), kept after a deletion so that only the same
    // material can be imported again. A key without material has current_backing_key_id ''.
    sql: `
      ALTER TABLE kms_keys ADD COLUMN valid_to BIGINT;
      ALTER TABLE kms_keys ADD COLUMN expiration_model TEXT;
      ALTER TABLE kms_keys ADD COLUMN key_material_id TEXT;
      CREATE INDEX kms_keys_by_material_expiry ON kms_keys (valid_to) WHERE valid_to IS NOT NULL;
    `,
  },
  {
    id: 12,
    name: 'secret-replicas',
    // A primary secret's replica Regions (ReplicateSecretToRegions). The replica itself is a row of secrets in
    // its Region whose primary_region is the primary's; generation orders the syncs of one replica so that only
    // the newest applies (SecretsRepository.applyReplicaSync).
    sql: `
      CREATE TABLE secret_replicas (
        primary_arn TEXT COLLATE "C" NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        region TEXT COLLATE "C" NOT NULL,
        replica_arn TEXT COLLATE "C" NOT NULL,
        kms_key_id TEXT,
        status TEXT NOT NULL,
        status_message TEXT,
        force_overwrite BOOLEAN NOT NULL DEFAULT FALSE,
        generation BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (primary_arn, region)
      );
      CREATE INDEX secret_replicas_to_sync ON secret_replicas (status) WHERE status <> 'InSync';
    `,
  },
  {
    id: 13,
    name: 'iam-managed-policies',
    // As SQLite's migration 14: customer managed policies, their versions, attachments of managed policies to
    // users, roles and later groups (by ARN: AWS managed policies have no row), and users' and roles' boundaries.
    sql: `
      CREATE TABLE iam_managed_policies (
        policy_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        policy_name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        description TEXT,
        default_version_id TEXT NOT NULL,
        next_version INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        tags TEXT NOT NULL,
        UNIQUE (account_id, name_key)
      );
      CREATE TABLE iam_managed_policy_versions (
        policy_id TEXT NOT NULL REFERENCES iam_managed_policies (policy_id) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        version_number INTEGER NOT NULL,
        document TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (policy_id, version_id)
      );
      CREATE TABLE iam_policy_attachments (
        account_id TEXT NOT NULL,
        entity_kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        policy_arn TEXT NOT NULL,
        PRIMARY KEY (entity_kind, entity_id, policy_arn)
      );
      CREATE INDEX iam_policy_attachments_by_policy ON iam_policy_attachments (account_id, policy_arn);
      ALTER TABLE iam_users ADD COLUMN permissions_boundary TEXT;
      ALTER TABLE iam_roles ADD COLUMN permissions_boundary TEXT;
    `,
  },
  {
    id: 14,
    name: 'access-key-session-attributes',
    // A role session's session policies, session tags, transitive tag keys and source identity (core
    // SessionAttributes) as JSON text, read back with the key on every request; NULL for every other key.
    sql: `
      ALTER TABLE access_keys ADD COLUMN session_attributes TEXT;
    `,
  },
  {
    id: 15,
    name: 'iam-groups',
    // IAM groups: a name unique per account regardless of case (name_key, as users and roles), members (a user
    // is in at most 10 groups: counted by the store), and inline policies shaped as users' and roles'. A group
    // renamed by UpdateGroup keeps its id, so members and policies follow it.
    sql: `
      CREATE TABLE iam_groups (
        group_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        group_name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        arn TEXT NOT NULL,
        path TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (account_id, name_key)
      );
      CREATE TABLE iam_group_members (
        group_id TEXT NOT NULL REFERENCES iam_groups (group_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES iam_users (user_id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      );
      CREATE INDEX iam_group_members_by_user ON iam_group_members (user_id);
      CREATE TABLE iam_group_policies (
        owner_id TEXT NOT NULL REFERENCES iam_groups (group_id) ON DELETE CASCADE,
        policy_name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (owner_id, name_key)
      );
    `,
  },
  {
    id: 16,
    name: 'iam-oidc-providers',
    // IAM OpenID Connect providers (AssumeRoleWithWebIdentity's issuers), per account, keyed by ARN. Client ids,
    // thumbprints and tags are JSON lists on the row (a provider has at most 100, 5 and 50); jwks is the
    // issuer's key set given by hand (coffer oidc set-jwks), NULL to fetch it from the issuer.
    sql: `
      CREATE TABLE iam_oidc_providers (
        account_id TEXT COLLATE "C" NOT NULL,
        arn TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        url TEXT NOT NULL,
        client_ids TEXT NOT NULL,
        thumbprints TEXT NOT NULL,
        tags TEXT NOT NULL,
        jwks TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX iam_oidc_providers_by_account ON iam_oidc_providers (account_id, arn);
    `,
  },
  {
    id: 17,
    name: 'ssm-parameters',
    // SSM Parameter Store: a parameter per account, Region and name (byte order, so a path is a range of the
    // key) with its latest version number and tier (the Standard-parameter limit counts an index), its tags (JSON list) and when its Expiration policy deletes it; each
    // kept version (at most 100) with its own attributes and labels (JSON list). A SecureString's value is only
    // in encrypted_data_key + sealed_value (value NULL); a String's only in value.
    sql: `
      CREATE TABLE ssm_parameters (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        latest_version BIGINT NOT NULL,
        latest_tier TEXT NOT NULL,
        tags TEXT NOT NULL,
        expires_at BIGINT,
        PRIMARY KEY (account_id, region, name)
      );
      CREATE INDEX ssm_parameters_by_expiry ON ssm_parameters (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX ssm_parameters_by_tier ON ssm_parameters (account_id, region, latest_tier);
      CREATE TABLE ssm_parameter_versions (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        version BIGINT NOT NULL,
        type TEXT NOT NULL,
        value TEXT,
        encrypted_data_key BYTEA,
        sealed_value BYTEA,
        key_id TEXT,
        description TEXT,
        allowed_pattern TEXT,
        data_type TEXT NOT NULL,
        tier TEXT NOT NULL,
        policies TEXT,
        labels TEXT NOT NULL,
        last_modified_date BIGINT NOT NULL,
        last_modified_user TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, version),
        FOREIGN KEY (account_id, region, name) REFERENCES ssm_parameters (account_id, region, name) ON DELETE CASCADE
      );
    `,
  },
  {
    id: 18,
    name: 'kms-encryption-reservations',
    // How many encryptions each symmetric backing key has had reserved (kms/encryption-budget.ts): a node reserves
    // a block before it uses it, so the total never under-counts, even after a crash. Keyed by backing key id,
    // which the members of a multi-Region key share, as they share its material.
    sql: `
      CREATE TABLE kms_encryption_reservations (
        backing_key_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        reserved_count BIGINT NOT NULL
      );
    `,
  },
  {
    id: 19,
    name: 'audit-compact-rows',
    // The compact encoding of audit events (store/audit-codec.ts): the body as bytes (new rows: a codec id and
    // the compressed canonical JSON; rows written before: their JSON text as UTF-8, which the codec reads as it
    // is), the hashes as their 32 bytes. Old rows are converted here in SQL; their bodies stay uncompressed.
    sql: `
      ALTER TABLE audit_events
        ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8'),
        ALTER COLUMN prev_hash TYPE BYTEA USING decode(prev_hash, 'hex'),
        ALTER COLUMN hash TYPE BYTEA USING decode(hash, 'hex');
    `,
  },
  {
    id: 20,
    name: 'audit-body-templates',
    // Body templates (store/audit-codec.ts, codec 2), as audit.db's audit_templates: an appended body is the id of
    // its template here and the values of its holes. Found by the SHA-256 of the text (a B-tree entry cannot hold
    // a long text). Only inserted to, so a node may cache it; derived data, so a copy does not carry it.
    sql: `
      CREATE TABLE audit_templates (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        digest BYTEA NOT NULL UNIQUE,
        template TEXT NOT NULL
      );
    `,
  },
];
