/**
 * What KMS needs from IAM: the IAM users and roles a key policy names must exist (CreateKey, PutKeyPolicy).
 * The `iam` module implements this port (`IamService.principals`) and compose.ts wires it, so kms never reads
 * IAM's data itself.
 */
export interface IamPrincipalDirectory {
  /** Whether an IAM user or role exists with exactly this ARN, path included; false for any other ARN. */
  userOrRoleExists(arn: string): Promise<boolean>;
}

/** One successful cryptographic operation on a key, as the audit log recorded it. */
export type KeyUse = { operation: string; time: Date; eventId: string; requestId: string };

/**
 * What KMS needs from the audit log for GetKeyLastUsage: kms may not read the audit log itself, so server/
 * implements this port over the audit repository (server/key-usage-log.ts) and compose.ts wires it.
 */
export interface KeyUsageLog {
  /** The newest successful KMS call of one of `operations` whose event names the key `keyArn`. */
  lastUse(keyArn: string, operations: readonly string[]): Promise<KeyUse | undefined>;
  /** When the log began recording (its first event's time); undefined while it holds no event. */
  recordingSince(): Promise<Date | undefined>;
}
