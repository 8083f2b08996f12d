/**
 * AWS's six-field cron (`Minutes Hours Day-of-month Month Day-of-week Year`), as Secrets Manager and
 * EventBridge read it: `*`, `?`, lists, ranges, `/` steps, month and weekday names, `L` in day-of-month
 * and day-of-week, `W` and `#` are not supported here and are refused. Days of week run 1–7, SUN–SAT.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html
 */
export type CronSchedule = {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number> | 'any' | 'last';
  months: Set<number>;
  daysOfWeek: Set<number> | 'any';
  years: Set<number> | 'any';
};

export class CronError extends Error {}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export function parseCron(expression: string): CronSchedule {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) throw new CronError(`a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not ${fields.length}`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new CronError('exactly one of day-of-month and day-of-week must be ?');
  }
  return {
    minutes: parseField(minutes, 0, 59, []),
    hours: parseField(hours, 0, 23, []),
    daysOfMonth: dayOfMonth === '?' ? 'any' : dayOfMonth === 'L' ? 'last' : parseField(dayOfMonth, 1, 31, []),
    months: parseField(month, 1, 12, MONTHS),
    daysOfWeek: dayOfWeek === '?' ? 'any' : parseField(dayOfWeek, 1, 7, WEEKDAYS),
    years: year === '*' ? 'any' : parseField(year, 1970, 2199, []),
  };
}

/** The first minute at or after `from` that the schedule matches, within the next ten years. */
export function nextCronTime(schedule: CronSchedule, from: Date): Date | undefined {
  const start = new Date(from);
  start.setUTCSeconds(0, 0);
  if (start < from) start.setUTCMinutes(start.getUTCMinutes() + 1);
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  for (let i = 0; i < 366 * 10; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    if (!matchesDay(schedule, day)) continue;
    for (const hour of sorted(schedule.hours)) {
      for (const minute of sorted(schedule.minutes)) {
        const candidate = new Date(day.getTime() + hour * 3_600_000 + minute * 60_000);
        if (candidate >= start) return candidate;
      }
    }
  }
  return undefined;
}

function matchesDay(schedule: CronSchedule, day: Date): boolean {
  if (schedule.years !== 'any' && !schedule.years.has(day.getUTCFullYear())) return false;
  if (!schedule.months.has(day.getUTCMonth() + 1)) return false;
  const dom = day.getUTCDate();
  if (schedule.daysOfMonth === 'last') {
    const lastDay = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 0)).getUTCDate();
    if (dom !== lastDay) return false;
  } else if (schedule.daysOfMonth !== 'any' && !schedule.daysOfMonth.has(dom)) {
    return false;
  }
  return schedule.daysOfWeek === 'any' || schedule.daysOfWeek.has(day.getUTCDay() + 1);
}

function parseField(field: string, min: number, max: number, names: string[]): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string?];
    const step = stepText === undefined ? 1 : toNumber(stepText, 1, max, []);
    let [low, high] = [min, max];
    if (range !== '*') {
      const [from, to] = range.split('-') as [string, string?];
      low = toNumber(from, min, max, names);
      high = to === undefined ? (stepText === undefined ? low : max) : toNumber(to, min, max, names);
    }
    if (low > high) throw new CronError(`range ${range} runs backwards`);
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

function toNumber(text: string, min: number, max: number, names: string[]): number {
  const named = names.indexOf(text.toUpperCase());
  const value = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CronError(`'${text}' is not a value from ${min} to ${max}`);
  }
  return value;
}

function sorted(values: Set<number>): number[] {
  return [...values].sort((a, b) => a - b);
}
