import type { RequestContext } from '../../core/index.js';
import { principalName } from '../identity-policies.js';
import { iamError } from '../errors.js';

/**
 * Whose access keys an operation without UserName is about: the calling user's own, or the account root's.
 * IAM refuses the omission for other callers (role sessions).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
 */
export type KeyOwner = { kind: 'user'; userName: string } | { kind: 'root' };

export function keyOwner(ctx: RequestContext, userName: string | undefined): KeyOwner {
  if (userName !== undefined) return { kind: 'user', userName };
  const caller = principalName(ctx.principal.arn);
  if (caller.kind === 'user') return { kind: 'user', userName: caller.name };
  if (caller.kind === 'root') return { kind: 'root' };
  throw iamError('ValidationError', 'Must specify userName when calling with non-User credentials');
}

export const notFound = {
  user: (name: string) => iamError('NoSuchEntity', `The user with name ${name} cannot be found.`),
  role: (name: string) => iamError('NoSuchEntity', `The role with name ${name} cannot be found.`),
  policy: (kind: 'user' | 'role', policyName: string) => iamError('NoSuchEntity', `The ${kind} policy with name ${policyName} cannot be found.`),
  accessKey: (accessKeyId: string) => iamError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`),
};
