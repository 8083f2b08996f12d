import { stsError } from '../errors.js';
import type { JwtClaims } from './jwt.js';

/**
 * The claims AWS reads besides iss/sub/aud: session tags in `https://aws.amazon.com/tags` (`principal_tags`, each
 * a one-value list, and `transitive_tag_keys`) and `https://aws.amazon.com/source_identity`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp
 * A malformed claim refuses the token (IDPRejectedClaim) rather than being dropped: a session without the tags
 * its issuer meant would see other conditions than the ones the issuer set up.
 */
export const TAGS_CLAIM = 'https://aws.amazon.com/tags';
export const SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';

const MAX_SESSION_TAGS = 50;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;

export type SessionTagClaims = { tags: Array<{ Key: string; Value: string }>; transitiveTagKeys: string[] };

function rejected(detail: string) {
  return stsError('IDPRejectedClaim', `The token's ${detail}`);
}

/** The session tags a token carries; undefined when it has no tags claim. */
export function sessionTagsOf(claims: JwtClaims): SessionTagClaims | undefined {
  const claim = claims[TAGS_CLAIM];
  if (claim === undefined) return undefined;
  if (claim === null || typeof claim !== 'object' || Array.isArray(claim)) throw rejected(`${TAGS_CLAIM} claim must be an object.`);
  const { principal_tags: principalTags = {}, transitive_tag_keys: transitive = [] } = claim as Record<string, unknown>;
  if (principalTags === null || typeof principalTags !== 'object' || Array.isArray(principalTags)) throw rejected('principal_tags must be an object.');
  const tags: Array<{ Key: string; Value: string }> = [];
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(principalTags)) {
    const value = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
    if (!TAG_KEY.test(key) || typeof value !== 'string' || !TAG_VALUE.test(value)) throw rejected('principal_tags hold a tag key or value IAM does not allow (each value must be one string).');
    // Tag keys are case-insensitive for sessions: two that differ only by case are one key given twice.
    if (seen.has(key.toLowerCase())) throw rejected('principal_tags name a tag key twice.');
    seen.add(key.toLowerCase());
    tags.push({ Key: key, Value: value });
  }
  if (tags.length > MAX_SESSION_TAGS) throw rejected(`principal_tags hold more than ${MAX_SESSION_TAGS} tags.`);
  if (!Array.isArray(transitive) || !transitive.every((key) => typeof key === 'string' && seen.has(key.toLowerCase()))) {
    throw rejected('transitive_tag_keys must list keys of principal_tags.');
  }
  return { tags, transitiveTagKeys: transitive as string[] };
}

export function sourceIdentityOf(claims: JwtClaims): string | undefined {
  const claim = claims[SOURCE_IDENTITY_CLAIM];
  if (claim === undefined) return undefined;
  if (typeof claim !== 'string' || !SOURCE_IDENTITY.test(claim)) throw rejected(`${SOURCE_IDENTITY_CLAIM} claim is not a valid source identity.`);
  return claim;
}
