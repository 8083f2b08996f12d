import { createHash, randomBytes } from 'node:crypto';
import { accountRootArn, Sensitive, systemClock, type Clock, type Principal, type SessionAttributes } from '../core/index.js';
import type { Keyring } from '../crypto/index.js';
import type { IamRepository } from '../store/index.js';

/** The account created on first start, and the one `--dev` mode's `test`/`test` key belongs to. */
export const BOOTSTRAP_ACCOUNT_ID = '000000000000';
export const DEV_ACCESS_KEY = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export type ResolvedCredential = {
  principal: Principal;
  secretAccessKey: string;
  /** Set for STS session keys: requests signed with the key must carry the matching X-Amz-Security-Token. */
  sessionTokenHash?: string;
};

export type CredentialDeps = {
  store: Pick<IamRepository, 'getAccessKey' | 'insertAccessKey' | 'insertUserAccessKey' | 'insertRootAccessKey' | 'deleteExpiredAccessKeys'>;
  keyring: Keyring;
  devMode: boolean;
  /**
   * Wall-clock time for the expiry of temporary keys (default the system clock). Like SigV4 freshness it is
   * real time, never the injected domain clock: the key is handed to a real process that runs in real time.
   */
  clock?: Clock;
};

/**
 * Access keys: the secret is sealed under the root key (SigV4 needs it back to recompute signatures),
 * bound to its access key id.
 */
