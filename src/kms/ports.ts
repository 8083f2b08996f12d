/**
 * What KMS needs from IAM: the IAM users and roles a key policy names must exist (CreateKey, PutKeyPolicy).
 * The `iam` module implements this port (`IamService.principals`) and compose.ts wires it, so kms never reads
 * IAM's data itself.
 */
export interface IamPrincipalDirectory {
  /** Whether an IAM user or role exists with exactly this ARN, path included; false for any other ARN. */
  userOrRoleExists(arn: string): Promise<boolean>;
}
