import { createHash, type Hash } from 'node:crypto';

/**
 * Copying a whole store from one backend to another (`coffer migrate`): the backend-neutral form of the data,
 * the catalog of what is copied, and the interface each backend's transfer side implements
 * (sqlite/transfer.ts, postgres/transfer.ts). The driver is server/migrate.ts.
 *
 * The canonical form. A row is an array of values in the catalog's column order; each column has a kind:
 *
 * | kind        | JS value            | SQLite                      | PostgreSQL       |
 * |-------------|---------------------|-----------------------------|------------------|
 * | `text`      | string              | TEXT                        | TEXT             |
 * | `integer`   | number (safe int)   | INTEGER                     | INTEGER, BIGINT  |
 * | `boolean`   | boolean             | INTEGER 0 / 1               | BOOLEAN          |
 * | `bytes`     | Buffer              | BLOB                        | BYTEA            |
 * | `text-list` | string[]            | TEXT holding a JSON array   | TEXT[]           |
 * | `position`  | number              | the rowid                   | INTEGER, BIGINT  |
 * | `audit-body`| string (canonical JSON) | see sqlite/audit-rows.ts | BYTEA (audit-codec.ts) |
 * | `sha256`    | string (64 hex)     | see sqlite/audit-rows.ts    | BYTEA (32 bytes) |
 *
 * Any of them may be null where the schema allows it. Values travel unchanged: sealed blobs are the same
 * bytes, JSON documents the same text, audit events keep sequence, prev_hash and hash (the chain stays intact).
 *
 * `position` is the order of a row among its siblings (a secret in its account and region, a version in its
 * secret, a backing key in its key), which ListSecrets' creation order and version and backing-key order rely
 * on. SQLite keeps it as the rowid; PostgreSQL as a column counted per parent. A copy keeps the order, not the
 * numbers: rows are read in position order, SQLite takes new rowids in that order and PostgreSQL takes SQLite's
 * rowids (unique, so unique per parent too). Positions are therefore left out of the row checksum.
 *
 * Not copied: the schema's bookkeeping (schema_migrations and friends: the target is migrated by its own
 * backend first), and nothing outside the database (the root key, audit anchors, admin-credentials file).
 */

export type TransferValue = string | number | boolean | Buffer | null | string[];
export type TransferRow = TransferValue[];
export type ColumnKind = 'text' | 'integer' | 'boolean' | 'bytes' | 'text-list' | 'position' | 'audit-body' | 'sha256';
export type TransferColumn = { readonly name: string; readonly kind: ColumnKind };

export type TransferTable = {
  readonly name: string;
  readonly columns: readonly TransferColumn[];
  /** The read order: a unique key (a position first where the table has one), so both sides list rows alike. */
  readonly order: readonly string[];
  /** Rows the schema's migrations insert themselves: they do not make a target non-empty, and the copy replaces them. */
  readonly seedRows?: readonly TransferRow[];
};

const text = (name: string): TransferColumn => ({ name, kind: 'text' });
const integer = (name: string): TransferColumn => ({ name, kind: 'integer' });
const boolean = (name: string): TransferColumn => ({ name, kind: 'boolean' });
const bytes = (name: string): TransferColumn => ({ name, kind: 'bytes' });
const position = (name: string): TransferColumn => ({ name, kind: 'position' });

/**
 * Every data table, parents before children (foreign keys), with every column. A migration that adds a table
 * or a column adds it here too: each backend's transfer side refuses to copy from a schema with anything the
 * catalog lacks (`uncatalogued`), and test/store/transfer.test.ts checks both schemas against it.
 */
