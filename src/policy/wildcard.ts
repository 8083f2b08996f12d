/**
 * Wildcard matching shared by Action, Resource, Principal and the String/Arn-Like operators:
 * `*` matches any run of characters (also none), `?` exactly one.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 */
export type Matcher = (value: string) => boolean;

/**
 * Marks for a `*` / `?` that must match itself, not act as a wildcard: what a policy variable put into a pattern
 * (`${*}`, a substituted value). Private-use code points, which no ARN or name Coffer stores contains.
 */
const LITERAL_STAR = '\uE000';
const LITERAL_QUESTION = '\uE001';

/** Text to put into a pattern so its `*` and `?` match only themselves. */
export function literalWildcards(text: string): string {
  return text.replaceAll('*', LITERAL_STAR).replaceAll('?', LITERAL_QUESTION);
}

function globSource(pattern: string): string {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === LITERAL_STAR) source += '\\*';
    else if (char === LITERAL_QUESTION) source += '\\?';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return source;
}

/** Matches if the value matches any of the patterns. */
export function globMatcher(patterns: readonly string[], options: { ignoreCase: boolean }): Matcher {
  if (patterns.includes('*')) return () => true;
  if (patterns.length === 0) return () => false;
  const regex = new RegExp(`^(?:${patterns.map(globSource).join('|')})$`, options.ignoreCase ? 'is' : 's');
  return (value) => regex.test(value);
}

/** Splits an ARN into its six colon-separated parts; the last part (the resource) may contain colons. */
export function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/**
 * An ARN pattern, compared segment by segment so a wildcard never spans a colon between the six ARN parts
 * (case-sensitive). "Each of the six colon-delimited components of the ARN is checked separately and each can
 * include multi-character match wildcards (*) or single-character match wildcards (?)."
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 * A pattern that is not shaped like an ARN (`*`) is matched against the whole value.
 */
export function arnMatcher(pattern: string): Matcher {
  const patternParts = splitArn(pattern);
  if (!patternParts) return globMatcher([pattern], { ignoreCase: false });
  const segmentMatchers = patternParts.map((part) => globMatcher([part], { ignoreCase: false }));
  return (value) => {
    const valueParts = splitArn(value);
    if (!valueParts) return false;
    return segmentMatchers.every((match, index) => match(valueParts[index]!));
  };
}

export function anyArnMatcher(patterns: readonly string[]): Matcher {
  if (patterns.includes('*')) return () => true;
  const matchers = patterns.map(arnMatcher);
  return (value) => matchers.some((match) => match(value));
}
