import { closeSync, fchmodSync, openSync, rmSync, writeSync } from 'node:fs';
import { BOOTSTRAP_ACCOUNT_ID, type Credentials } from '../auth/index.js';
import type { IamRepository, MetaRepository } from '../store/index.js';

const BOOTSTRAP_MARK = 'bootstrap_admin_access_key_id';

export type AdminCredentials = { accessKeyId: string; secretAccessKey: string };

/**
 * On first start: the account 000000000000 and an administrator access key for it, written to
 * `<data-dir>/admin-credentials` (0600). Later starts find the mark and do nothing. The secret is returned
 * only when it was created by this start, so the CLI can print it once. Of several nodes starting together on
 * one new database, the one whose mark is stored first is the bootstrap; the others delete the key and the
 * file they had made, so the deployment has one administrator key, in one place.
 */
export async function bootstrapAdmin(
  store: Pick<MetaRepository, 'getMeta' | 'putMetaIfAbsent'> & Pick<IamRepository, 'deleteRootAccessKey'>,
  credentials: Credentials,
  credentialsFile: string,
  now: Date,
): Promise<AdminCredentials | undefined> {
  if (await store.getMeta(BOOTSTRAP_MARK)) return undefined;
  const admin = await credentials.createRootAccessKey(BOOTSTRAP_ACCOUNT_ID, now);
  writePrivateFile(credentialsFile, adminCredentialsText(admin, undefined));
  const stored = await store.putMetaIfAbsent(BOOTSTRAP_MARK, Buffer.from(admin.accessKeyId));
  if (stored.toString() === admin.accessKeyId) return admin;
  await store.deleteRootAccessKey(BOOTSTRAP_ACCOUNT_ID, admin.accessKeyId);
  rmSync(credentialsFile, { force: true });
  return undefined;
}

/** Shell lines that point the AWS CLI and SDKs at this server with the administrator key. */
export function adminCredentialsText(admin: AdminCredentials, endpointUrl: string | undefined): string {
  const lines = [
    `export AWS_ACCESS_KEY_ID=${admin.accessKeyId}`,
    `export AWS_SECRET_ACCESS_KEY=${admin.secretAccessKey}`,
    ...(endpointUrl ? [`export AWS_ENDPOINT_URL=${endpointUrl}`] : []),
    'export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}',
  ];
  return lines.join('\n') + '\n';
}

/** Writes a file only its owner can read; an existing file's mode is narrowed before anything is written. */
export function writePrivateFile(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
