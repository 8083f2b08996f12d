/**
 * Which condition keys Coffer puts into the request context, and for which actions. A condition on a key that is
 * never set is a trap: a Deny with StringEquals on it never applies, an Allow with StringNotEquals always does.
 * validate.ts names such keys. Keep this table next to what access.ts, secrets/ and kms/ set: a key added there
 * belongs here too (the unit test of the table checks the global keys access.ts sets).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
import { globMatcher } from './wildcard.js';

/**
 * A key (lower case; ending in `/` or `:` for a family such as `aws:principaltag/`) and the actions whose requests
 * may carry it: `*` (every action), `service:*`, or `service:Action`. "May": some keys are set only for some
 * callers (aws:username for IAM users, aws:TokenIssueTime for temporary credentials).
 */
type KeySource = { readonly key: string; readonly actions: readonly string[] };

const EVERY_ACTION = ['*'];
const SECRETS = ['secretsmanager:*'];
const KMS = ['kms:*'];
/** Calls that set tags carry aws:RequestTag/* and aws:TagKeys; calls that remove them aws:TagKeys. */
const TAGGING = [
  'secretsmanager:CreateSecret', 'secretsmanager:TagResource', 'kms:TagResource', 'iam:CreateUser', 'iam:CreateRole', 'iam:TagUser', 'iam:TagRole',
  'iam:CreatePolicy', 'iam:TagPolicy', 'ssm:PutParameter', 'ssm:AddTagsToResource',
  // AssumeRole with Tags checks sts:TagSession with the session tags as request tags.
  'sts:TagSession',
];
const UNTAGGING = ['secretsmanager:UntagResource', 'kms:UntagResource', 'iam:UntagUser', 'iam:UntagRole', 'iam:UntagPolicy', 'ssm:RemoveTagsFromResource'];
/** iam/operations/callers.ts BOUNDARY_KEYED and the operations that set a boundary. */
const BOUNDARY_KEYED = [
  'iam:CreateUser', 'iam:PutUserPermissionsBoundary', 'iam:DeleteUserPermissionsBoundary', 'iam:AttachUserPolicy', 'iam:DetachUserPolicy',
  'iam:PutUserPolicy', 'iam:DeleteUserPolicy',
  'iam:CreateRole', 'iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy',
  'iam:PutRolePolicy', 'iam:DeleteRolePolicy',
];

