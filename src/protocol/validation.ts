import type { ZodError } from 'zod';
import { commonError, type AwsError } from '../core/index.js';

/**
 * Turns zod issues into AWS's ValidationException text:
 * "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must not be null".
 * Member paths are written as AWS writes them (lower camel case, list items as `tags.1.member.tagKey`).
 * Safe choice where AWS echoes the offending value: Coffer never does, so a secret sent in the wrong
 * member can't come back in an error or a log; only a missing value is shown, as `null`.
 */
export function validationError(error: ZodError): AwsError {
  const issues = error.issues.slice(0, 10);
  const parts = issues.map((issue) => {
    const missing = issue.message === 'Member must not be null';
    return `Value${missing ? ' null' : ''} at '${memberPath(issue.path)}' failed to satisfy constraint: ${issue.message}`;
  });
  const count = issues.length;
  return commonError('ValidationException', `${count} validation error${count === 1 ? '' : 's'} detected: ${parts.join('; ')}`);
}

function memberPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment) => (typeof segment === 'number' ? `${segment + 1}.member` : lowerFirst(String(segment))))
    .join('.');
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
