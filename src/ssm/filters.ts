import type { StoredParameter, Tag } from '../store/index.js';
import { ssmError } from './errors.js';
import type { ParameterStringFilter } from './schemas.js';

/**
 * ParameterFilters and the older Filters of DescribeParameters and GetParametersByPath, as pure predicates.
 * Which keys and options each operation takes:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParameterStringFilter.html
 */

export type FilterContext = 'describe' | 'by-path';

/** A filter compiled to a predicate over a parameter's latest version (and, for tag filters, its tags). */
export type ParameterPredicate = { needsTags: boolean; test(parameter: StoredParameter, tags: Tag[]): boolean };

const BY_PATH_KEYS = new Set(['Type', 'KeyId', 'Label']);
const DESCRIBE_KEYS = new Set(['Name', 'Type', 'KeyId', 'Path', 'Tier', 'DataType']);

/** The Path filter of DescribeParameters, which the store answers as a range rather than a predicate. */
export type PathFilter = { prefix: string; recursive: boolean };

export function compileFilters(filters: ParameterStringFilter[], context: FilterContext): { predicates: ParameterPredicate[]; path?: PathFilter } {
  const predicates: ParameterPredicate[] = [];
  let path: PathFilter | undefined;
  for (const filter of filters) {
    const isTag = filter.Key.startsWith('tag:');
    const allowed = context === 'by-path' ? BY_PATH_KEYS.has(filter.Key) : isTag || DESCRIBE_KEYS.has(filter.Key);
    if (!allowed) throw ssmError('InvalidFilterKey', `The filter key ${filter.Key} is not valid for this operation.`);
    const option = filter.Option ?? (filter.Key === 'Path' ? 'OneLevel' : 'Equals');
    assertOption(filter.Key, option, context);
    const values = filter.Values ?? [];
    if (filter.Key === 'Path') {
      if (values.length !== 1 || !values[0]!.startsWith('/')) throw ssmError('InvalidFilterValue', 'The Path filter takes one path that begins with a forward slash.');
      const value = values[0]!;
      path = { prefix: value.endsWith('/') ? value : `${value}/`, recursive: option === 'Recursive' };
      continue;
    }
    if (values.length === 0 && !isTag) throw ssmError('InvalidFilterValue', `The filter ${filter.Key} needs at least one value.`);
    predicates.push(isTag ? tagPredicate(filter.Key.slice(4), option, values) : attributePredicate(filter.Key, option, values));
  }
  return { predicates, path };
}

function assertOption(key: string, option: string, context: FilterContext): void {
  let valid: string[];
  if (key === 'Path') valid = ['Recursive', 'OneLevel'];
  else if (key === 'Label') valid = ['Equals'];
  else if (key === 'Name' && context === 'describe') valid = ['Equals', 'BeginsWith', 'Contains'];
  else valid = ['Equals', 'BeginsWith'];
  if (!valid.includes(option)) {
    throw ssmError('InvalidFilterOption', `The option ${option} is not valid for the filter ${key}. Valid options: ${valid.join(', ')}.`);
  }
}

function matches(option: string, actual: string | undefined, values: string[]): boolean {
  if (actual === undefined) return false;
  if (option === 'BeginsWith') return values.some((value) => actual.startsWith(value));
  if (option === 'Contains') return values.some((value) => actual.includes(value));
  return values.includes(actual);
}

function attributePredicate(key: string, option: string, values: string[]): ParameterPredicate {
  const attribute = (parameter: StoredParameter): string | undefined => {
    switch (key) {
      case 'Name':
        return parameter.name;
      case 'Type':
        return parameter.type;
      case 'KeyId':
        return parameter.keyId;
      case 'Tier':
        return parameter.tier;
      case 'DataType':
        return parameter.dataType;
      default:
        return undefined;
    }
  };
  if (key === 'Label') return { needsTags: false, test: (parameter) => parameter.labels.some((label) => values.includes(label)) };
  // A Name filter's values match with or without the leading slash, as AWS normalizes them.
  const normalized = key === 'Name' ? values.flatMap((value) => (value.startsWith('/') ? [value] : [value, `/${value}`])) : values;
  return { needsTags: false, test: (parameter) => matches(option, attribute(parameter), normalized) };
}

function tagPredicate(tagKey: string, option: string, values: string[]): ParameterPredicate {
  return {
    needsTags: true,
    test: (_parameter, tags) => {
      const tag = tags.find((candidate) => candidate.TagKey === tagKey);
      if (!tag) return false;
      return values.length === 0 || matches(option, tag.TagValue, values);
    },
  };
}

/** DescribeParameters' older Filters: Name (begins with), Type and KeyId (equal). */
export function compileLegacyFilters(filters: Array<{ Key: 'Name' | 'Type' | 'KeyId'; Values: string[] }>): ParameterPredicate[] {
  return filters.map((filter) => attributePredicate(filter.Key, filter.Key === 'Name' ? 'BeginsWith' : 'Equals', filter.Values));
}

/** A page marker as an opaque NextToken, and back (InvalidNextToken for one Coffer did not issue). */
export function encodeNextToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName }), 'utf8').toString('base64url');
}

export function decodeNextToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof decoded?.after === 'string') return decoded.after;
  } catch {
    // falls through to the refusal
  }
  throw ssmError('InvalidNextToken', 'The specified token is not valid.');
}