export const TRANSFER_CATALOG: readonly TransferTable[] = [
  { name: 'meta', columns: [text('name'), bytes('value')], order: ['name'] },
  {
    name: 'accounts',
    columns: [text('account_id'), integer('created_at')],
    order: ['account_id'],
    seedRows: [['000000000000', 0]],
  },
  {
    name: 'iam_users',
    columns: [
      text('user_id'), text('account_id'), text('user_name'), text('name_key'), text('arn'), text('path'), integer('created_at'), text('tags'),
      text('permissions_boundary'),
    ],
    order: ['user_id'],
  },
  {
    name: 'iam_roles',
    columns: [
      text('role_id'), text('account_id'), text('role_name'), text('name_key'), text('arn'), text('path'), text('assume_role_policy'),
      text('description'), integer('max_session_duration'), integer('created_at'), text('tags'), text('permissions_boundary'),
    ],
    order: ['role_id'],
  },
  {
    name: 'iam_oidc_providers',
    columns: [text('account_id'), text('arn'), text('url'), text('client_ids'), text('thumbprints'), text('tags'), text('jwks'), integer('created_at')],
    order: ['arn'],
  },
  { name: 'iam_user_policies', columns: [text('owner_id'), text('policy_name'), text('name_key'), text('document')], order: ['owner_id', 'name_key'] },
  { name: 'iam_role_policies', columns: [text('owner_id'), text('policy_name'), text('name_key'), text('document')], order: ['owner_id', 'name_key'] },
  {
    name: 'iam_managed_policies',
    columns: [
      text('policy_id'), text('account_id'), text('policy_name'), text('name_key'), text('arn'), text('path'), text('description'),
      text('default_version_id'), integer('next_version'), integer('created_at'), integer('updated_at'), text('tags'),
    ],
    order: ['policy_id'],
  },
  {
    name: 'iam_managed_policy_versions',
    columns: [text('policy_id'), text('version_id'), integer('version_number'), text('document'), integer('created_at')],
    order: ['policy_id', 'version_id'],
  },
  {
    name: 'iam_policy_attachments',
    columns: [text('account_id'), text('entity_kind'), text('entity_id'), text('policy_arn')],
    order: ['entity_kind', 'entity_id', 'policy_arn'],
  },
  {
    name: 'iam_groups',
    columns: [text('group_id'), text('account_id'), text('group_name'), text('name_key'), text('arn'), text('path'), integer('created_at')],
    order: ['group_id'],
  },
  { name: 'iam_group_policies', columns: [text('owner_id'), text('policy_name'), text('name_key'), text('document')], order: ['owner_id', 'name_key'] },
  { name: 'iam_group_members', columns: [text('group_id'), text('user_id')], order: ['group_id', 'user_id'] },
  {
    name: 'access_keys',
    columns: [
      text('access_key_id'), text('account_id'), text('principal_arn'), bytes('sealed_secret'), integer('created_at'), integer('expires_at'),
      text('user_id'), text('status'), text('session_token_hash'), text('session_attributes'),
    ],
    order: ['access_key_id'],
  },
  {
    name: 'kms_keys',
    columns: [
      text('key_id'), text('account_id'), text('region'), text('arn'), text('description'), text('key_usage'), text('key_spec'), text('origin'),
      text('key_manager'), text('key_state'), integer('creation_date'), integer('deletion_date'), integer('pending_window_days'), text('policy'),
      boolean('rotation_enabled'), integer('rotation_period_days'), integer('next_rotation_date'), text('current_backing_key_id'),
      text('multi_region_key_id'), text('primary_region'),
      integer('valid_to'), text('expiration_model'), text('key_material_id'),
    ],
    order: ['key_id'],
  },
  {
    name: 'kms_backing_keys',
    columns: [text('key_id'), text('backing_key_id'), position('position'), bytes('sealed_material'), integer('created_at'), text('rotation_type')],
    order: ['position', 'key_id', 'backing_key_id'],
  },
  { name: 'kms_encryption_reservations', columns: [text('backing_key_id'), integer('reserved_count')], order: ['backing_key_id'] },
  { name: 'kms_key_tags', columns: [text('key_id'), text('tag_key'), text('tag_value')], order: ['key_id', 'tag_key'] },
  {
    name: 'kms_aliases',
    columns: [text('account_id'), text('region'), text('alias_name'), text('target_key_id'), integer('creation_date'), integer('last_updated_date')],
    order: ['account_id', 'region', 'alias_name'],
  },
  {
    name: 'kms_grants',
    columns: [
      text('grant_id'), text('key_id'), text('key_arn'), text('name'), text('grantee_principal'), text('retiring_principal'), text('issuing_account'),
      text('operations'), text('constraints'), text('fingerprint'), integer('creation_date'),
    ],
    order: ['grant_id'],
  },
  {
    name: 'secrets',
    columns: [
      text('arn'), text('account_id'), text('region'), text('name'), position('list_position'), text('description'), text('kms_key_id'),
      integer('created_date'), integer('last_changed_date'), integer('last_accessed_date'), integer('deleted_date'), integer('scheduled_deletion_date'),
      text('owning_service'), text('primary_region'), text('resource_policy'), boolean('rotation_enabled'), text('rotation_lambda_arn'),
      text('rotation_rules'), integer('last_rotated_date'), integer('next_rotation_date'), integer('next_rotation_window_end'),
    ],
    order: ['list_position', 'arn'],
  },
  {
    name: 'secret_versions',
    columns: [
      text('secret_arn'), text('version_id'), position('position'), text('data_keys'), bytes('sealed_value'), text('value_type'), integer('created_date'),
      integer('last_accessed_date'),
    ],
    order: ['position', 'secret_arn', 'version_id'],
  },
  { name: 'secret_version_stages', columns: [text('secret_arn'), text('stage'), text('version_id')], order: ['secret_arn', 'stage'] },
  { name: 'secret_tags', columns: [text('secret_arn'), text('tag_key'), text('tag_value')], order: ['secret_arn', 'tag_key'] },
  {
    name: 'secret_replicas',
    columns: [
      text('primary_arn'), text('region'), text('replica_arn'), text('kms_key_id'), text('status'), text('status_message'),
      boolean('force_overwrite'), integer('generation'),
    ],
    order: ['primary_arn', 'region'],
  },
  {
    name: 'rotation_runs',
    columns: [
      text('secret_arn'), text('token'), text('status'), text('step'), integer('attempts'), text('last_error'), integer('started_at'), integer('updated_at'),
      integer('next_attempt_at'), text('lease_owner'), integer('lease_expires_at'), integer('lease_epoch'),
    ],
    order: ['secret_arn', 'token'],
  },
  {
    name: 'functions',
    columns: [
      text('arn'), text('account_id'), text('region'), text('name'), text('kind'), text('runtime'), text('handler'), bytes('code_zip'), text('code_sha256'),
      integer('code_size'), text('url'), text('environment'), text('environment_key_arn'), bytes('environment_data_key'), bytes('environment_sealed'),
      text('kms_key_arn'), integer('timeout_seconds'), text('description'), text('role'), integer('created_at'), integer('last_modified'), text('revision_id'),
    ],
    order: ['arn'],
  },
  {
    name: 'ssm_parameters',
    columns: [text('account_id'), text('region'), text('name'), integer('latest_version'), text('latest_tier'), text('tags'), integer('expires_at')],
    order: ['account_id', 'region', 'name'],
  },
  {
    name: 'ssm_parameter_versions',
    columns: [
      text('account_id'), text('region'), text('name'), integer('version'), text('type'), text('value'), bytes('encrypted_data_key'), bytes('sealed_value'),
      text('key_id'), text('description'), text('allowed_pattern'), text('data_type'), text('tier'), text('policies'), text('labels'),
      integer('last_modified_date'), text('last_modified_user'),
    ],
    order: ['account_id', 'region', 'name', 'version'],
  },
  {
    name: 'audit_events',
    columns: [
      integer('sequence'), text('event_id'), text('account_id'), integer('event_time'), text('event_name'), text('event_source'), boolean('read_only'),
      text('access_key_id'), text('username'), { name: 'resource_names', kind: 'text-list' },
      // Carried as the event's canonical JSON and hex hashes (backups and migrations hold the text); each backend
      // stores them in its compact encoding (audit-codec.ts) and reads both encodings.
      { name: 'body', kind: 'audit-body' }, { name: 'prev_hash', kind: 'sha256' }, { name: 'hash', kind: 'sha256' },
    ],
    order: ['sequence'],
  },
];

