import { AwsError, type Principal, type SessionAttributes } from '../../core/index.js';
import { requestTagContext, type RequestContextValues } from '../../policy/index.js';
import { stsError } from '../errors.js';
import { principalName } from '../identity-policies.js';
import { checkPolicyDocument } from '../policy-documents.js';
import type { StsInput } from '../schemas.js';

/**
 * What AssumeRole's session members (Policy, PolicyArns, Tags, TransitiveTagKeys, SourceIdentity) make of the new
 * session, checked before anything is created: AWS's limits and errors, and role chaining, where the caller's
 * transitive tags and source identity pass into the new session and may not be overridden.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_role-chaining
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html
 */

/**
 * The packed size limit. AWS compresses the session policy, the policy ARNs and the session tags into a binary
 * format of its own whose limit it does not publish; "the plaintext that you use for both inline and managed
 * session policies can't exceed 2,048 characters". Coffer counts the policy without whitespace (as packed), the
 * ARNs and the passed tags' keys and values against 2,048 characters: close to AWS for policies, stricter than
 * AWS may be for many long tags (a refusal is the safe side of an unknowable limit).
 */
export const PACKED_SIZE_LIMIT_CHARS = 2048;

/** A role session may last at most one hour when a role session assumes it (role chaining), whatever the role allows. */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

export type SessionRequest = Pick<StsInput<'AssumeRole'>, 'Policy' | 'PolicyArns' | 'Tags' | 'TransitiveTagKeys' | 'SourceIdentity'>;

type Tag = { Key: string; Value: string };

export type PlannedSession = {
  /** What the new session's access key keeps; undefined when it carries nothing. */
  readonly attributes: SessionAttributes | undefined;
  /** AssumeRole's PackedPolicySize: set when the request passed session policies or tags, as AWS answers it. */
  readonly packedPolicySize: number | undefined;
  /** The session's tags (passed and inherited): sts:TagSession must allow them, as request tags. */
  readonly tags: readonly Tag[];
  readonly transitiveTagKeys: readonly string[];
  /** The session's source identity (passed or inherited): sts:SetSourceIdentity must allow it. */
  readonly sourceIdentity: string | undefined;
};

/**
 * The new session's attributes from the request and the calling session. Throws AWS's error (and nothing is
 * created) for a malformed or too large session policy, duplicate tag keys, a transitive key that is not a tag,
 * or an attempt to override what the calling session passes on.
 */
