import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextCronTime, parseCron } from '../../../src/rotation/cron.js';
import { nextWindow, ScheduleError, validateRules } from '../../../src/rotation/schedule.js';

const at = (iso: string) => new Date(iso);

describe('rotation windows', () => {
  it('AutomaticallyAfterDays opens at 00:00 UTC N days after the last rotation and closes at the end of that day', () => {
    const window = nextWindow({ AutomaticallyAfterDays: 30 }, at('2026-01-01T15:20:00Z'), at('2026-01-01T15:20:00Z'));
    assert.deepEqual(window, { start: at('2026-01-31T00:00:00Z'), end: at('2026-02-01T00:00:00Z') });
  });

  it('rate(N days) is the same as AutomaticallyAfterDays, and Duration shortens the window', () => {
    const window = nextWindow({ ScheduleExpression: 'rate(10 days)', Duration: '3h' }, at('2026-03-05T10:00:00Z'), at('2026-03-05T10:00:00Z'));
    assert.deepEqual(window, { start: at('2026-03-15T00:00:00Z'), end: at('2026-03-15T03:00:00Z') });
  });

  it('rate(N hours) opens on the hour N hours later and lasts one hour by default', () => {
    const window = nextWindow({ ScheduleExpression: 'rate(6 hours)' }, at('2026-03-05T10:40:00Z'), at('2026-03-05T10:40:00Z'));
    assert.deepEqual(window, { start: at('2026-03-05T16:00:00Z'), end: at('2026-03-05T17:00:00Z') });
  });

  it('cron opens at the next match after now; Duration is capped at the end of the UTC day', () => {
    // 16:00 UTC on the 1st and 15th of each month.
    const rules = { ScheduleExpression: 'cron(0 16 1,15 * ? *)', Duration: '12h' };
    const window = nextWindow(rules, at('2026-01-01T00:00:00Z'), at('2026-01-02T09:00:00Z'));
    assert.deepEqual(window, { start: at('2026-01-15T16:00:00Z'), end: at('2026-01-16T00:00:00Z') });
  });

  it('refuses malformed rules with a message naming the problem', () => {
    const cases: Array<[object, RegExp]> = [
      [{ ScheduleExpression: 'rate(2 weeks)' }, /rate\(N days\)/],
      [{ ScheduleExpression: 'rate(2 hours)' }, /4 to 23 hours/],
      [{ ScheduleExpression: 'cron(0 16 * * *)' }, /6 fields/],
      [{ ScheduleExpression: 'cron(0 25 * * ? *)' }, /0 to 23/],
      [{ ScheduleExpression: 'cron(0 16 * * MON *)' }, /exactly one of day-of-month and day-of-week/],
      [{ AutomaticallyAfterDays: 5, ScheduleExpression: 'rate(5 days)' }, /either/],
      [{ AutomaticallyAfterDays: 5, Duration: '25h' }, /1h to 24h/],
      [{}, /AutomaticallyAfterDays or ScheduleExpression/],
    ];
    for (const [rules, message] of cases) assert.throws(() => validateRules(rules), (error: Error) => error instanceof ScheduleError && message.test(error.message));
  });
});

describe('AWS six-field cron', () => {
  it('finds weekday, last-day-of-month and stepped matches', () => {
    // Every Monday at 08:30 UTC (days of week run SUN=1 .. SAT=7).
    assert.deepEqual(nextCronTime(parseCron('30 8 ? * MON *'), at('2026-11-23T09:00:00Z')), at('2026-11-30T08:30:00Z'));
    assert.deepEqual(nextCronTime(parseCron('0 0 L * ? *'), at('2026-02-03T00:00:00Z')), at('2026-02-28T00:00:00Z'));
    assert.deepEqual(nextCronTime(parseCron('0 0/6 * * ? *'), at('2026-01-01T07:00:00Z')), at('2026-01-01T12:00:00Z'));
  });

  it('counts an exact match at `from` and honours the year field', () => {
    assert.deepEqual(nextCronTime(parseCron('0 12 1 JAN ? 2027'), at('2026-06-01T00:00:00Z')), at('2027-01-01T12:00:00Z'));
    assert.deepEqual(nextCronTime(parseCron('0 12 * * ? *'), at('2026-06-01T12:00:00Z')), at('2026-06-01T12:00:00Z'));
    assert.equal(nextCronTime(parseCron('0 12 1 JAN ? 2020'), at('2026-06-01T00:00:00Z')), undefined);
  });
});
