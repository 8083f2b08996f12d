import { ssmError } from './errors.js';

/**
 * Parameter Store's rules for names, paths, selectors and labels: pure functions, unit-tested in
 * test/unit/ssm/. https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
 */

/** A hierarchy has at most 15 levels: `/Level-1/.../Level-14/parameter-name`. */
export const MAX_HIERARCHY_LEVELS = 15;

/** The name a caller gives may be at most 1011 characters counted with the ARN before it. */
export const MAX_NAME_WITH_ARN = 1011;

/** The prefix of a reference to a Secrets Manager secret. */
export const SECRETS_MANAGER_REFERENCE = '/aws/reference/secretsmanager/';

const INVALID_NAME =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

const SEGMENT = /^[a-zA-Z0-9_.-]+$/;

/** `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>` */
export function parameterArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ssm:${region}:${accountId}:parameter/${name.startsWith('/') ? name.slice(1) : name}`;
}

/** A name as AWS takes it: spaces at either end removed; a space inside is refused. */
export function trimName(name: string): string {
  const trimmed = name.trim();
  if (/\s/.test(trimmed)) throw ssmError('ValidationException', 'Parameter name must not contain spaces.');
  return trimmed;
}

/** The segments of a name or path: `/a/b` → ['a', 'b'], `name` → ['name']. */
function segmentsOf(name: string): string[] {
  return (name.startsWith('/') ? name.slice(1) : name).split('/');
}

/**
 * Refuses a name PutParameter may not create: characters outside a-zA-Z0-9_.-/, a path without its leading
 * slash or with an empty level, a reserved prefix (aws, ssm), more than 15 levels, or too long with its ARN.
 */
export function assertWritableName(name: string, region: string, accountId: string): void {
  assertValidName(name);
  const first = segmentsOf(name)[0]!.toLowerCase();
  if (first.startsWith('aws') || first.startsWith('ssm')) throw ssmError('ValidationException', INVALID_NAME);
  if (parameterArn(region, accountId, name).length > MAX_NAME_WITH_ARN) {
    throw ssmError('ValidationException', `Parameter name must be at most ${MAX_NAME_WITH_ARN} characters long, counted with its ARN.`);
  }
}

/** The character, shape and depth rules every name must keep (reading one too). */
export function assertValidName(name: string): void {
  if (name.includes('/') && !name.startsWith('/')) throw ssmError('ValidationException', INVALID_NAME);
  const segments = segmentsOf(name);
  if (!segments.every((segment) => SEGMENT.test(segment))) throw ssmError('ValidationException', INVALID_NAME);
  if (segments.length > MAX_HIERARCHY_LEVELS) throw hierarchyTooDeep();
}

/**
 * A GetParametersByPath path: starts with `/`, levels of the name alphabet, at most 15 of them; a trailing
 * slash is optional. Returns the path as a prefix that ends in `/`.
 */
export function pathPrefix(path: string): string {
  const trimmed = trimName(path);
  if (!trimmed.startsWith('/')) throw ssmError('ValidationException', 'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".');
  if (trimmed === '/') return '/';
  const body = trimmed.endsWith('/') ? trimmed.slice(1, -1) : trimmed.slice(1);
  const segments = body.split('/');
  if (!segments.every((segment) => SEGMENT.test(segment))) throw ssmError('ValidationException', INVALID_NAME);
  if (segments.length > MAX_HIERARCHY_LEVELS) throw hierarchyTooDeep();
  return `/${body}/`;
}

function hierarchyTooDeep() {
  return ssmError('HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_HIERARCHY_LEVELS} levels.`);
}

/** `name:version` (digits) or `name:label`; the name alone reads the latest version. */
export type SelectedName = { name: string; version?: number; label?: string; selector?: string };

export function parseSelector(requested: string): SelectedName {
  const trimmed = trimName(requested);
  const colon = trimmed.indexOf(':');
  if (colon < 0) return { name: trimmed };
  const name = trimmed.slice(0, colon);
  const suffix = trimmed.slice(colon + 1);
  if (suffix === '' || suffix.includes(':')) throw ssmError('ValidationException', INVALID_NAME);
  const selector = `:${suffix}`;
  return /^\d+$/.test(suffix) ? { name, version: Number(suffix), selector } : { name, label: suffix, selector };
}

/** The secret id and its version selector in `/aws/reference/secretsmanager/<secret-id>[:<version id or stage>]`. */
export function secretReference(requested: string): { secretId: string; selector?: string } | undefined {
  const trimmed = requested.trim();
  if (!trimmed.startsWith(SECRETS_MANAGER_REFERENCE)) return undefined;
  const rest = trimmed.slice(SECRETS_MANAGER_REFERENCE.length);
  // A secret's ARN has colons of its own; the selector is what follows the last colon after the secret's name.
  const arnLike = rest.startsWith('arn:');
  const colon = arnLike ? nthColon(rest, 7) : rest.indexOf(':');
  if (colon < 0) return { secretId: rest };
  return { secretId: rest.slice(0, colon), selector: rest.slice(colon + 1) };
}

function nthColon(text: string, n: number): number {
  let index = -1;
  for (let count = 0; count < n; count++) {
    index = text.indexOf(':', index + 1);
    if (index < 0) return -1;
  }
  return index;
}

/**
 * Whether a label keeps AWS's rules: at most 100 characters of letters, digits, `.`, `-`, `_`, not starting
 * with a digit, "aws" or "ssm" (any case). A label that does not is returned in InvalidLabels, not applied.
 */
export function isValidLabel(label: string): boolean {
  if (label.length < 1 || label.length > 100) return false;
  if (!/^[a-zA-Z0-9._-]+$/.test(label)) return false;
  if (/^\d/.test(label)) return false;
  const lower = label.toLowerCase();
  return !lower.startsWith('aws') && !lower.startsWith('ssm');
}

/**
 * A Name given as the parameter's ARN, in the caller's account and Region (Coffer shares no parameters): the
 * name it stands for (`parameter/a/b` → `/a/b`, `parameter/name` → `name`); a Name that is no ARN as it is.
 */
export function nameFromArnOrName(requested: string, region: string, accountId: string): string {
  const match = /^arn:aws:ssm:([^:]*):(\d{12}):parameter\/(.+)$/.exec(requested.trim());
  if (!match) return requested;
  if (match[1] !== region || match[2] !== accountId) throw ssmError('ValidationException', 'Parameters of other accounts or Regions are not shared with this account.');
  const rest = match[3]!;
  return rest.includes('/') ? `/${rest}` : rest;
}
