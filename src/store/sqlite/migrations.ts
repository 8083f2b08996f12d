import { AUDIT_LOG_SCHEMA } from './audit-migrations.js';
import type { Migration } from './migration-runner.js';

/**
 * coffer.db's schema, one entry per migration, applied in order and recorded in schema_migrations (the audit
 * log's audit.db has its own: audit-migrations.ts). Never edit a migration that has shipped; add a new one.
 * Times are epoch milliseconds.
 */

/**
 * Migration 7 gives AWS managed keys made before it the key policy AWS writes for aws/secretsmanager (until
 * then they carried the default policy). The text must equal kms/key-policy.ts awsManagedKeyPolicy(account,
 * region, 'secretsmanager'), which the store may not import: test/integration/kms/access-managed-key.test.ts
 * checks that a migrated key's policy equals a new key's.
 */
const SECRETS_MANAGER_KEY_POLICY_TEMPLATE = JSON.stringify(
  {
    Id: 'auto-secretsmanager-2',
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager',
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': '{{ACCOUNT}}', 'kms:ViaService': 'secretsmanager.{{REGION}}.amazonaws.com' } },
      },
      {
        Sid: 'Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager',
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': '{{ACCOUNT}}' }, StringLike: { 'kms:ViaService': 'secretsmanager.{{REGION}}.amazonaws.com' } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::{{ACCOUNT}}:root'] },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
        Resource: '*',
      },
    ],
  },
  null,
  2,
);