const SOURCES: readonly KeySource[] = [
  // Request-wide keys (policy/access.ts): time, network, region, the caller.
  ...[
    'aws:currenttime',
    'aws:epochtime',
    'aws:sourceip',
    'aws:securetransport',
    'aws:requestedregion',
    'aws:resourceaccount',
    'aws:principalarn',
    'aws:principalaccount',
    'aws:principaltype',
    'aws:principalisawsservice',
    'aws:principaltag/',
    'aws:userid',
    'aws:username',
    'aws:tokenissuetime',
    'aws:multifactorauthpresent',
    'aws:viaawsservice',
    // Requests of a role session that was given a source identity (or inherited one).
    'aws:sourceidentity',
  ].map((key) => ({ key, actions: EVERY_ACTION })),
  // Secrets Manager calling KMS for the caller (kms/envelope-port.ts).
  ...['aws:calledvia', 'aws:calledviafirst', 'aws:calledvialast', 'kms:viaservice'].map((key) => ({ key, actions: KMS })),
  { key: 'aws:resourcetag/', actions: [...SECRETS, ...KMS, 'iam:*', 'ssm:*'] },
  // ssm/parameter-access.ts and the operations.
  { key: 'ssm:resourcetag/', actions: ['ssm:*'] },
  { key: 'ssm:overwrite', actions: ['ssm:PutParameter'] },
  { key: 'ssm:recursive', actions: ['ssm:GetParametersByPath'] },
  { key: 'iam:resourcetag/', actions: ['iam:*'] },
  { key: 'aws:requesttag/', actions: TAGGING },
  { key: 'aws:tagkeys', actions: [...TAGGING, ...UNTAGGING] },
  // secrets/secret-access.ts and the operations.
  ...['secretsmanager:name', 'secretsmanager:secretid', 'secretsmanager:secretprimaryregion', 'secretsmanager:resource/allowrotationlambdaarn', 'secretsmanager:resourcetag/'].map(
    (key) => ({ key, actions: SECRETS }),
  ),
  { key: 'secretsmanager:versionid', actions: ['secretsmanager:GetSecretValue'] },
  { key: 'secretsmanager:versionstage', actions: ['secretsmanager:GetSecretValue', 'secretsmanager:UpdateSecretVersionStage'] },
  { key: 'secretsmanager:rotationlambdaarn', actions: ['secretsmanager:RotateSecret'] },
  { key: 'secretsmanager:description', actions: ['secretsmanager:CreateSecret', 'secretsmanager:UpdateSecret'] },
  { key: 'secretsmanager:kmskeyid', actions: ['secretsmanager:CreateSecret', 'secretsmanager:UpdateSecret'] },
  { key: 'secretsmanager:blockpublicpolicy', actions: ['secretsmanager:PutResourcePolicy'] },
  // kms/key-access.ts and the grant operations.
  ...['kms:calleraccount', 'kms:keyspec', 'kms:keyusage', 'kms:keyorigin', 'kms:requestalias', 'kms:encryptioncontext:', 'kms:encryptioncontextkeys'].map(
    (key) => ({ key, actions: KMS }),
  ),
  ...['kms:multiregion', 'kms:multiregionkeytype'].map((key) => ({ key, actions: KMS })),
  { key: 'kms:replicaregion', actions: ['kms:ReplicateKey'] },
  { key: 'kms:primaryregion', actions: ['kms:UpdatePrimaryRegion'] },
  ...['kms:grantoperations', 'kms:granteeprincipal', 'kms:retiringprincipal', 'kms:grantisforawsresource', 'kms:grantconstrainttype'].map((key) => ({
    key,
    actions: ['kms:CreateGrant'],
  })),
  // kms/operations/import.ts.
  { key: 'kms:wrappingalgorithm', actions: ['kms:GetParametersForImport'] },
  { key: 'kms:wrappingkeyspec', actions: ['kms:GetParametersForImport'] },
  { key: 'kms:expirationmodel', actions: ['kms:ImportKeyMaterial'] },
  { key: 'kms:validto', actions: ['kms:ImportKeyMaterial'] },
  // iam/operations/callers.ts, policy-attachments.ts, permissions-boundaries.ts.
  { key: 'iam:permissionsboundary', actions: BOUNDARY_KEYED },
  { key: 'iam:policyarn', actions: ['iam:AttachUserPolicy', 'iam:DetachUserPolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:AttachGroupPolicy', 'iam:DetachGroupPolicy'] },
  // iam/operations/sts.ts.
  { key: 'sts:externalid', actions: ['sts:AssumeRole'] },
  { key: 'sts:rolesessionname', actions: ['sts:AssumeRole', 'sts:AssumeRoleWithWebIdentity', 'sts:TagSession', 'sts:SetSourceIdentity'] },
  // iam/operations/sts.ts and web-identity.ts: SourceIdentity (also for sts:SetSourceIdentity), and the trust
  // policy's keys of a web identity session (the token's claims are `<provider host/path>:sub|aud|amr`, matched
  // by suffix in keyMaySet).
  { key: 'sts:sourceidentity', actions: ['sts:AssumeRole', 'sts:AssumeRoleWithWebIdentity', 'sts:TagSession', 'sts:SetSourceIdentity'] },
  { key: 'aws:federatedprovider', actions: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession', 'sts:SetSourceIdentity'] },
  { key: 'sts:transitivetagkeys', actions: ['sts:TagSession'] },
];

/** The OIDC claims a web identity trust policy tests: `<provider host/path>:sub`, `:aud`, `:amr`. */
const WEB_IDENTITY_CLAIM_KEY = /^[^:]+(?::\d+)?(?:\/[^:]*)?:(sub|aud|amr)$/;
const WEB_IDENTITY_ACTIONS = ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession', 'sts:SetSourceIdentity'];

/** The statement's actions as validate sees them: its Action or NotAction patterns. */
export type StatementActions = { readonly action?: readonly string[]; readonly notAction?: readonly string[] };

/**
 * True when Coffer may set `key` for some action the statement covers. A NotAction statement may cover any
 * action, so only the key matters there.
 */
export function keyMaySet(key: string, statement: StatementActions): boolean {
  const lower = key.toLowerCase();
  if (WEB_IDENTITY_CLAIM_KEY.test(lower) && !lower.startsWith('aws:') && WEB_IDENTITY_ACTIONS.some((action) => covers(statement, action))) return true;
  return SOURCES.some((source) => keyMatches(source.key, lower) && source.actions.some((action) => covers(statement, action)));
}

function keyMatches(sourceKey: string, key: string): boolean {
  return sourceKey.endsWith('/') || sourceKey.endsWith(':') ? key.startsWith(sourceKey) && key.length > sourceKey.length : key === sourceKey;
}

/** Could a statement with these Action patterns apply to an action that `source` (`*`, `svc:*`, `svc:Name`) names? */
function covers(statement: StatementActions, source: string): boolean {
  if (!statement.action || source === '*') return true;
  const [sourceService, sourceName] = source.toLowerCase().split(':') as [string, string];
  return statement.action.some((pattern) => {
    if (pattern === '*') return true;
    const [service = '', name = ''] = pattern.toLowerCase().split(':');
    if (!globLike(service, sourceService)) return false;
    return sourceName === '*' || globLike(name, sourceName);
  });
}

function globLike(pattern: string, value: string): boolean {
  return globMatcher([pattern], { ignoreCase: true })(value);
}
