import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../../src/core/index.js';
import { assertMatchesAllowedPattern, assertValidAllowedPattern, PATTERN_TIME_LIMIT_MS } from '../../../src/ssm/allowed-pattern.js';

async function refusalOf(run: () => Promise<void>): Promise<AwsError | undefined> {
  try {
    await run();
  } catch (error) {
    if (error instanceof AwsError) return error;
    throw error;
  }
  return undefined;
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

const EIGHT_KB_OF_A_THEN_BANG = `${'a'.repeat(8191)}!`;

describe('AllowedPattern evaluation', () => {
  it('matches, refuses a mismatch without quoting the value, and refuses a pattern that does not compile', async () => {
    assert.equal(await refusalOf(() => assertMatchesAllowedPattern('123', '^\\d+$')), undefined);
    const mismatch = await refusalOf(() => assertMatchesAllowedPattern('secret-abc', '^\\d+$'));
    assert.equal(mismatch?.code, 'ParameterPatternMismatchException');
    assert.equal(mismatch?.message, 'Parameter value, cannot be validated against allowedPattern: ^\\d+$');
    assert.equal((await refusalOf(() => assertMatchesAllowedPattern('x', '([')))?.code, 'InvalidAllowedPatternException');
    assert.throws(() => assertValidAllowedPattern('a{2}{3}'), (error: AwsError) => error.code === 'InvalidAllowedPatternException');
  });

  it('answers nested quantifiers against 8 KB in linear time', async () => {
    for (const pattern of ['^(a+)+$', '^(a|aa)+$', '^(a*)*$', '^(\\w+\\s?)*$', '^([a-z]+)*[0-9]$']) {
      const { result, ms } = await timed(() => refusalOf(() => assertMatchesAllowedPattern(EIGHT_KB_OF_A_THEN_BANG, pattern)));
      assert.equal(result?.code, 'ParameterPatternMismatchException', pattern);
      assert.ok(ms < 250, `${pattern} took ${ms} ms`);
    }
  });

  it('gives what the linear engine cannot take a time bound: a ValidationException naming the feature, never the value', async () => {
    const value = `${'a'.repeat(8000)}!secret-tail`;
    for (const pattern of ['^(a{1,20})+$', '^(a|a?)+\\1$', '^(?=a)(a+)+$']) {
      const { result, ms } = await timed(() => refusalOf(() => assertMatchesAllowedPattern(value, pattern)));
      assert.equal(result?.code, 'ValidationException', pattern);
      assert.match(result!.message, new RegExp(`could not be evaluated within ${PATTERN_TIME_LIMIT_MS} ms`));
      assert.doesNotMatch(result!.message, /secret-tail|aaaa/);
      assert.ok(ms < 1000, `${pattern} took ${ms} ms`);
    }
  });

  it('still evaluates backreferences, lookaheads, long bounded repeats and unicode escapes (on the bounded engine)', async () => {
    const cases: Array<[string, string, boolean]> = [
      ['^[a-z0-9-]{1,64}$', 'db-primary-01', true],
      ['^[a-z0-9-]{1,64}$', 'x'.repeat(65), false],
      ['^(\\w)\\1$', 'aa', true],
      ['^(\\w)\\1$', 'ab', false],
      ['^(?=.*\\d)[a-z\\d]{8,}$', 'abcdefg1', true],
      ['^(?=.*\\d)[a-z\\d]{8,}$', 'abcdefgh', false],
      ['^\\p{L}+$', 'héllo', true],
      ['^\\p{L}+$', 'h3llo', false],
      ['^.$', '😀', true],
      ['^[^a]$', '😀', true],
    ];
    for (const [pattern, value, matches] of cases) {
      const refusal = await refusalOf(() => assertMatchesAllowedPattern(value, pattern));
      assert.equal(refusal?.code, matches ? undefined : 'ParameterPatternMismatchException', `${pattern} against ${value}`);
    }
  });
});