export const sqliteMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'foundation',
    sql: `
      CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
      );
      CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        principal_arn TEXT NOT NULL,
        sealed_secret BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE kms_keys (
        key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        key_usage TEXT NOT NULL,
        key_spec TEXT NOT NULL,
        origin TEXT NOT NULL,
        key_manager TEXT NOT NULL,
        key_state TEXT NOT NULL,
        creation_date INTEGER NOT NULL,
        deletion_date INTEGER,
        pending_window_days INTEGER,
        policy TEXT NOT NULL,
        rotation_enabled INTEGER NOT NULL,
        rotation_period_days INTEGER,
        next_rotation_date INTEGER,
        current_backing_key_id TEXT NOT NULL
      );
      CREATE INDEX kms_keys_by_scope ON kms_keys (account_id, region, key_id);
      CREATE INDEX kms_keys_by_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
      CREATE INDEX kms_keys_by_rotation ON kms_keys (next_rotation_date) WHERE rotation_enabled = 1;
      CREATE TABLE kms_backing_keys (
        key_id TEXT NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        backing_key_id TEXT NOT NULL,
        sealed_material BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        rotation_type TEXT,
        PRIMARY KEY (key_id, backing_key_id)
      );
      CREATE TABLE kms_key_tags (
        key_id TEXT NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, tag_key)
      );
      CREATE TABLE kms_aliases (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        alias_name TEXT NOT NULL,
        target_key_id TEXT NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        creation_date INTEGER NOT NULL,
        last_updated_date INTEGER NOT NULL,
        PRIMARY KEY (account_id, region, alias_name)
      );
      CREATE INDEX kms_aliases_by_key ON kms_aliases (target_key_id);
    `,
  },
  {
    id: 2,
    name: 'secrets',
    sql: `
      CREATE TABLE secrets (
        arn TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        kms_key_id TEXT,
        created_date INTEGER NOT NULL,
        last_changed_date INTEGER NOT NULL,
        last_accessed_date INTEGER,
        deleted_date INTEGER,
        scheduled_deletion_date INTEGER,
        owning_service TEXT,
        primary_region TEXT NOT NULL,
        UNIQUE (account_id, region, name)
      );
      CREATE INDEX secrets_by_creation ON secrets (account_id, region, created_date);
      CREATE INDEX secrets_by_deletion ON secrets (scheduled_deletion_date) WHERE scheduled_deletion_date IS NOT NULL;
      CREATE TABLE secret_versions (
        secret_arn TEXT NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        -- JSON list of {kmsKeyArn, encryptedDataKey (base64), defaultKey}, newest first: the data key wrapped
        -- by each KMS key that can open this version (more than one after the secret's key changed).
        data_keys TEXT NOT NULL,
        -- NULL for a rotation's AWSPENDING placeholder until the rotation function writes its value.
        sealed_value BLOB,
        value_type TEXT NOT NULL,
        created_date INTEGER NOT NULL,
        last_accessed_date INTEGER,
        PRIMARY KEY (secret_arn, version_id)
      );
      CREATE TABLE secret_version_stages (
        secret_arn TEXT NOT NULL,
        stage TEXT NOT NULL,
        version_id TEXT NOT NULL,
        PRIMARY KEY (secret_arn, stage),
        FOREIGN KEY (secret_arn, version_id) REFERENCES secret_versions (secret_arn, version_id) ON DELETE CASCADE
      );
      CREATE INDEX secret_version_stages_by_version ON secret_version_stages (secret_arn, version_id);
      CREATE TABLE secret_tags (
        secret_arn TEXT NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (secret_arn, tag_key)
      );
    `,
  },
  {
    id: 3,
    name: 'rotation-and-functions',
    sql: `
      ALTER TABLE secrets ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE secrets ADD COLUMN rotation_lambda_arn TEXT;
      ALTER TABLE secrets ADD COLUMN rotation_rules TEXT;
      ALTER TABLE secrets ADD COLUMN last_rotated_date INTEGER;
      ALTER TABLE secrets ADD COLUMN next_rotation_date INTEGER;
      ALTER TABLE secrets ADD COLUMN next_rotation_window_end INTEGER;
      CREATE INDEX secrets_by_next_rotation ON secrets (next_rotation_date) WHERE rotation_enabled = 1;
      CREATE TABLE rotation_runs (
        secret_arn TEXT NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        token TEXT NOT NULL,
        status TEXT NOT NULL,
        step TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        PRIMARY KEY (secret_arn, token)
      );
      -- At most one unfinished rotation per secret.
      CREATE UNIQUE INDEX rotation_runs_one_open ON rotation_runs (secret_arn) WHERE status IN ('running', 'failed');
      CREATE INDEX rotation_runs_due ON rotation_runs (next_attempt_at) WHERE status = 'running';
      CREATE TABLE functions (
        arn TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        runtime TEXT,
        handler TEXT,
        code_zip BLOB,
        code_sha256 TEXT,
        code_size INTEGER NOT NULL,
        url TEXT,
        environment TEXT NOT NULL,
        timeout_seconds INTEGER NOT NULL,
        description TEXT NOT NULL,
        role TEXT,
        created_at INTEGER NOT NULL,
        last_modified INTEGER NOT NULL,
        revision_id TEXT NOT NULL,
        UNIQUE (account_id, region, name)
      );
      ALTER TABLE access_keys ADD COLUMN expires_at INTEGER;
    `,
  },
  {
    id: 4,
    name: 'audit-log',
    // The audit log's one definition (audit-migrations.ts), the table audit.db's migration 1 creates. It gained
    // IF NOT EXISTS when it became shared: the same effect on a database that has not applied migration 4.
    sql: AUDIT_LOG_SCHEMA,
  },
  {
    id: 5,
    name: 'iam',
    sql: `
      CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
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
        created_at INTEGER NOT NULL,
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
        created_at INTEGER NOT NULL,
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
      ALTER TABLE access_keys ADD COLUMN user_id TEXT REFERENCES iam_users (user_id) ON DELETE CASCADE;
      ALTER TABLE access_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'Active';
      ALTER TABLE access_keys ADD COLUMN session_token_hash TEXT;
      CREATE INDEX access_keys_by_user ON access_keys (user_id) WHERE user_id IS NOT NULL;
    `,
  },
  {
    id: 6,
    name: 'secret-resource-policies',
    sql: `
      -- A secret's resource policy as the caller wrote it (JSON text); NULL when it has none.
      ALTER TABLE secrets ADD COLUMN resource_policy TEXT;
    `,
  },
  {
    id: 7,
    name: 'kms-grants-and-managed-key-policy',
    sql: `
      CREATE TABLE kms_grants (
        grant_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
        key_arn TEXT NOT NULL,
        name TEXT,
        grantee_principal TEXT NOT NULL,
        retiring_principal TEXT,
        issuing_account TEXT NOT NULL,
        operations TEXT NOT NULL,
        constraints TEXT,
        fingerprint TEXT NOT NULL,
        creation_date INTEGER NOT NULL
      );
      -- CreateGrant with a Name is idempotent: the same key, name and parameters find the existing grant.
      CREATE UNIQUE INDEX kms_grants_by_name ON kms_grants (key_id, name, fingerprint) WHERE name IS NOT NULL;
      CREATE INDEX kms_grants_by_grantee ON kms_grants (key_id, grantee_principal);
      CREATE INDEX kms_grants_by_retiring_principal ON kms_grants (retiring_principal) WHERE retiring_principal IS NOT NULL;
      UPDATE kms_keys
         SET policy = replace(replace('${SECRETS_MANAGER_KEY_POLICY_TEMPLATE}', '{{ACCOUNT}}', account_id), '{{REGION}}', region)
       WHERE key_manager = 'AWS'
         AND key_id IN (SELECT target_key_id FROM kms_aliases WHERE alias_name = 'alias/aws/secretsmanager');
    `,
  },
  {
    id: 8,
    name: 'secret-list-orders',
    // ListSecrets pages by keyset (after the last secret listed): each sort order needs an index whose range
    // starts at a cursor. created-date has one (secrets_by_creation) and name the UNIQUE constraint.
    sql: `
      CREATE INDEX secrets_by_last_changed ON secrets (account_id, region, last_changed_date);
      CREATE INDEX secrets_by_last_accessed ON secrets (account_id, region, ifnull(last_accessed_date, -1));
    `,
  },
  {
    id: 9,
    name: 'sealed-function-environment',
    // A function's Environment.Variables (and an HTTP function's URL) sealed under KMS, as Lambda keeps them.
    // Rows from before keep their clear columns until the server's start seals them (functions/environment-sealing.ts).
    sql: `
      ALTER TABLE functions ADD COLUMN kms_key_arn TEXT;
      ALTER TABLE functions ADD COLUMN environment_key_arn TEXT;
      ALTER TABLE functions ADD COLUMN environment_data_key BLOB;
      ALTER TABLE functions ADD COLUMN environment_sealed BLOB;
    `,
  },
  {
    id: 10,
    name: 'rotation-lease-epoch',
    // The fencing token of a run's lease: every claim adds one, and the holder's writes name the epoch it
    // claimed with, so a node whose lease was taken over can no longer write to the run.
    sql: `
      ALTER TABLE rotation_runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    id: 11,
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
    id: 12,
    name: 'kms-imported-key-material',
    // Keys of imported material (Origin EXTERNAL): when the material expires, whether it does, and its
    // KeyMaterialId (an HMAC of the material, never the material), kept after a deletion so that only the same
    // material can be imported again. A key without material has current_backing_key_id ''.
    sql: `
      ALTER TABLE kms_keys ADD COLUMN valid_to INTEGER;
      ALTER TABLE kms_keys ADD COLUMN expiration_model TEXT;
      ALTER TABLE kms_keys ADD COLUMN key_material_id TEXT;
      CREATE INDEX kms_keys_by_material_expiry ON kms_keys (valid_to) WHERE valid_to IS NOT NULL;
    `,
  },
  {
    id: 13,
    name: 'secret-replicas',
    // A primary secret's replica Regions (ReplicateSecretToRegions). The replica itself is a row of secrets in
    // its Region whose primary_region is the primary's; generation orders the syncs of one replica so that only
    // the newest applies (SecretsRepository.applyReplicaSync).
    sql: `
      CREATE TABLE secret_replicas (
        primary_arn TEXT NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
        region TEXT NOT NULL,
        replica_arn TEXT NOT NULL,
        kms_key_id TEXT,
        status TEXT NOT NULL,
        status_message TEXT,
        force_overwrite INTEGER NOT NULL DEFAULT 0,
        generation INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (primary_arn, region)
      );
      CREATE INDEX secret_replicas_to_sync ON secret_replicas (status) WHERE status <> 'InSync';
    `,
  },
  {
    id: 14,
    name: 'iam-managed-policies',
    // Customer managed policies (names unique per account, case-insensitively, as IAM's), their versions
    // (next_version numbers the next one: IAM never reuses a deleted version's number), the attachments of
    // managed policies (customer or AWS managed, by ARN, so no foreign key to the policy) to users, roles and
    // later groups (entity_kind), and the permissions boundary (a policy ARN) of users and roles.
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
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        tags TEXT NOT NULL,
        UNIQUE (account_id, name_key)
      );
      CREATE TABLE iam_managed_policy_versions (
        policy_id TEXT NOT NULL REFERENCES iam_managed_policies (policy_id) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        version_number INTEGER NOT NULL,
        document TEXT NOT NULL,
        created_at INTEGER NOT NULL,
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
    id: 15,
    name: 'access-key-session-attributes',
    // A role session's session policies, session tags, transitive tag keys and source identity (core
    // SessionAttributes) as JSON text, read back with the key on every request; NULL for every other key.
    sql: `
      ALTER TABLE access_keys ADD COLUMN session_attributes TEXT;
    `,
  },
  {
    id: 16,
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
        created_at INTEGER NOT NULL,
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
    id: 17,
    name: 'iam-oidc-providers',
    // IAM OpenID Connect providers (AssumeRoleWithWebIdentity's issuers), per account, keyed by ARN. Client ids,
    // thumbprints and tags are JSON lists on the row (a provider has at most 100, 5 and 50); jwks is the
    // issuer's key set given by hand (coffer oidc set-jwks), NULL to fetch it from the issuer.
    sql: `
      CREATE TABLE iam_oidc_providers (
        account_id TEXT NOT NULL,
        arn TEXT NOT NULL PRIMARY KEY,
        url TEXT NOT NULL,
        client_ids TEXT NOT NULL,
        thumbprints TEXT NOT NULL,
        tags TEXT NOT NULL,
        jwks TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX iam_oidc_providers_by_account ON iam_oidc_providers (account_id, arn);
    `,
  },
  {
    id: 18,
    name: 'ssm-parameters',
    // SSM Parameter Store: a parameter per account, Region and name (byte order, so a path is a range of the
    // key) with its latest version number and tier (the Standard-parameter limit counts an index), its tags (JSON list) and when its Expiration policy deletes it; each
    // kept version (at most 100) with its own attributes and labels (JSON list). A SecureString's value is only
    // in encrypted_data_key + sealed_value (value NULL); a String's only in value.
    sql: `
      CREATE TABLE ssm_parameters (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        latest_version INTEGER NOT NULL,
        latest_tier TEXT NOT NULL,
        tags TEXT NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (account_id, region, name)
      );
      CREATE INDEX ssm_parameters_by_expiry ON ssm_parameters (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX ssm_parameters_by_tier ON ssm_parameters (account_id, region, latest_tier);
      CREATE TABLE ssm_parameter_versions (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        value TEXT,
        encrypted_data_key BLOB,
        sealed_value BLOB,
        key_id TEXT,
        description TEXT,
        allowed_pattern TEXT,
        data_type TEXT NOT NULL,
        tier TEXT NOT NULL,
        policies TEXT,
        labels TEXT NOT NULL,
        last_modified_date INTEGER NOT NULL,
        last_modified_user TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, version),
        FOREIGN KEY (account_id, region, name) REFERENCES ssm_parameters (account_id, region, name) ON DELETE CASCADE
      );
    `,
  },
  {
    id: 19,
    name: 'kms-encryption-reservations',
    // How many encryptions each symmetric backing key has had reserved (kms/encryption-budget.ts): a node reserves
    // a block before it uses it, so the total never under-counts, even after a crash. Keyed by backing key id,
    // which the members of a multi-Region key share, as they share its material.
    sql: `
      CREATE TABLE kms_encryption_reservations (
        backing_key_id TEXT NOT NULL PRIMARY KEY,
        reserved_count INTEGER NOT NULL
      );
    `,
  },
  {
    id: 20,
    name: 'version-stages-without-rowid',
    // The labels keyed by (secret_arn, stage) alone, WITHOUT ROWID, and no index by version (issue 21): a put moves
    // two labels, and as a rowid table with its primary key index and the by-version index each move changed three
    // B-trees (three random pages written to the WAL per put and again at checkpoint), now one. The primary key's
    // secret_arn prefix serves what the by-version index served: a version's labels, and the cascade from a
    // deleted version (a secret holds a handful of labels). Same columns and rows, so readers see no change.
    // PostgreSQL keeps its table: a heap with its own indexes has no such layout choice.
    sql: `
      CREATE TABLE secret_version_stages_keyed (
        secret_arn TEXT NOT NULL,
        stage TEXT NOT NULL,
        version_id TEXT NOT NULL,
        PRIMARY KEY (secret_arn, stage),
        FOREIGN KEY (secret_arn, version_id) REFERENCES secret_versions (secret_arn, version_id) ON DELETE CASCADE
      ) WITHOUT ROWID;
      INSERT INTO secret_version_stages_keyed (secret_arn, stage, version_id)
        SELECT secret_arn, stage, version_id FROM secret_version_stages;
      DROP TABLE secret_version_stages;
      ALTER TABLE secret_version_stages_keyed RENAME TO secret_version_stages;
    `,
  },
];