/** The catalog's table of this name; throws for a name it does not have. */
export function transferTable(name: string): TransferTable {
  const table = TRANSFER_CATALOG.find((candidate) => candidate.name === name);
  if (!table) throw new Error(`no table ${name} in the transfer catalog`);
  return table;
}

/** A backend's store seen as rows, for copying it whole (source) or into it (target). */
export interface StoreTransfer {
  /**
   * `table` or `table.column` for every table and column of this store's schema that the catalog lacks (its
   * bookkeeping tables aside): what a copy from it would lose. Empty when the catalog covers the schema.
   */
  uncatalogued(): Promise<string[]>;
  /**
   * The catalog tables holding rows other than their seed rows: a copy goes only into a store with none.
   * Works on a store not migrated yet (a table it lacks holds nothing), so a refused target is left untouched.
   */
  occupiedTables(): Promise<string[]>;
  /** Runs `body` on one consistent snapshot (a read transaction per database). */
  readSnapshot<T>(body: (snapshot: TransferSnapshot) => Promise<T>): Promise<T>;
  /**
   * Runs `body` in one write transaction (per database; SQLite commits coffer.db, then audit.db), after
   * checking again, inside it, that the store is empty (TargetNotEmptyError) and removing the seed rows.
   * All or nothing: when `body` throws, nothing is written. The store must be migrated.
   */
  load(body: (loader: TransferLoader) => Promise<void>): Promise<void>;
}

