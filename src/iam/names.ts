import { randomBytes } from 'node:crypto';

/**
 * IAM's identifiers: unique ids (`AIDA…` users, `AROA…` roles, `AGPA…` groups: the prefix plus 17 upper-case
 * base32 characters) and ARNs (`arn:aws:iam::<account>:user<path><name>`).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
 */
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function newUniqueId(prefix: 'AIDA' | 'AROA' | 'ANPA' | 'AGPA'): string {
  let id: string = prefix;
  for (const byte of randomBytes(17)) id += ID_ALPHABET[byte % 32];
  return id;
}

export function userArn(accountId: string, path: string, userName: string): string {
  return `arn:aws:iam::${accountId}:user${path}${userName}`;
}

export function groupArn(accountId: string, path: string, groupName: string): string {
  return `arn:aws:iam::${accountId}:group${path}${groupName}`;
}

export function roleArn(accountId: string, path: string, roleName: string): string {
  return `arn:aws:iam::${accountId}:role${path}${roleName}`;
}

/** A customer managed policy: `arn:aws:iam::<account>:policy<path><name>`. */
export function policyArn(accountId: string, path: string, policyName: string): string {
  return `arn:aws:iam::${accountId}:policy${path}${policyName}`;
}

/** `arn:aws:iam::<account|aws>:policy/<path/>name` → the account (`aws` for AWS managed) and name; undefined otherwise. */
export function parsePolicyArn(arn: string): { accountId: string; policyName: string } | undefined {
  const match = /^arn:aws:iam::(\d{12}|aws):policy\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]+)$/.exec(arn);
  return match ? { accountId: match[1]!, policyName: match[2]! } : undefined;
}

/** `arn:aws:iam::<account>:role/<path/>name` → the account and role name; undefined for other ARNs. */
export function parseRoleArn(arn: string): { accountId: string; roleName: string } | undefined {
  const match = /^arn:aws:iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]+)$/.exec(arn);
  return match ? { accountId: match[1]!, roleName: match[2]! } : undefined;
}

/** A random 12-digit account id that does not start with 0 (000000000000 is the bootstrap account). */
export function newAccountId(): string {
  const digits = [...randomBytes(12)].map((byte) => String(byte % 10));
  if (digits[0] === '0') digits[0] = '1';
  return digits.join('');
}