export function planSession(input: SessionRequest, caller: Principal, roleAccountId: string): PlannedSession {
  const policyArns = checkPolicyArns(input.PolicyArns ?? [], roleAccountId);
  const packedPolicy = input.Policy === undefined ? undefined : checkSessionPolicy(input.Policy);
  const passedTags = input.Tags ?? [];
  checkUniqueKeys(passedTags);
  const passedTransitive = transitiveKeysOf(passedTags, input.TransitiveTagKeys ?? []);

  const inherited = inheritedFrom(caller);
  const conflicting = passedTags.find((tag) => inherited.tags.some((own) => sameKey(own.Key, tag.Key)));
  if (conflicting) {
    throw stsError('InvalidParameterValue', `The session tag key ${conflicting.Key} is a transitive tag of the calling session and cannot be set again.`);
  }
  if (inherited.sourceIdentity !== undefined && input.SourceIdentity !== undefined && input.SourceIdentity !== inherited.sourceIdentity) {
    throw stsError('InvalidParameterValue', 'The source identity of the calling session cannot be changed: it passes to every session assumed from it.');
  }

  const passesPolicies = input.Policy !== undefined || policyArns.length > 0 || passedTags.length > 0;
  const packedPolicySize = passesPolicies ? packedPercent(packedPolicy, policyArns, passedTags) : undefined;
  if (packedPolicySize !== undefined && packedPolicySize > 100) {
    throw stsError('PackedPolicyTooLarge', `Packed policy consumes ${packedPolicySize}% of allotted space, please use smaller policy.`);
  }

  const tags = [...inherited.tags, ...passedTags];
  const transitiveTagKeys = [...inherited.tags.map((tag) => tag.Key), ...passedTransitive];
  const sourceIdentity = inherited.sourceIdentity ?? input.SourceIdentity;
  const attributes: SessionAttributes = {
    ...(input.Policy !== undefined ? { policy: input.Policy } : {}),
    ...(policyArns.length > 0 ? { policyArns } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    ...(transitiveTagKeys.length > 0 ? { transitiveTagKeys } : {}),
    ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
  };
  return { attributes: Object.keys(attributes).length > 0 ? attributes : undefined, packedPolicySize, tags, transitiveTagKeys, sourceIdentity };
}

/** True when the caller is a role session, so assuming a role is role chaining (one hour at most). */
export function isRoleChaining(caller: Principal): boolean {
  return principalName(caller.arn).kind === 'assumed-role';
}

/** The condition keys of the sts:TagSession check: the session's tags as request tags, and its transitive keys. */
export function tagSessionContext(session: PlannedSession): RequestContextValues {
  return { ...requestTagContext(session.tags.map((tag) => [tag.Key, tag.Value] as const)), 'sts:TransitiveTagKeys': [...session.transitiveTagKeys] };
}

/** What the calling session passes on: its transitive tags and its source identity. */
function inheritedFrom(caller: Principal): { tags: Tag[]; sourceIdentity: string | undefined } {
  const session = caller.session;
  if (!session) return { tags: [], sourceIdentity: undefined };
  const transitive = session.transitiveTagKeys ?? [];
  const tags = (session.tags ?? []).filter((tag) => transitive.some((key) => sameKey(key, tag.Key)));
  return { tags, sourceIdentity: session.sourceIdentity };
}

/**
 * A session policy is an identity policy (no Principal): IAM's checks, answered as STS's MalformedPolicyDocument.
 * Returns the policy as packed: without whitespace outside its strings.
 */
function checkSessionPolicy(text: string): string {
  try {
    checkPolicyDocument(text, 'identity');
  } catch (error) {
    if (error instanceof AwsError && error.code === 'MalformedPolicyDocument') throw stsError('MalformedPolicyDocument', error.message);
    throw error;
  }
  return JSON.stringify(JSON.parse(text));
}

/**
 * Managed policy ARNs of the role's account or AWS's (`arn:aws:iam::aws:policy/…`), each named once: "The policies
 * must exist in the same account as the role."
 */
function checkPolicyArns(entries: ReadonlyArray<{ arn?: string }>, roleAccountId: string): string[] {
  const arns: string[] = [];
  for (const entry of entries) {
    const arn = entry.arn ?? '';
    const account = /^arn:aws:iam::(\d{12}|aws):policy\/[\u0021-\u007E]+$/.exec(arn)?.[1];
    if (account === undefined) {
      throw stsError('InvalidParameterValue', `The policy ARN ${arn || '(missing)'} in PolicyArns is not a managed policy ARN.`);
    }
    if (account !== roleAccountId && account !== 'aws') {
      throw stsError('InvalidParameterValue', `The policy ${arn} in PolicyArns is not in the role's account ${roleAccountId}.`);
    }
    if (!arns.includes(arn)) arns.push(arn);
  }
  return arns;
}

/**
 * "Tag key–value pairs are not case sensitive, but case is preserved. This means that you cannot have separate
 * Department and department tag keys."
 */
function checkUniqueKeys(tags: readonly Tag[]): void {
  const seen = new Set<string>();
  for (const tag of tags) {
    const key = tag.Key.toLowerCase();
    if (seen.has(key)) throw stsError('InvalidParameterValue', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(key);
  }
}

/** The transitive keys, each one of the passed tags (spelled as the tag spells it). */
function transitiveKeysOf(tags: readonly Tag[], keys: readonly string[]): string[] {
  const transitive: string[] = [];
  for (const key of keys) {
    const tag = tags.find((candidate) => sameKey(candidate.Key, key));
    if (!tag) throw stsError('InvalidParameterValue', `The transitive tag key ${key} is not among the session tags passed in Tags.`);
    if (!transitive.includes(tag.Key)) transitive.push(tag.Key);
  }
  return transitive;
}

function packedPercent(packedPolicy: string | undefined, policyArns: readonly string[], tags: readonly Tag[]): number {
  let chars = packedPolicy?.length ?? 0;
  for (const arn of policyArns) chars += arn.length;
  for (const tag of tags) chars += tag.Key.length + tag.Value.length;
  return Math.ceil((100 * chars) / PACKED_SIZE_LIMIT_CHARS);
}

function sameKey(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
