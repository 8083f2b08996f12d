import type { DatabaseSecret } from './database-secret.js';
import type { LoginResult } from './engine.js';
import { RotatorError } from './errors.js';
import { assertSameDatabase, type RotationStrategy, type StepContext } from './four-step.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from './secrets-api.js';

/**
 * Single user: the user changes its own password, so the old password stops working at once.
 * setSecret logs in with AWSPENDING (already set: done), else AWSCURRENT, else AWSPREVIOUS (a rotation
 * that changed the password but failed before finishSecret), and sets the pending password.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_strategies.html#rotating-secrets-one-user-one-password
 */
export const singleUser: RotationStrategy = {
  requiresMasterArn: false,

  pendingUsername(current: DatabaseSecret): string {
    return current.username;
  },

  async setSecret(step: StepContext): Promise<void> {
    const previous = await step.findSecret(AWSPREVIOUS);
    const current = await step.readSecret(AWSCURRENT);
    const pending = await step.readSecret(AWSPENDING);

    const pendingLogin = await step.login(pending);
    if (pendingLogin.ok) {
      await pendingLogin.session.close();
      return;
    }
    if (pending.username !== current.username) {
      throw new RotatorError(`AWSPENDING is for user "${pending.username}", not the current user "${current.username}"; single-user rotation changes only the current user`);
    }
    assertSameDatabase(step, current, pending, 'AWSPENDING');

    const failures = [`AWSPENDING: ${pendingLogin.reason}`];
    let login: LoginResult = await step.login(current);
    if (!login.ok) {
      failures.push(`AWSCURRENT: ${login.reason}`);
      if (previous && previous.username === pending.username && previous.host === pending.host && previous.port === pending.port) {
        // The template tries AWSPREVIOUS with the current TLS setting.
        login = await step.login({ ...previous, tls: current.tls });
        if (!login.ok) failures.push(`AWSPREVIOUS: ${login.reason}`);
      }
    }
    if (!login.ok) {
      throw new RotatorError(
        `cannot log in to ${step.where(current)} as "${current.username}" with the AWSPENDING, AWSCURRENT or AWSPREVIOUS password (${failures.join('; ')})`,
      );
    }
    try {
      await login.session.setOwnPassword(pending.username, pending.password);
    } finally {
      await login.session.close();
    }
  },
};
