/**
 * The two ways a user names a secret value outside an SDK call, parsed into one shape (`SecretReference`):
 *
 * - ECS's `valueFrom` (`coffer run --secret NAME=REF`):
 *   `arn:aws:secretsmanager:region:account:secret:secret-name:json-key:version-stage:version-id`, or a bare
 *   secret name in place of the ARN
 *   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
 * - CloudFormation's dynamic reference (`coffer render`, `--env-file` values):
 *   `{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}`
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html).
 *
 * - A Parameter Store parameter in either form: `valueFrom` `arn:aws:ssm:region:account:parameter/name` or a
 *   name starting with `/` (a hierarchy, as ECS names parameters; SecureStrings are decrypted, as ECS does), and
 *   `{{resolve:ssm:name[:version]}}` / `{{resolve:ssm-secure:name[:version]}}`
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm.html).
 *
 * Pure code: no SDK, no I/O. Errors name the reference as written (a reference is not a secret value).
 */

/** A reference to a Parameter Store parameter: what GetParameter is asked. */
export type ParameterSource = {
  /** GetParameter's Name: the name or ARN, with `:version` (or `:label`) when the reference names one. */
  name: string;
  /** `ssm-secure` and valueFrom decrypt a SecureString; `ssm` refuses one, as CloudFormation does. */
  withDecryption: boolean;
};

export type SecretReference = {
  /** The reference as the user wrote it, for messages. */
  text: string;
  /** What GetSecretValue's SecretId gets: a name, a partial ARN or a full ARN. */
  secretId: string;
  /** The ARN's Region, when the secret is named by ARN (the request goes to that Region). */
  region?: string;
  jsonKey?: string;
  versionStage?: string;
  versionId?: string;
  /** Set when the reference names a Parameter Store parameter rather than a secret (`secretId` is then its name). */
  parameter?: ParameterSource;
};

/** A reference that cannot be used: the message says why and names the reference. */
export class ReferenceSyntaxError extends Error {
  override name = 'ReferenceSyntaxError';
}

/** `arn:partition:service:region:account:resource-type:name`: seven colon-separated fields before any suffix. */
const ARN_FIELDS = 7;

/**
 * ECS `valueFrom`. After the secret (ARN or name) come up to three optional fields, `json-key`,
 * `version-stage`, `version-id`; an empty field is absent (`...:password::` is the key alone). As ECS says,
 * a version stage and a version id exclude each other; neither means AWSCURRENT. ECS reads a trailing
 * field list only after a full ARN; we also accept it after a bare name (`prod/db/mysql:password`), which
 * is unambiguous because a secret name cannot contain a colon.
 */
export function parseValueFrom(text: string): SecretReference {
  if (text === '') throw new ReferenceSyntaxError('empty secret reference');
  const fields = text.split(':');
  if (text.startsWith('/') || (fields[0] === 'arn' && fields[2] === 'ssm')) return parameterReference(text, text, true);
  const arn = fields[0] === 'arn' ? arnPrefix(text, fields) : undefined;
  const secretFieldCount = arn ? ARN_FIELDS : 1;
  const rest = fields.slice(secretFieldCount);
  if (rest.length > 3) {
    throw new ReferenceSyntaxError(`${text}: too many fields (expected secret:json-key:version-stage:version-id)`);
  }
  const secretId = fields.slice(0, secretFieldCount).join(':');
  if (secretId === '' || (arn && arn.name === '')) throw new ReferenceSyntaxError(`${text}: the secret's name is empty`);
  const [jsonKey, versionStage, versionId] = rest.map((field) => (field === '' ? undefined : field));
  return withVersion({ text, secretId, region: arn?.region, jsonKey }, versionStage, versionId);
}

/** A dynamic reference found in a text: where it is, and what it asks for (or why it cannot be resolved). */
export type DynamicReferenceMatch = {
  /** The whole `{{resolve:...}}`, as written. */
  text: string;
  start: number;
  end: number;
  reference: SecretReference;
};

/** Any `{{resolve:...}}`. Nothing inside one may be `}` (names, keys, labels and ids cannot contain it). */
const DYNAMIC_REFERENCE = /\{\{resolve:([^}]*)\}\}/g;

/**
 * Every dynamic reference in `template`, parsed. A reference this server cannot resolve (Parameter Store's
 * `ssm` and `ssm-secure`, an unknown service, a malformed one) throws, naming it: a template is rendered
 * whole or not at all.
 */
export function findDynamicReferences(template: string): DynamicReferenceMatch[] {
  const matches: DynamicReferenceMatch[] = [];
  for (const match of template.matchAll(DYNAMIC_REFERENCE)) {
    matches.push({ text: match[0], start: match.index, end: match.index + match[0].length, reference: parseDynamicReference(match[0], match[1]!) });
  }
  return matches;
}

/**
 * `secretsmanager:secret-id:SecretString:json-key:version-stage:version-id`: the secret (name or ARN), then
 * up to four optional fields. The second is `SecretString`, the only value CloudFormation supports (empty means
 * the same); the others as in ECS's valueFrom. Parameter Store's services are named so the user knows why.
 */
