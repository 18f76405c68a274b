import { invalidJob } from './errors.js';

/** A parsed 5-field cron expression (minute hour day-of-month month day-of-week). */
export interface CronExpression {
  minutes: number[];
  hours: number[];
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** 0 = Sunday (7 is folded into 0). */
  daysOfWeek: Set<number>;
  /** Vixie cron: when both day fields are restricted, a day matching either runs. */
  domRestricted: boolean;
  dowRestricted: boolean;
  text: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function parseField(text: string, min: number, max: number, names: string[] | undefined, what: string, field: string): number[] {
  const values = new Set<number>();
  const value = (s: string): number => {
    const upper = s.toUpperCase();
    const named = names ? names.indexOf(upper) : -1;
    if (named >= 0) return named + (names === MONTHS ? 1 : 0);
    if (!/^\d+$/.test(s)) throw invalidJob(field, `${what} '${s}' is not a number${names ? ' or name' : ''}`);
    return Number(s);
  };
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw invalidJob(field, `${what} step '${stepText}' must be a whole number >= 1`);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [lo, hi] = [value(a), value(b)];
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw invalidJob(field, `${what} '${item}' is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Parses `m h dom mon dow` (lists, ranges, steps, month and day names, @daily & co). */
export function parseCron(text: string, field = 'cron'): CronExpression {
  if (typeof text !== 'string') throw invalidJob(field, 'must be a string such as "*/5 * * * *"');
  const expanded = MACROS[text.trim().toLowerCase()] ?? text.trim();
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw invalidJob(field, `'${text}' must have 5 fields: minute hour day-of-month month day-of-week`);
  const [mi = '', h = '', dom = '', mon = '', dow = ''] = parts;
  const daysOfWeek = new Set(parseField(dow, 0, 7, DAYS, 'day of week', field).map((d) => d % 7));
  return {
    minutes: parseField(mi, 0, 59, undefined, 'minute', field),
    hours: parseField(h, 0, 23, undefined, 'hour', field),
    daysOfMonth: new Set(parseField(dom, 1, 31, undefined, 'day of month', field)),
    months: new Set(parseField(mon, 1, 12, MONTHS, 'month', field)),
    daysOfWeek,
    domRestricted: dom !== '*' && !dom.startsWith('*/'),
    dowRestricted: dow !== '*' && !dow.startsWith('*/'),
    text,
  };
}

/** Whether a calendar day matches the day fields (Vixie cron's OR when both are restricted). */
export function cronDayMatches(c: CronExpression, month: number, day: number, weekday: number): boolean {
  if (!c.months.has(month)) return false;
  const dom = c.daysOfMonth.has(day);
  const dow = c.daysOfWeek.has(weekday);
  if (c.domRestricted && c.dowRestricted) return dom || dow;
  return dom && dow;
}
