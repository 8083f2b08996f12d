import type { Sensitive } from '../../core/index.js';
import type { RotationEvent, Rotator, SecretsCaller } from '../rotator.js';
import { parseDatabaseSecret, serializeDatabaseSecret, type DatabaseSecret } from './database-secret.js';
import type { DatabaseEngine, LoginResult } from './engine.js';
import { awsErrorCode, RotatorError, safeMessage } from './errors.js';
import {
  AWSCURRENT,
  AWSPENDING,
  describeSecret,
  findSecretString,
  getRandomPassword,
  getSecretString,
  moveCurrentTo,
  putPendingVersion,
  type SecretMetadata,
} from './secrets-api.js';

/**
 * The four steps every built-in database rotator shares, as AWS's RDS rotation templates do them:
 * createSecret writes the new credentials as AWSPENDING, setSecret makes the database accept them (the
 * strategy's part), testSecret logs in with them, finishSecret moves AWSCURRENT to them. Each step is safe to
 * repeat: createSecret keeps an existing AWSPENDING of the same token, setSecret returns when the pending
 * credentials already log in, finishSecret returns when the token is already AWSCURRENT.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */

/** How a rotator changes the database: one user changing its own password, or two users taking turns. */
export interface RotationStrategy {
  /** Whether the rotated secret must name a master secret in `masterarn`. */
  readonly requiresMasterArn: boolean;
  /** The username of the new version, from the current one. */
  pendingUsername(current: DatabaseSecret, engine: DatabaseEngine): string;
  setSecret(step: StepContext): Promise<void>;
}

/** What a step works with: the event, the Secrets Manager calls, the engine, and reading the secret's versions. */
export type StepContext = {
  readonly secrets: SecretsCaller;
  readonly secretId: string;
  readonly token: string;
  readonly engine: DatabaseEngine;
  readonly strategy: RotationStrategy;
  /** A version of the rotated secret, parsed and checked; AWSPENDING is always read by the rotation's token. */
  readSecret(stage: string): Promise<DatabaseSecret>;
  /** Like readSecret, undefined when there is no such version or it is not a usable database secret. */
  findSecret(stage: string): Promise<DatabaseSecret | undefined>;
  /** The AWSCURRENT version of the master secret an alternating-users secret names in `masterarn`. */
  readMasterSecret(masterArn: string): Promise<DatabaseSecret>;
  login(secret: DatabaseSecret): Promise<LoginResult>;
  /** "PostgreSQL at host:port", for messages. */
  where(secret: DatabaseSecret): string;
};

function createStepContext(options: {
  secrets: SecretsCaller;
  secretId: string;
  token: string;
  engine: DatabaseEngine;
  strategy: RotationStrategy;
  connectTimeoutMs: number;
}): StepContext {
  const { secrets, secretId, token, engine, strategy, connectTimeoutMs } = options;
  const what = (stage: string) => `the ${stage} version of secret ${secretId}`;
  const parse = (secretString: Sensitive<string>, stage: string) =>
    parseDatabaseSecret(secretString, what(stage), engine, { requireMasterArn: strategy.requiresMasterArn });

  return {
    secrets,
    secretId,
    token,
    engine,
    strategy,
    async readSecret(stage) {
      const value = await getSecretString(secrets, secretId, stage, stage === AWSPENDING ? token : undefined);
      return parse(value.secretString, stage);
    },
    async findSecret(stage) {
      const value = await findSecretString(secrets, secretId, stage);
      if (!value) return undefined;
      try {
        return parseDatabaseSecret(value.secretString, what(stage), engine);
      } catch (error) {
        if (error instanceof RotatorError) return undefined;
        throw error;
      }
    },
    async readMasterSecret(masterArn) {
      let value;
      try {
        value = await getSecretString(secrets, masterArn, AWSCURRENT);
      } catch (error) {
        if (error instanceof RotatorError) throw new RotatorError(`the master secret ${masterArn} named in "masterarn" does not exist or has no AWSCURRENT version`);
        const code = awsErrorCode(error);
        throw new RotatorError(`reading the master secret ${masterArn} named in "masterarn" failed: ${code ? `${code}: ` : ''}${safeMessage(error, [])}`);
      }
      return parseDatabaseSecret(value.secretString, `the AWSCURRENT version of master secret ${masterArn}`, engine);
    },
    login: (secret) => engine.login(secret, { connectTimeoutMs }),
    where: (secret) => `${engine.engineLabel} at ${secret.host}:${secret.port}`,
  };
}