export function createCredentials(deps: CredentialDeps) {
  const clock = deps.clock ?? systemClock;
  // `--dev`'s key resolves to the same principal on every request: made once (frozen, as every call shares it).
  const devCredential: ResolvedCredential | undefined = deps.devMode
    ? { principal: Object.freeze(rootPrincipal(BOOTSTRAP_ACCOUNT_ID, DEV_ACCESS_KEY.accessKeyId)), secretAccessKey: DEV_ACCESS_KEY.secretAccessKey }
    : undefined;

  /** The principal and secret of a key, or undefined when it is unknown, does not open, or has expired at `now`. */
  async function resolve(accessKeyId: string, now: Date = clock.now()): Promise<ResolvedCredential | undefined> {
    const found = await lookup(accessKeyId, now);
    return found && 'principal' in found ? found : undefined;
  }

  /**
   * resolve, telling an expired STS session apart (AWS answers ExpiredToken for it rather than an unknown key).
   * `--dev`'s key is answered without a promise (authenticate.ts then verifies without awaiting).
   */
  function lookup(accessKeyId: string, now: Date = clock.now()): ResolvedCredential | Promise<ResolvedCredential | { expiredSession: true } | undefined> {
    if (devCredential && accessKeyId === DEV_ACCESS_KEY.accessKeyId) return devCredential;
    return lookupStored(accessKeyId, now);
  }

  async function lookupStored(accessKeyId: string, now: Date): Promise<ResolvedCredential | { expiredSession: true } | undefined> {
    const record = await deps.store.getAccessKey(accessKeyId);
    if (!record || record.status === 'Inactive') return undefined;
    if (record.expiresAt && record.expiresAt.getTime() <= now.getTime()) {
      deps.keyring.forget(accessKeySealOwner(accessKeyId));
      return record.sessionTokenHash ? { expiredSession: true } : undefined;
    }
    const secret = deps.keyring.open(record.sealedSecret, accessKeySealOwner(accessKeyId));
    if (!secret) return undefined;
    return {
      principal: {
        accountId: record.accountId,
        arn: record.principalArn,
        accessKeyId,
        ...(record.expiresAt ? { tokenIssuedAt: record.createdAt } : {}),
        ...(record.session ? { session: record.session } : {}),
      },
      secretAccessKey: secret.toString('utf8'),
      sessionTokenHash: record.sessionTokenHash,
    };
  }

  /** A new key id and secret, the secret sealed under the root key for the store (SigV4 needs it back). */
  function newSealedKey(prefix: 'AKIA' | 'ASIA') {
    const accessKeyId = newAccessKeyId(prefix);
    const secretAccessKey = randomBytes(30).toString('base64');
    return { accessKeyId, secretAccessKey, sealedSecret: deps.keyring.seal(Buffer.from(secretAccessKey, 'utf8'), accessKeySealOwner(accessKeyId)) };
  }

  /** Creates an access key for an account's root user; returns the secret once, to hand to its owner. */
  async function createRootAccessKey(accountId: string, now: Date) {
    const { accessKeyId, secretAccessKey, sealedSecret } = newSealedKey('AKIA');
    await deps.store.insertAccessKey({
      accessKeyId,
      accountId,
      principalArn: accountRootArn(accountId),
      sealedSecret,
      createdAt: now,
    });
    return { accessKeyId, secretAccessKey };
  }

  /** CreateAccessKey by the root for itself: like createRootAccessKey, refused (undefined) at `maxKeys` keys. */
  async function createLimitedRootAccessKey(accountId: string, maxKeys: number, now: Date) {
    const { accessKeyId, secretAccessKey, sealedSecret } = newSealedKey('AKIA');
    const inserted = await deps.store.insertRootAccessKey(
      {
        accessKeyId,
        accountId,
        principalArn: accountRootArn(accountId),
        sealedSecret,
        createdAt: now,
      },
      maxKeys,
    );
    return inserted ? { accessKeyId, secretAccessKey: new Sensitive(secretAccessKey), createdAt: now } : undefined;
  }

  /**
   * A long-term key of an IAM user: it authenticates as the user. Refused (no key made) when the user is gone or
   * already has `maxKeys` keys.
   */
  async function createUserAccessKey(user: { accountId: string; arn: string; userId: string }, maxKeys: number, now: Date) {
    const { accessKeyId, secretAccessKey, sealedSecret } = newSealedKey('AKIA');
    const outcome = await deps.store.insertUserAccessKey(
      {
        accessKeyId,
        accountId: user.accountId,
        principalArn: user.arn,
        userId: user.userId,
        status: 'Active',
        sealedSecret,
        createdAt: now,
      },
      maxKeys,
    );
    if (outcome !== 'created') return { outcome } as const;
    return { outcome, accessKeyId, secretAccessKey: new Sensitive(secretAccessKey), createdAt: now } as const;
  }

  /**
   * STS temporary credentials (AssumeRole): an ASIA key that works only with its session token, until
   * `ttlMs` from now (wall-clock time, like SigV4). Only the token's hash is stored; the token itself is handed out once.
   */
  async function createSessionAccessKey(accountId: string, principalArn: string, ttlMs: number, session?: SessionAttributes) {
    const expiresAt = new Date(clock.now().getTime() + ttlMs);
    const { accessKeyId, secretAccessKey, sealedSecret } = newSealedKey('ASIA');
    const sessionToken = randomBytes(96).toString('base64');
    await deps.store.insertAccessKey({
      accessKeyId,
      accountId,
      principalArn,
      sealedSecret,
      createdAt: clock.now(),
      expiresAt,
      sessionTokenHash: sessionTokenHash(sessionToken),
      ...(session ? { session } : {}),
    });
    return { accessKeyId, secretAccessKey: new Sensitive(secretAccessKey), sessionToken: new Sensitive(sessionToken), expiresAt };
  }

  /** Deletes the temporary keys (STS sessions, functions' role sessions) expired at `now`; returns how many. */
  function deleteExpiredAccessKeys(now: Date): Promise<number> {
    return deps.store.deleteExpiredAccessKeys(now);
  }

  return {
    resolve,
    lookup,
    createRootAccessKey,
    createLimitedRootAccessKey,
    createUserAccessKey,
    createSessionAccessKey,
    deleteExpiredAccessKeys,
  };
}

export type Credentials = ReturnType<typeof createCredentials>;

function rootPrincipal(accountId: string, accessKeyId: string): Principal {
  return { accountId, arn: accountRootArn(accountId), accessKeyId };
}

/** How a session token is stored and compared: SHA-256, hex. */
export function sessionTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The AAD owner an access key's secret is sealed for (a rekey re-wraps each row for the same owner). */
export function accessKeySealOwner(accessKeyId: string): string {
  return `access-key:${accessKeyId}`;
}

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** AWS-shaped key id: AKIA (long-term) or ASIA (temporary) + 16 characters of base32. */
function newAccessKeyId(prefix: 'AKIA' | 'ASIA' = 'AKIA'): string {
  const bytes = randomBytes(16);
  let id: string = prefix;
  for (const byte of bytes) id += ACCESS_KEY_ALPHABET[byte % 32];
  return id;
}
