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
];
