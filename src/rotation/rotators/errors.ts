/**
 * The error a built-in rotator throws when a step fails. The runner records its message, so a message says
 * which step failed and why, names fields, users, hosts and ARNs, and never carries a password.
 */
export class RotatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotatorError';
  }
}

const REDACTED = '[redacted]';

/**
 * The message of an error thrown by a database driver or a call, with every given secret string replaced.
 * A driver's message can quote the statement it ran (mysql2 syntax errors quote the SQL near the fault), so
 * every message that leaves a rotator goes through here. The driver error itself (with `.sql`) is dropped.
 */
export function safeMessage(error: unknown, secrets: readonly string[]): string {
  let message = error instanceof Error ? error.message : typeof error === 'object' && error && 'message' in error ? String(error.message) : String(error);
  for (const secret of secrets) {
    if (secret.length > 0) message = message.split(secret).join(REDACTED);
  }
  return message.length > 500 ? `${message.slice(0, 500)}…` : message;
}

/**
 * The AWS error code of an error thrown by a SecretsCaller: `.code` in process, `__type` on the wire, or the
 * `.name` of an AWS SDK exception ("ResourceNotFoundException").
 */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { code?: unknown; name?: unknown; __type?: unknown };
  for (const candidate of [record.code, record.__type]) {
    if (typeof candidate === 'string' && candidate.length > 0) return candidate;
  }
  if (typeof record.name === 'string' && /(Exception|Failure|Fault)$/.test(record.name)) return record.name;
  return undefined;
}
