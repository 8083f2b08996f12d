/**
 * JSON text → PolicyDocument. Structural problems (syntax, types, unknown members, missing or invalid Effect,
 * missing Action, Action with NotAction, unknown condition operators, malformed condition values) are ERROR
 * findings, and any ERROR means no document. Never throws on user input.
 * Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 * Issue codes follow the Access Analyzer check reference:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html
 */
import { buildKeyTest, parseOperator } from './conditions/registry.js';
import { describePath, finding, type Path } from './findings.js';
import {
  EFFECTS,
  POLICY_VERSIONS,
  PRINCIPAL_TYPES,
  type ConditionBlock,
  type Effect,
  type PolicyDocument,
  type PolicyFinding,
  type PolicyStatement,
  type PolicyVersion,
  type PrincipalSpec,
  type PrincipalType,
} from './types.js';

/** `service:name` (aws:SourceIp, kms:ViaService, secretsmanager:ResourceTag/x). */
const CONDITION_KEY = /^[A-Za-z0-9-]+:.+$/;
/**
 * An OIDC provider's claim in a web identity trust policy: `<host[:port][/path]>:<claim>`, such as
 * `token.actions.githubusercontent.com:sub` or `oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:aud`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
 */
const WEB_IDENTITY_KEY = /^[A-Za-z0-9.-]+(?::\d+)?(?:\/[^:]*)?:[A-Za-z0-9_]+$/;

export type ParseResult =
  | { readonly document: PolicyDocument; readonly findings?: undefined }
  | { readonly document?: undefined; readonly findings: readonly PolicyFinding[] };

const DOCUMENT_MEMBERS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_MEMBERS = new Set([
  'Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition',
]);
const EXCLUSIVE_PAIRS = [
  ['Action', 'NotAction'],
  ['Resource', 'NotResource'],
  ['Principal', 'NotPrincipal'],
] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const at = (path: Path, element: string | number): Path => [...path, typeof element === 'number' ? { Index: element } : { Value: element }];

class Collector {
  readonly findings: PolicyFinding[] = [];
  error(issue: string, details: string, path: Path): undefined {
    this.findings.push(finding('ERROR', issue, details, path));
    return undefined;
  }
  typeMismatch(path: Path, expected: string): undefined {
    return this.error('DATA_TYPE_MISMATCH', `The value at ${describePath(path)} must be ${expected}.`, path);
  }
}

function stringList(value: Json, path: Path, out: Collector): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    const strings: string[] = [];
    value.forEach((item, index) => {
      if (typeof item === 'string') strings.push(item);
      else out.typeMismatch(at(path, index), 'a string');
    });
    return strings.length === value.length ? strings : undefined;
  }
  return out.typeMismatch(path, 'a string or an array of strings');
}

function principal(value: Json, path: Path, out: Collector): PrincipalSpec | undefined {
  if (value === '*') return '*';
  if (typeof value === 'string') {
    return out.error('INVALID_PRINCIPAL_FORMAT', `The principal at ${describePath(path)} must be "*" or an object such as {"AWS": "..."}.`, path);
  }
  if (!isObject(value)) return out.typeMismatch(path, 'an object');
  const spec: Partial<Record<PrincipalType, string[]>> = {};
  let ok = true;
  for (const [type, values] of Object.entries(value)) {
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(type)) {
      out.error('INVALID_PRINCIPAL_KEY', `The principal type ${type} is not valid; use one of ${PRINCIPAL_TYPES.join(', ')}.`, at(path, type));
      ok = false;
      continue;
    }
    const list = stringList(values, at(path, type), out);
    if (list) spec[type as PrincipalType] = list;
    else ok = false;
  }
  return ok ? spec : undefined;
}

function conditionBlock(value: Json, path: Path, out: Collector): ConditionBlock | undefined {
  if (!isObject(value)) return out.typeMismatch(path, 'an object');
  const block: Record<string, Record<string, string[]>> = {};
  let ok = true;
  for (const [operatorName, keys] of Object.entries(value)) {
    const operatorPath = at(path, operatorName);
    const operator = parseOperator(operatorName);
    if ('issue' in operator) {
      out.error(operator.issue, operator.message, operatorPath);
      ok = false;
      continue;
    }
    if (!isObject(keys)) {
      out.typeMismatch(operatorPath, 'an object of condition keys');
      ok = false;
      continue;
    }
    const entries: Record<string, string[]> = {};
    for (const [key, raw] of Object.entries(keys)) {
      const keyPath = at(operatorPath, key);
      if (!CONDITION_KEY.test(key) && !WEB_IDENTITY_KEY.test(key)) {
        out.error('INVALID_CONDITION_KEY_FORMAT', `The condition key ${key} must have the form service:name.`, keyPath);
        ok = false;
        continue;
      }
      const items = Array.isArray(raw) ? raw : [raw];
      const values: string[] = [];
      for (const [index, item] of items.entries()) {
        if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') values.push(String(item));
        else out.typeMismatch(Array.isArray(raw) ? at(keyPath, index) : keyPath, 'a string, number or boolean');
      }
      if (values.length !== items.length) {
        ok = false;
        continue;
      }
      const test = buildKeyTest(operator, values);
      if (typeof test === 'string') {
        out.error('INVALID_CONDITION_DATA_TYPE', `${operatorName} on ${key}: ${test}.`, keyPath);
        ok = false;
        continue;
      }
      entries[key] = values;
    }
    block[operatorName] = entries;
  }
  return ok ? block : undefined;
}