/** Refuses credentials meant for another database than the current ones (the templates check host). */
export function assertSameDatabase(step: StepContext, current: DatabaseSecret, other: DatabaseSecret, otherLabel: string): void {
  if (current.host !== other.host || current.port !== other.port) {
    throw new RotatorError(
      `${otherLabel} points at ${step.where(other)}, not at ${step.where(current)} like AWSCURRENT; a rotation changes only the database of AWSCURRENT`,
    );
  }
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export type DatabaseRotatorOptions = {
  engine: DatabaseEngine;
  strategy: RotationStrategy;
  /** How long one connection attempt may take (the templates use 5 s). */
  connectTimeoutMs?: number;
};

export function createDatabaseRotator(options: DatabaseRotatorOptions): Rotator {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return {
    async runStep(event: RotationEvent, secrets: SecretsCaller): Promise<void> {
      const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
      if (typeof secretId !== 'string' || !secretId || typeof token !== 'string' || !token) {
        throw new RotatorError('a rotation event needs SecretId and ClientRequestToken');
      }
      const context = createStepContext({ secrets, secretId, token, engine: options.engine, strategy: options.strategy, connectTimeoutMs });
      try {
        const metadata = await describeSecret(secrets, secretId);
        if (!checkVersion(metadata, secretId, token, step)) return;
        switch (step) {
          case 'createSecret':
            return await createSecret(context);
          case 'setSecret':
            return await options.strategy.setSecret(context);
          case 'testSecret':
            return await testSecret(context);
          case 'finishSecret':
            return await finishSecret(context, metadata);
          default:
            throw new RotatorError(`unknown rotation step ${JSON.stringify(step)}; the steps are createSecret, setSecret, testSecret and finishSecret`);
        }
      } catch (error) {
        throw stepError(step, error);
      }
    },
  };
}

/**
 * The templates' check before every step: rotation not switched off, and the token's version is AWSPENDING
 * (or already AWSCURRENT, when there is nothing left to do). Coffer's runner may call createSecret before any
 * version of the token exists, so only the later steps require it. Returns false when the step has nothing to do.
 */
function checkVersion(metadata: SecretMetadata, secretId: string, token: string, step: string): boolean {
  if (metadata.rotationEnabled === false) throw new RotatorError(`secret ${secretId} is not enabled for rotation`);
  const stages = metadata.versionIdsToStages[token];
  if (stages?.includes(AWSCURRENT)) return false;
  if (stages && !stages.includes(AWSPENDING)) throw new RotatorError(`version ${token} of secret ${secretId} is not labelled AWSPENDING, so it is not being rotated`);
  if (!stages && step !== 'createSecret') throw new RotatorError(`secret ${secretId} has no version ${token} to rotate to; createSecret makes it`);
  return true;
}

/** Keeps an existing AWSPENDING of this token; otherwise writes the current JSON with a new password (and user). */
async function createSecret(step: StepContext): Promise<void> {
  const current = await step.readSecret(AWSCURRENT);
  const existing = await findSecretString(step.secrets, step.secretId, AWSPENDING, step.token);
  if (existing) {
    await step.readSecret(AWSPENDING);
    return;
  }
  const username = step.strategy.pendingUsername(current, step.engine);
  const password = await getRandomPassword(step.secrets, step.engine.excludeCharacters);
  await putPendingVersion(step.secrets, step.secretId, step.token, serializeDatabaseSecret(current, username, password));
}

/** Logs in with the pending credentials and runs the templates' test query. */
async function testSecret(step: StepContext): Promise<void> {
  const pending = await step.readSecret(AWSPENDING);
  const login = await step.login(pending);
  if (!login.ok) {
    throw new RotatorError(`cannot log in to ${step.where(pending)} as "${pending.username}" with the AWSPENDING password: ${login.reason}`);
  }
  try {
    await login.session.check();
  } catch (error) {
    throw new RotatorError(`the test query as "${pending.username}" on ${step.where(pending)} failed: ${safeMessage(error, [pending.password.reveal()])}`);
  } finally {
    await login.session.close();
  }
}

/** Moves AWSCURRENT to the token's version (AWSPREVIOUS follows the old one), unless it is already there. */
async function finishSecret(step: StepContext, metadata: SecretMetadata): Promise<void> {
  let currentVersion: string | undefined;
  for (const [versionId, stages] of Object.entries(metadata.versionIdsToStages)) {
    if (!stages.includes(AWSCURRENT)) continue;
    if (versionId === step.token) return;
    currentVersion = versionId;
    break;
  }
  await moveCurrentTo(step.secrets, step.secretId, step.token, currentVersion);
}

/** Every failure leaves a step as a RotatorError whose message starts with the step; an AWS error keeps its code. */
function stepError(step: string, error: unknown): RotatorError {
  if (error instanceof RotatorError) return new RotatorError(`${step}: ${error.message}`);
  const code = awsErrorCode(error);
  const wrapped = new RotatorError(`${step}: ${code ? `${code}: ` : ''}${safeMessage(error, [])}`);
  if (code) Object.assign(wrapped, { code });
  return wrapped;
}