function parseDynamicReference(text: string, body: string): SecretReference {
  const separator = body.indexOf(':');
  const service = separator === -1 ? body : body.slice(0, separator);
  const reference = separator === -1 ? '' : body.slice(separator + 1);
  if (service === 'ssm' || service === 'ssm-secure') return parameterReference(text, reference, service === 'ssm-secure');
  if (service !== 'secretsmanager') {
    throw new ReferenceSyntaxError(`${text}: unknown service "${service}" (expected secretsmanager, ssm or ssm-secure)`);
  }
  const fields = reference.split(':');
  const arn = fields[0] === 'arn' ? arnPrefix(text, fields) : undefined;
  const secretFieldCount = arn ? ARN_FIELDS : 1;
  const secretId = fields.slice(0, secretFieldCount).join(':');
  if (secretId === '' || (arn && arn.name === '')) throw new ReferenceSyntaxError(`${text}: the secret-id is empty`);
  const rest = fields.slice(secretFieldCount);
  if (rest.length > 4) {
    throw new ReferenceSyntaxError(`${text}: too many fields (expected secret-id:SecretString:json-key:version-stage:version-id)`);
  }
  const [valueField, jsonKey, versionStage, versionId] = rest.map((field) => (field === '' ? undefined : field));
  if (valueField !== undefined && valueField !== 'SecretString') {
    throw new ReferenceSyntaxError(`${text}: the field after the secret-id must be SecretString (the only value CloudFormation supports)`);
  }
  return withVersion({ text, secretId, region: arn?.region, jsonKey }, versionStage, versionId);
}

/**
 * A parameter named by `name` (a name, or an ARN whose Region the request goes to), with an optional
 * `:version` or `:label` after it that GetParameter reads itself.
 */
function parameterReference(text: string, name: string, withDecryption: boolean): SecretReference {
  if (name === '' || name.startsWith(':')) throw new ReferenceSyntaxError(`${text}: the parameter name is empty`);
  const fields = name.split(':');
  if (fields[0] === 'arn') {
    const [, partition, service, region, account, resource] = fields;
    if (fields.length < 6 || partition === '' || service !== 'ssm' || !region || !account || !resource?.startsWith('parameter/')) {
      throw new ReferenceSyntaxError(`${text}: not a Parameter Store parameter ARN (arn:aws:ssm:region:account:parameter/name)`);
    }
    return { text, secretId: name, region, parameter: { name, withDecryption } };
  }
  if (fields.length > 2) throw new ReferenceSyntaxError(`${text}: too many fields (expected parameter-name or parameter-name:version)`);
  return { text, secretId: name, parameter: { name, withDecryption } };
}

function withVersion(reference: SecretReference, versionStage: string | undefined, versionId: string | undefined): SecretReference {
  if (versionStage !== undefined && versionId !== undefined) {
    throw new ReferenceSyntaxError(`${reference.text}: give a version stage or a version id, not both`);
  }
  const result: SecretReference = { ...reference };
  if (result.region === undefined) delete result.region;
  if (result.jsonKey === undefined) delete result.jsonKey;
  if (versionStage !== undefined) result.versionStage = versionStage;
  if (versionId !== undefined) result.versionId = versionId;
  return result;
}

/** The Region and name of a Secrets Manager ARN's first seven fields; anything else is refused, naming `text`. */
function arnPrefix(text: string, fields: string[]): { region: string; name: string } {
  if (fields.length < ARN_FIELDS) throw new ReferenceSyntaxError(`${text}: not a complete ARN (arn:aws:secretsmanager:region:account:secret:name)`);
  const [, partition, service, region, account, resourceType, name] = fields as [string, string, string, string, string, string, string];
  if (partition === '' || service !== 'secretsmanager' || resourceType !== 'secret' || region === '' || account === '') {
    throw new ReferenceSyntaxError(`${text}: not a Secrets Manager secret ARN (arn:aws:secretsmanager:region:account:secret:name)`);
  }
  return { region, name };
}

/**
 * The text a reference stands for, from the secret's SecretString: the whole string, or the value of one key
 * of its JSON object. A string value is used as it is; any other JSON value (a number such as a port, true,
 * an object) as its JSON text. Throws, naming the reference and never the value, when there is no such key.
 */
export function selectValue(reference: SecretReference, secretString: string): string {
  if (reference.jsonKey === undefined) return secretString;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new ReferenceSyntaxError(`${reference.text}: the secret's value is not JSON, so it has no key "${reference.jsonKey}"`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ReferenceSyntaxError(`${reference.text}: the secret's value is not a JSON object, so it has no key "${reference.jsonKey}"`);
  }
  if (!Object.hasOwn(parsed, reference.jsonKey)) {
    throw new ReferenceSyntaxError(`${reference.text}: the secret has no JSON key "${reference.jsonKey}"`);
  }
  const value = (parsed as Record<string, unknown>)[reference.jsonKey];
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * `--all-from`'s variable names: the secret's name and the key, joined by `_`, upper-cased, every character
 * other than A-Z, 0-9 and `_` becoming `_` (`prod/db/mysql` + `password` → `PROD_DB_MYSQL_PASSWORD`).
 */
export function environmentName(secretName: string, jsonKey: string): string {
  return `${secretName}_${jsonKey}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}