function statement(value: Json, path: Path, out: Collector): PolicyStatement | undefined {
  if (!isObject(value)) return out.typeMismatch(path, 'an object');
  const before = out.findings.length;
  for (const member of Object.keys(value)) {
    if (!STATEMENT_MEMBERS.has(member)) {
      out.error('INVALID_POLICY_ELEMENT', `The element ${member} in the policy statement is invalid.`, at(path, member));
    }
  }
  for (const [a, b] of EXCLUSIVE_PAIRS) {
    if (a in value && b in value) {
      out.error('UNSUPPORTED_ELEMENTS_COMBINATION', `A statement cannot contain both ${a} and ${b}.`, at(path, b));
    }
  }
  const result: Mutable<Partial<PolicyStatement>> = {};
  if (value.Sid !== undefined) {
    if (typeof value.Sid === 'string') result.Sid = value.Sid;
    else out.typeMismatch(at(path, 'Sid'), 'a string');
  }
  if (value.Effect === undefined) {
    out.error('MISSING_EFFECT', 'Add an Effect element (Allow or Deny) to the policy statement.', path);
  } else if (typeof value.Effect !== 'string' || !(EFFECTS as readonly string[]).includes(value.Effect)) {
    out.error('INVALID_EFFECT', 'The Effect element must be Allow or Deny.', at(path, 'Effect'));
  } else {
    result.Effect = value.Effect as Effect;
  }
  if (value.Action === undefined && value.NotAction === undefined) {
    out.error('MISSING_ACTION', 'Add an Action or NotAction element to the policy statement.', path);
  }
  for (const member of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
    if (value[member] !== undefined) {
      const list = stringList(value[member], at(path, member), out);
      if (list) result[member] = list;
    }
  }
  for (const member of ['Principal', 'NotPrincipal'] as const) {
    if (value[member] !== undefined) {
      const spec = principal(value[member], at(path, member), out);
      if (spec) result[member] = spec;
    }
  }
  if (value.Condition !== undefined) {
    const block = conditionBlock(value.Condition, at(path, 'Condition'), out);
    if (block) result.Condition = block;
  }
  return out.findings.length === before ? (result as PolicyStatement) : undefined;
}

/** Parses an already-decoded JSON value. */
export function parsePolicyValue(value: unknown): ParseResult {
  const out = new Collector();
  if (!isObject(value)) {
    out.typeMismatch([], 'a JSON object');
    return { findings: out.findings };
  }
  for (const member of Object.keys(value)) {
    if (!DOCUMENT_MEMBERS.has(member)) {
      out.error('INVALID_POLICY_ELEMENT', `The element ${member} in the policy is invalid.`, [{ Value: member }]);
    }
  }
  let version: PolicyVersion | undefined;
  if (value.Version !== undefined) {
    if (typeof value.Version === 'string' && (POLICY_VERSIONS as readonly string[]).includes(value.Version)) {
      version = value.Version as PolicyVersion;
    } else {
      out.error('INVALID_VERSION', `The policy Version must be one of ${POLICY_VERSIONS.join(', ')}.`, [{ Value: 'Version' }]);
    }
  }
  if (value.Id !== undefined && typeof value.Id !== 'string') out.typeMismatch([{ Value: 'Id' }], 'a string');
  const statements: PolicyStatement[] = [];
  const raw = value.Statement;
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    out.error('MISSING_STATEMENT', 'Add at least one statement to the policy.', []);
  } else if (Array.isArray(raw)) {
    raw.forEach((item, index) => {
      const parsed = statement(item, [{ Value: 'Statement' }, { Index: index }], out);
      if (parsed) statements.push(parsed);
    });
  } else {
    const parsed = statement(raw, [{ Value: 'Statement' }], out);
    if (parsed) statements.push(parsed);
  }
  const sids = new Set<string>();
  statements.forEach((item, index) => {
    if (item.Sid === undefined) return;
    if (sids.has(item.Sid)) {
      out.error('UNIQUE_SIDS_REQUIRED', `The Sid ${item.Sid} is used by more than one statement.`, [{ Value: 'Statement' }, { Index: index }, { Value: 'Sid' }]);
    }
    sids.add(item.Sid);
  });
  if (out.findings.length > 0) return { findings: out.findings };
  const document: Mutable<PolicyDocument> = { Statement: statements };
  if (version) document.Version = version;
  if (typeof value.Id === 'string') document.Id = value.Id;
  return { document };
}

/** JSON text → `{ document }`, or `{ findings }` when the text is not a well-formed policy. Never throws. */
export function parsePolicy(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid JSON';
    return { findings: [finding('ERROR', 'JSON_SYNTAX_ERROR', `Fix the JSON syntax error: ${reason}.`)] };
  }
  return parsePolicyValue(value);
}
