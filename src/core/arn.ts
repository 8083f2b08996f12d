/** ARN helpers. Regions are namespaces inside one Coffer deployment; the partition is always `aws`. */
export type ParsedArn = {
  service: string;
  region: string;
  accountId: string;
  resource: string;
};

const ARN_PATTERN = /^arn:aws:([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/;

export function parseArn(arn: string): ParsedArn | undefined {
  const match = ARN_PATTERN.exec(arn);
  if (!match) return undefined;
  const [, service, region, accountId, resource] = match;
  return { service: service!, region: region!, accountId: accountId!, resource: resource! };
}

export function kmsKeyArn(region: string, accountId: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

export function kmsAliasArn(region: string, accountId: string, aliasName: string): string {
  return `arn:aws:kms:${region}:${accountId}:${aliasName}`;
}

export function accountRootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

/** A session of a role: `arn:aws:sts::<account>:assumed-role/<role name>/<session name>` (no path, as AWS names it). */
export function roleSessionArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}
