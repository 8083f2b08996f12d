import { accountRootArn, parseArn, type RequestContext } from '../../core/index.js';
import { requestOnNamed, type NamedResource } from '../../policy/index.js';
import { keyStoreId, type GrantConstraints, type GrantRecord, type KeyRecord } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { dryRunError, kmsError } from '../errors.js';
import {
  grantFingerprint,
  grantNames,
  isGrantableOn,
  isGrantId,
  isWithin,
  newGrantId,
  newGrantToken,
  parseGrantToken,
} from '../grants.js';
import type { KeyAccess } from '../key-access.js';
import { namedKey, type KeyLookup } from '../key-lookup.js';
import { invalidState } from '../key-state.js';
import type { KmsInput } from '../schemas.js';

/**
 * CreateGrant, ListGrants, ListRetirableGrants, RetireGrant and RevokeGrant.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 * Key states: grants are made on Enabled and Disabled keys (a key pending deletion refuses CreateGrant with
 * KMSInvalidStateException); they are listed, retired and revoked in every state.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 */
export function createGrantOperations(deps: KmsDeps, lookup: KeyLookup, access: KeyAccess) {
  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html */
  async function createGrant(ctx: RequestContext, input: KmsInput<'CreateGrant'>) {
    const operations = [...new Set(input.Operations)];
    const constraints = normalizedConstraints(input.Constraints);
    const requested = { operations, constraints };
    const key = await access.keyFor(ctx, input.KeyId, 'CreateGrant', {
      accepts: 'id-or-arn',
      grantTokens: input.GrantTokens,
      context: {
        'kms:GrantOperations': operations,
        'kms:GranteePrincipal': input.GranteePrincipal,
        'kms:RetiringPrincipal': input.RetiringPrincipal,
        // True when an AWS service makes the grant for the caller (Secrets Manager calling KMS).
        'kms:GrantIsForAWSResource': ctx.viaService !== undefined,
        'kms:GrantConstraintType': constraintTypes(constraints),
      },
      // A grantee creating a grant through its own grant's CreateGrant permission may hand on no more than it holds.
      grantPermits: (parent) => isWithin(requested, parent),
    });
    assertGrantable(key, operations, constraints);
    if (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion') throw invalidState(key);
    if (input.DryRun) throw dryRunError();
    const grant: GrantRecord = {
      grantId: newGrantId(),
      keyId: keyStoreId(key),
      keyArn: key.arn,
      name: input.Name,
      granteePrincipal: input.GranteePrincipal,
      retiringPrincipal: input.RetiringPrincipal,
      issuingAccount: accountRootArn(key.accountId),
      operations,
      constraints,
      creationDate: ctx.clock.now(),
      fingerprint: grantFingerprint({ granteePrincipal: input.GranteePrincipal, retiringPrincipal: input.RetiringPrincipal, operations, constraints }),
    };
    // A named request retried with identical parameters gets the grant it made, with a new token.
    const stored = await deps.store.createGrant(grant);
    return { GrantId: stored.grantId, GrantToken: newGrantToken(stored.grantId, key.keyId) };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html */
  async function listGrants(ctx: RequestContext, input: KmsInput<'ListGrants'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'ListGrants', { accepts: 'id-or-arn' });
    if (input.GrantId !== undefined) assertGrantId(input.GrantId);
    assertMarker(input.Marker);
    const page = await deps.store.listGrants(keyStoreId(key), {
      limit: input.Limit ?? 50,
      marker: input.Marker,
      grantId: input.GrantId,
      granteePrincipal: input.GranteePrincipal,
    });
    return listed(page);
  }

  /**
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListRetirableGrants.html: "The authorized resource in
   * ListRetirableGrants calls is the retiring principal specified in the request", which must be in the caller's
   * account; the grants listed may be on keys of any account.
   */
  async function listRetirableGrants(ctx: RequestContext, input: KmsInput<'ListRetirableGrants'>) {
    await deps.authorizer.authorize(ctx, {
      action: 'kms:ListRetirableGrants',
      resource: input.RetiringPrincipal,
      resourceAccount: accountOfPrincipal(input.RetiringPrincipal) ?? ctx.principal.accountId,
    });
    assertMarker(input.Marker);
    const page = await deps.store.listRetirableGrants(input.RetiringPrincipal, { limit: input.Limit ?? 50, marker: input.Marker });
    return listed(page);
  }

  /**
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_RetireGrant.html: the grant is named by a token, or by
   * key and grant id. It may be retired by its retiring principal, by its grantee when it allows RetireGrant,
   * and by the account that owns the key (principals there whose IAM policies allow kms:RetireGrant).
   */
  async function retireGrant(ctx: RequestContext, input: KmsInput<'RetireGrant'>) {
    const { key, grantId, named } = await grantToRetire(ctx, input);
    const request = { action: 'kms:RetireGrant', resource: key.arn, resourceAccount: key.accountId, named };
    const grant = await deps.store.getGrant(keyStoreId(key), grantId);
    if (!grant) {
      // Whether a grant exists is told only to a caller the key's account lets retire grants on it.
      await deps.authorizer.authorize(ctx, request);
      throw grantNotFound(grantId);
    }
    // The grant itself allows its named principals (an explicit deny in their IAM policies still wins); one that
    // names the caller's account allows a caller whose IAM policies allow kms:RetireGrant (accountGranteeOf).
    const asRetiring = grantNames(ctx.principal.arn, grant.retiringPrincipal);
    const asGrantee = grant.operations.includes('RetireGrant') ? grantNames(ctx.principal.arn, grant.granteePrincipal) : undefined;
    const namedBy = asRetiring === 'grantee' || asGrantee === 'grantee' ? 'grantee' : (asRetiring ?? asGrantee);
    const byGrant = namedBy === 'grantee' ? { allowedByGrant: true } : namedBy === 'account' ? { allowedByAccountGrant: true } : {};
    await deps.authorizer.authorize(ctx, { ...request, ...byGrant });
    if (input.DryRun) throw dryRunError();
    if (!(await deps.store.deleteGrant(keyStoreId(key), grantId))) throw grantNotFound(grantId);
    return {};
  }

  /** The grant's key and id; `named` when the caller named the key by KeyId (a token names it by itself). */
  async function grantToRetire(ctx: RequestContext, input: KmsInput<'RetireGrant'>): Promise<{ key: KeyRecord; grantId: string; named?: NamedResource }> {
    if (input.GrantToken !== undefined) {
      const named = parseGrantToken(input.GrantToken);
      const key = await lookup.findKeyById(ctx, named.keyId);
      if (input.GrantId !== undefined && input.GrantId !== named.grantId) {
        throw kmsError('InvalidGrantIdException', 'The grant ID does not match the grant token.');
      }
      return { key, grantId: named.grantId };
    }
    if (input.KeyId === undefined || input.GrantId === undefined) {
      throw kmsError('ValidationException', 'Specify either a GrantToken, or both a KeyId and a GrantId.');
    }
    assertGrantId(input.GrantId);
    const named = namedKey(ctx, input.KeyId, {});
    const located = await lookup.locate(ctx, input.KeyId, 'id-or-arn', true);
    if (located.notFound) {
      await deps.authorizer.authorize(ctx, requestOnNamed('kms:RetireGrant', named));
      throw located.notFound;
    }
    return { key: located.key, grantId: input.GrantId, named };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_RevokeGrant.html */
  async function revokeGrant(ctx: RequestContext, input: KmsInput<'RevokeGrant'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'RevokeGrant', { accepts: 'id-or-arn' });
    assertGrantId(input.GrantId);
    if (!(await deps.store.getGrant(keyStoreId(key), input.GrantId))) throw grantNotFound(input.GrantId);
    if (input.DryRun) throw dryRunError();
    if (!(await deps.store.deleteGrant(keyStoreId(key), input.GrantId))) throw grantNotFound(input.GrantId);
    return {};
  }

  return { createGrant, listGrants, listRetirableGrants, retireGrant, revokeGrant };
}

/** The GrantListEntry shape. https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantListEntry.html */
function listed(page: { items: GrantRecord[]; nextMarker?: string }) {
  return {
    Grants: page.items.map((grant) => ({
      KeyId: grant.keyArn,
      GrantId: grant.grantId,
      Name: grant.name,
      CreationDate: grant.creationDate,
      GranteePrincipal: grant.granteePrincipal,
      RetiringPrincipal: grant.retiringPrincipal,
      IssuingAccount: grant.issuingAccount,
      Operations: grant.operations,
      Constraints: grant.constraints,
    })),
    NextMarker: page.nextMarker,
    Truncated: page.nextMarker !== undefined,
  };
}

/** Empty constraint members are dropped, so `{}` and no constraint are the same grant. */
function normalizedConstraints(constraints: GrantConstraints | undefined): GrantConstraints | undefined {
  if (!constraints) return undefined;
  const normalized: GrantConstraints = {};
  if (constraints.EncryptionContextSubset && Object.keys(constraints.EncryptionContextSubset).length > 0) {
    normalized.EncryptionContextSubset = constraints.EncryptionContextSubset;
  }
  if (constraints.EncryptionContextEquals && Object.keys(constraints.EncryptionContextEquals).length > 0) {
    normalized.EncryptionContextEquals = constraints.EncryptionContextEquals;
  }
  return Object.keys(normalized).length > 0 ? normalized : undefined;
}

function constraintTypes(constraints: GrantConstraints | undefined): string[] | undefined {
  if (!constraints) return undefined;
  return (['EncryptionContextEquals', 'EncryptionContextSubset'] as const).filter((type) => constraints[type] !== undefined);
}

/**
 * "The operation must be supported on the KMS key ... If you try, KMS returns a ValidationError exception"
 * (CreateGrant, Operations): which ones depends on the key's spec and usage (grants.ts isGrantableOn).
 */
function assertGrantable(key: KeyRecord, operations: readonly string[], constraints: GrantConstraints | undefined): void {
  if (operations.length === 0) throw kmsError('ValidationException', 'Operations must name at least one grant operation.');
  const unsupported = operations.filter((operation) => !isGrantableOn(key, operation));
  if (unsupported.length > 0) {
    throw kmsError('ValidationException', `${unsupported.join(', ')} is not a valid grant operation for ${key.arn} (KeySpec ${key.keySpec}).`);
  }
  // "You cannot use an encryption context grant constraint for cryptographic operations with asymmetric KMS keys or
  // HMAC KMS keys" (CreateGrant, Constraints). Refused rather than stored unapplied: a grant its maker meant to
  // constrain must not allow Sign or GenerateMac without one.
  if (constraints !== undefined && key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw kmsError('ValidationException', `Encryption context grant constraints are not supported on ${key.arn} (KeySpec ${key.keySpec}): its operations take no encryption context.`);
  }
}

function assertGrantId(grantId: string): void {
  if (!isGrantId(grantId)) throw kmsError('InvalidGrantIdException', `Invalid grant ID ${grantId}.`);
}

function assertMarker(marker: string | undefined): void {
  if (marker !== undefined && !isGrantId(marker)) throw kmsError('InvalidMarkerException', 'The marker is not valid.');
}

function accountOfPrincipal(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  const arn = parseArn(principal);
  return arn?.accountId || undefined;
}

function grantNotFound(grantId: string) {
  return kmsError('NotFoundException', `Grant ID ${grantId} not found.`);
}