export interface TransferSnapshot {
  count(table: TransferTable): Promise<number>;
  /** The table's rows in its `order`, in pages of at most `pageSize` rows. */
  pages(table: TransferTable, pageSize: number): AsyncIterable<TransferRow[]>;
}

export interface TransferLoader {
  /** Inserts rows of one table, as read from another store (parents' rows must have been written before). */
  write(table: TransferTable, rows: readonly TransferRow[]): Promise<void>;
}

/** A copy refused because the target already holds data (nothing has been written). */
export class TargetNotEmptyError extends Error {
  readonly tables: readonly string[];
  constructor(tables: readonly string[]) {
    super(`the target is not empty: it holds rows in ${tables.join(', ')}`);
    this.name = 'TargetNotEmptyError';
    this.tables = tables;
  }
}

/** The names of the tables holding more rows than the seed rows found in them (a backend's occupiedTables()). */
export function tablesWithData(counts: ReadonlyArray<{ table: TransferTable; rows: number; seedRowsPresent: number }>): string[] {
  return counts.filter(({ rows, seedRowsPresent }) => rows > seedRowsPresent).map(({ table }) => table.name);
}

/** What verification compares for one table: row count and SHA-256s (hex) of its byte columns and of whole rows. */
export type TableDigest = {
  table: string;
  rows: number;
  /** Over every `bytes` column (every sealed blob: secret values, key material, access-key secrets, …) in row order. */
  sealedSha256: string;
  /** Over every column but positions, in row order: the rest of the data, exactly. */
  rowsSha256: string;
};

/** Accumulates a TableDigest from a table's rows, in the table's order. */
export class TableDigester {
  readonly #table: TransferTable;
  readonly #sealed: Hash = createHash('sha256');
  readonly #rows: Hash = createHash('sha256');
  #count = 0;

  constructor(table: TransferTable) {
    this.#table = table;
  }

  add(rows: readonly TransferRow[]): void {
    const columns = this.#table.columns;
    for (const row of rows) {
      this.#count += 1;
      columns.forEach((column, index) => {
        const value = row[index] ?? null;
        if (column.kind === 'bytes') updateWithValue(this.#sealed, value);
        if (column.kind !== 'position') updateWithValue(this.#rows, value);
      });
    }
  }

  digest(): TableDigest {
    return { table: this.#table.name, rows: this.#count, sealedSha256: this.#sealed.digest('hex'), rowsSha256: this.#rows.digest('hex') };
  }
}

/** The digest of a whole table read from a snapshot. */
export async function digestTable(snapshot: TransferSnapshot, table: TransferTable, pageSize: number): Promise<TableDigest> {
  const digester = new TableDigester(table);
  for await (const page of snapshot.pages(table, pageSize)) digester.add(page);
  return digester.digest();
}

/** Tagged and length-framed, so that no two different values (or value sequences) hash the same input. */
function updateWithValue(hash: Hash, value: TransferValue): void {
  if (value === null) return void hash.update('n');
  if (Buffer.isBuffer(value)) return updateFramed(hash, 'x', value);
  if (Array.isArray(value)) {
    hash.update(`l${value.length}:`);
    for (const item of value) updateFramed(hash, 's', Buffer.from(item, 'utf8'));
    return;
  }
  if (typeof value === 'string') return updateFramed(hash, 's', Buffer.from(value, 'utf8'));
  if (typeof value === 'boolean') return void hash.update(value ? 'b1' : 'b0');
  updateFramed(hash, 'i', Buffer.from(String(value)));
}

function updateFramed(hash: Hash, tag: string, bytes: Buffer): void {
  hash.update(`${tag}${bytes.length}:`);
  hash.update(bytes);
}
