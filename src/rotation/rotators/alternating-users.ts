import type { DatabaseSecret } from './database-secret.js';
import type { DatabaseEngine } from './engine.js';
import { RotatorError } from './errors.js';
import { assertSameDatabase, type RotationStrategy, type StepContext } from './four-step.js';
import { AWSCURRENT, AWSPENDING } from './secrets-api.js';

/**
 * Alternating users: the first rotation clones the user as `<user>_clone` (logged in as the master user the
 * secret names in `masterarn`), later rotations take turns between the two, so the credentials of AWSPREVIOUS
 * keep working until the next rotation.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_strategies.html#rotating-secrets-two-users
 */

const CLONE_SUFFIX = '_clone';

/** `app` → `app_clone` → `app`, as the templates alternate. */
export function alternateUsername(username: string, engine: DatabaseEngine): string {
  if (username.endsWith(CLONE_SUFFIX) && username.length > CLONE_SUFFIX.length) return username.slice(0, -CLONE_SUFFIX.length);
  const clone = username + CLONE_SUFFIX;
  if (clone.length > engine.maxUsernameLength) {
    throw new RotatorError(
      `cannot clone user "${username}": "${clone}" would be longer than the ${engine.maxUsernameLength} characters a ${engine.engineLabel} user name may have`,
    );
  }
  return clone;
}

export const alternatingUsers: RotationStrategy = {
  requiresMasterArn: true,

  pendingUsername(current: DatabaseSecret, engine: DatabaseEngine): string {
    return alternateUsername(current.username, engine);
  },

  async setSecret(step: StepContext): Promise<void> {
    const current = await step.readSecret(AWSCURRENT);
    const pending = await step.readSecret(AWSPENDING);

    const pendingLogin = await step.login(pending);
    if (pendingLogin.ok) {
      await pendingLogin.session.close();
      return;
    }
    const expected = alternateUsername(current.username, step.engine);
    if (pending.username !== expected) {
      throw new RotatorError(`AWSPENDING is for user "${pending.username}", but the user alternating with "${current.username}" is "${expected}"`);
    }
    assertSameDatabase(step, current, pending, 'AWSPENDING');

    // As the templates do: the current credentials must work before the master user acts on their behalf,
    // so a secret cannot steer the master user to a user it does not own.
    const currentLogin = await step.login(current);
    if (!currentLogin.ok) {
      throw new RotatorError(`cannot log in to ${step.where(current)} as "${current.username}" with the AWSCURRENT password (${currentLogin.reason}); it is checked before the alternate user is changed`);
    }
    await currentLogin.session.close();

    const masterArn = current.masterarn!;
    const master = { ...(await step.readMasterSecret(masterArn)), dbname: current.dbname };
    assertSameDatabase(step, current, master, `master secret ${masterArn}`);
    const masterLogin = await step.login(master);
    if (!masterLogin.ok) {
      throw new RotatorError(`cannot log in to ${step.where(master)} as "${master.username}" with master secret ${masterArn} (${masterLogin.reason})`);
    }
    try {
      await masterLogin.session.ensureUserLike(pending.username, current.username, pending.password);
    } finally {
      await masterLogin.session.close();
    }
  },
};
