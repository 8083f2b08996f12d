import type { IamRepository } from '../store/index.js';

const USER_OR_ROLE_ARN = /^arn:aws:iam::(\d{12}):(user|role)\/(?:[^*?]*\/)?([^/*?]+)$/;

/**
 * Whether a user or role exists with exactly a given ARN (path included): what KMS asks of a key policy's
 * principals (kms's `IamPrincipalDirectory` port, wired by compose.ts). A wildcard inside the ARN names none.
 */
export function createPrincipalDirectory(store: Pick<IamRepository, 'getIamUser' | 'getIamRole'>) {
  return {
    async userOrRoleExists(arn: string): Promise<boolean> {
      const named = USER_OR_ROLE_ARN.exec(arn);
      if (!named) return false;
      const [, accountId, kind, name] = named;
      const found = kind === 'user' ? await store.getIamUser(accountId!, name!) : await store.getIamRole(accountId!, name!);
      return found?.arn === arn;
    },
  };
}
