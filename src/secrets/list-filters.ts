import type { SecretListCursor, SecretRecord, SecretSort, Tag } from '../store/index.js';
import { secretsError } from './errors.js';
import type { FilterInput } from './schemas.js';

/** What filters look at: the secret and its tags. */
export type FilterableSecret = SecretRecord & { tags: Tag[] };

/**
 * ListSecrets filters, as the User Guide's "Find secrets" page describes them: filters are ANDed, a filter's
 * values are ORed, and a value starting with `!` excludes the secrets it would match.
 * - `name`, `tag-key`, `tag-value`, `primary-region`: the value is a case-sensitive prefix of the whole
 *   attribute (`name: Data` finds `DatabaseSecret`, not `databaseSecret` or `MyData`).
 * - `owning-service`: a prefix of the managing service's id, not case-sensitive (the User Guide; the API
 *   reference's Filter page says case-sensitive, the guide's page is the one that describes the search).
 * - `description` and `all`: both the stored text and the value are split into words (words end at a change
 *   from lower to upper case, between letters and digits, and at punctuation or spaces, which are dropped:
 *   `prod/AppBeta/x` is `prod`, `App`, `Beta`, `x`), and every word of the value must be the
 *   case-insensitive prefix of a word of the attribute (`description: one two` finds "one and two"); `all`
 *   looks at the name, the description, tag keys and tag values.
 *   The guide's own example ("My_Secret matches secrets with the word my or secret") can be read as either
 *   word matching; Coffer asks for every word, the narrower reading, as its description example suggests.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_search-secret.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html
 */
export function matchesFilters(secret: FilterableSecret, filters: FilterInput[] | undefined): boolean {
  return (filters ?? []).every((filter) => matchesFilter(secret, filter));
}

function matchesFilter(secret: FilterableSecret, filter: FilterInput): boolean {
  const values = filter.Values ?? [];
  const positives = values.filter((value) => !value.startsWith('!'));
  const negatives = values.filter((value) => value.startsWith('!')).map((value) => value.slice(1));
  const key = filter.Key ?? 'all';
  const candidates = attributeValues(secret, key);
  const matches = (value: string): boolean => {
    switch (key) {
      case 'description':
      case 'all':
        return wordsMatch(candidates, value);
      case 'owning-service':
        return candidates.some((candidate) => candidate.toLowerCase().startsWith(value.toLowerCase()));
      default:
        return candidates.some((candidate) => candidate.startsWith(value));
    }
  };
  if (negatives.some(matches)) return false;
  return positives.length === 0 || positives.some(matches);
}

function attributeValues(secret: FilterableSecret, key: NonNullable<FilterInput['Key']>): string[] {
  switch (key) {
    case 'name':
      return [secret.name];
    case 'description':
      return secret.description === undefined ? [] : [secret.description];
    case 'tag-key':
      return secret.tags.map((tag) => tag.TagKey);
    case 'tag-value':
      return secret.tags.map((tag) => tag.TagValue);
    case 'primary-region':
      return [secret.primaryRegion];
    case 'owning-service':
      return secret.owningService === undefined ? [] : [secret.owningService];
    case 'all':
      return [secret.name, secret.description ?? '', ...secret.tags.flatMap((tag) => [tag.TagKey, tag.TagValue])];
  }
}

/** Every word of `value` is the case-insensitive prefix of some word of some candidate; a value of no words matches nothing. */
function wordsMatch(candidates: string[], value: string): boolean {
  const wanted = searchWords(value);
  if (wanted.length === 0) return false;
  const words = candidates.flatMap(searchWords);
  return wanted.every((word) => words.some((candidate) => candidate.startsWith(word)));
}

/**
 * The words search sees in a text, lower-cased: runs of letters or of digits, a run of letters also ending
 * where a lower-case letter is followed by an upper-case one (`credsDatabase#892` → creds, database, 892;
 * `HTTPServer` → http, server). Anything else (spaces, `/`, `_`, `-`, `#`, ...) separates words.
 */
export function searchWords(text: string): string[] {
  const words = text.match(/\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+|[\p{L}\p{M}]+/gu) ?? [];
  return words.map((word) => word.toLowerCase());
}

/** NextToken is an opaque offset into the same query's results. */
export function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

export function decodeNextToken(token: string | undefined): number {
  return token === undefined ? 0 : offsetIn(tokenContent(token));
}

/** The JSON a NextToken carries (base64url); anything else is a token Coffer did not give. */
function tokenContent(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidNextToken();
  }
}

function offsetIn(content: unknown): number {
  const offset = (content as { offset?: unknown } | null)?.offset;
  if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  throw invalidNextToken();
}

/** Where an unfiltered ListSecrets page starts: after a secret of the same order, or (older tokens) at an offset. */
export type SecretListStart = { after: SecretListCursor; sortBy: SecretSort; descending: boolean } | { offset: number };

const SORT_ORDERS: readonly SecretSort[] = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'];

/** The NextToken of a page that ended at `cursor`; it names its order, so it is refused under another. */
export function encodeCursorToken(cursor: SecretListCursor, sortBy: SecretSort, descending: boolean): string {
  return Buffer.from(JSON.stringify({ after: [cursor.sortValue, cursor.position], sortBy, descending }), 'utf8').toString('base64url');
}

/** A ListSecrets NextToken: a cursor token, or an offset token (the filtered path's, and the store's before cursors). */
export function decodeListToken(token: string | undefined): SecretListStart {
  if (token === undefined) return { offset: 0 };
  const content = tokenContent(token);
  const start = content as { after?: unknown; sortBy?: unknown; descending?: unknown };
  if (start === null || typeof start !== 'object' || start.after === undefined) return { offset: offsetIn(content) };
  const sortBy = SORT_ORDERS.find((order) => order === start.sortBy);
  const [sortValue, position] = Array.isArray(start.after) && start.after.length === 2 ? start.after : [];
  const valueFits = sortBy === 'name' ? typeof sortValue === 'string' : Number.isSafeInteger(sortValue);
  if (!sortBy || !valueFits || !Number.isSafeInteger(position) || typeof start.descending !== 'boolean') throw invalidNextToken();
  return { after: { sortValue: sortValue as number | string, position: position as number }, sortBy, descending: start.descending };
}

/** AWS's answer to a NextToken it did not give (or not for this request). */
export function invalidNextToken() {
  return secretsError('InvalidNextTokenException', 'The NextToken value is not valid.');
}

export function page<T>(items: T[], token: string | undefined, maxResults: number) {
  const offset = decodeNextToken(token);
  const slice = items.slice(offset, offset + maxResults);
  const next = offset + maxResults < items.length ? encodeNextToken(offset + maxResults) : undefined;
  return { items: slice, NextToken: next };
}
