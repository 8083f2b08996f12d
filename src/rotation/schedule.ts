import type { RotationRules } from '../store/index.js';
import { CronError, nextCronTime, parseCron } from './cron.js';

/**
 * Rotation windows from RotationRules, as pure functions of time. A window opens at `start` and closes at
 * `end`; Secrets Manager rotates at some time inside it.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html
 *
 * - `AutomaticallyAfterDays: N` and `rate(N days)`: the window opens at 00:00 UTC N days after the last
 *   rotation and closes at the end of that UTC day, or after `Duration`.
 * - `rate(N hours)`: opens N hours after the last rotation (on the hour) and lasts `Duration` or one hour.
 * - `cron(...)`: opens at the next matching time and closes at the end of that UTC day, or after `Duration`.
 */
export type RotationWindow = { start: Date; end: Date };

export class ScheduleError extends Error {}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const RATE = /^rate\((\d+) (hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;
const DURATION = /^(\d+)h$/;

/** Validates rules, throwing ScheduleError with a message a person can act on. */
export function validateRules(rules: RotationRules): void {
  describeSchedule(rules);
  if (rules.Duration !== undefined) durationMs(rules.Duration);
}

/** The next window, counted from the last rotation (or from the secret's creation) and never before `now`. */
export function nextWindow(rules: RotationRules, lastRotated: Date, now: Date): RotationWindow {
  const schedule = describeSchedule(rules);
  const duration = rules.Duration === undefined ? undefined : durationMs(rules.Duration);
  if (schedule.kind === 'cron') {
    const start = nextCronTime(schedule.cron, now);
    if (!start) throw new ScheduleError('the cron expression never matches in the next ten years');
    return { start, end: windowEnd(start, duration) };
  }
  if (schedule.kind === 'hours') {
    const start = new Date(Math.floor((lastRotated.getTime() + schedule.hours * HOUR_MS) / HOUR_MS) * HOUR_MS);
    if (duration !== undefined && duration > schedule.hours * HOUR_MS) {
      throw new ScheduleError('the Duration window must be shorter than the rotation interval');
    }
    return { start, end: new Date(start.getTime() + (duration ?? HOUR_MS)) };
  }
  const start = startOfUtcDay(new Date(lastRotated.getTime() + schedule.days * DAY_MS));
  return { start, end: windowEnd(start, duration) };
}

type Schedule = { kind: 'days'; days: number } | { kind: 'hours'; hours: number } | { kind: 'cron'; cron: ReturnType<typeof parseCron> };

function describeSchedule(rules: RotationRules): Schedule {
  if (rules.ScheduleExpression !== undefined && rules.AutomaticallyAfterDays !== undefined) {
    throw new ScheduleError('specify either AutomaticallyAfterDays or ScheduleExpression, not both');
  }
  if (rules.AutomaticallyAfterDays !== undefined) return { kind: 'days', days: rules.AutomaticallyAfterDays };
  const expression = rules.ScheduleExpression?.trim();
  if (expression === undefined) throw new ScheduleError('RotationRules need AutomaticallyAfterDays or ScheduleExpression');
  const rate = RATE.exec(expression);
  if (rate) {
    const amount = Number(rate[1]);
    if (rate[2]!.startsWith('hour')) {
      // Secrets Manager rotates at most every four hours.
      if (amount < 4 || amount > 23) throw new ScheduleError('rate() in hours must be from 4 to 23 hours');
      return { kind: 'hours', hours: amount };
    }
    if (amount < 1 || amount > 1000) throw new ScheduleError('rate() in days must be from 1 to 1000 days');
    return { kind: 'days', days: amount };
  }
  const cron = CRON.exec(expression);
  if (cron) {
    try {
      return { kind: 'cron', cron: parseCron(cron[1]!) };
    } catch (error) {
      if (error instanceof CronError) throw new ScheduleError(`invalid cron expression: ${error.message}`);
      throw error;
    }
  }
  throw new ScheduleError(`ScheduleExpression must be rate(N days), rate(N hours) or cron(...), not ${expression}`);
}

function durationMs(duration: string): number {
  const match = DURATION.exec(duration);
  const hours = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(hours) || hours < 1 || hours > 24) throw new ScheduleError(`Duration must be from 1h to 24h, not ${duration}`);
  return hours * HOUR_MS;
}

/** A window ends after its duration, and never after the end of its UTC day. */
function windowEnd(start: Date, duration: number | undefined): Date {
  const endOfDay = startOfUtcDay(start).getTime() + DAY_MS;
  return new Date(Math.min(endOfDay, duration === undefined ? endOfDay : start.getTime() + duration));
}

function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}
