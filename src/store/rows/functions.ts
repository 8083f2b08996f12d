/**
 * Row <-> record mapping of the functions table, shared by the SQLite and PostgreSQL backends: both store
 * the same columns with the same encodings (JSON text environment, epoch-millisecond dates).
 */
import type { FunctionPatch, FunctionRecord, SealedEnvironment } from '../records.js';

type Row = Record<string, any>;
/** The patch with its sealed environment spread over the envelope's three columns. */
export type FunctionColumnPatch = Omit<FunctionPatch, 'sealedEnvironment'> & { environmentKeyArn?: string; environmentDataKey?: Buffer; environmentSealed?: Buffer };

export const FUNCTION_COLUMNS: Record<keyof FunctionColumnPatch, string> = {
  codeZip: 'code_zip',
  codeSha256: 'code_sha256',
  codeSize: 'code_size',
  url: 'url',
  runtime: 'runtime',
  handler: 'handler',
  environment: 'environment',
  environmentKeyArn: 'environment_key_arn',
  environmentDataKey: 'environment_data_key',
  environmentSealed: 'environment_sealed',
  kmsKeyArn: 'kms_key_arn',
  timeoutSeconds: 'timeout_seconds',
  description: 'description',
  role: 'role',
  lastModified: 'last_modified',
  revisionId: 'revision_id',
};

export function toColumnPatch(patch: FunctionPatch): FunctionColumnPatch {
  if (!('sealedEnvironment' in patch)) return patch;
  const { sealedEnvironment, ...rest } = patch;
  return {
    ...rest,
    environmentKeyArn: sealedEnvironment?.kmsKeyArn,
    environmentDataKey: sealedEnvironment?.encryptedDataKey,
    environmentSealed: sealedEnvironment?.sealedValue,
  };
}

function sealedEnvironmentFromRow(row: Row): SealedEnvironment | undefined {
  if (row.environment_sealed === null || row.environment_sealed === undefined) return undefined;
  return { kmsKeyArn: row.environment_key_arn, encryptedDataKey: row.environment_data_key, sealedValue: row.environment_sealed };
}

export function functionFromRow(row: Row): FunctionRecord {
  return {
    arn: row.arn,
    accountId: row.account_id,
    region: row.region,
    name: row.name,
    kind: row.kind,
    runtime: row.runtime ?? undefined,
    handler: row.handler ?? undefined,
    codeZip: row.code_zip ?? undefined,
    codeSha256: row.code_sha256 ?? undefined,
    codeSize: row.code_size,
    url: row.url ?? undefined,
    environment: JSON.parse(row.environment) as Record<string, string>,
    sealedEnvironment: sealedEnvironmentFromRow(row),
    kmsKeyArn: row.kms_key_arn ?? undefined,
    timeoutSeconds: row.timeout_seconds,
    description: row.description,
    role: row.role ?? undefined,
    createdAt: new Date(row.created_at),
    lastModified: new Date(row.last_modified),
    revisionId: row.revision_id,
  };
}
