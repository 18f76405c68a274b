import { invalidJob } from './errors.js';
import type { LocalTime } from './zoned-time.js';

/** An ISO 8601 duration split into calendar parts (added on the wall clock) and an exact part. */
export interface IsoDuration {
  years: number;
  months: number;
  /** Weeks are folded into days. */
  days: number;
  /** Hours, minutes and seconds, in ms: added as elapsed time. */
  timeMs: number;
}

const DURATION = /^P(?!$)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

/** Parses `PnYnMnWnDTnHnMnS` (fractions allowed on the time parts only); undefined when invalid. */
export function parseDuration(text: string): IsoDuration | undefined {
  const m = DURATION.exec(text.trim().toUpperCase());
  if (!m) return undefined;
  const num = (s: string | undefined): number => (s === undefined ? 0 : Number(s.replace(',', '.')));
  const [years, months, weeks, days] = [num(m[1]), num(m[2]), num(m[3]), num(m[4])];
  if (![years, months, weeks, days].every(Number.isInteger)) return undefined;
  const timeMs = Math.round(num(m[5]) * 3_600_000 + num(m[6]) * 60_000 + num(m[7]) * 1000);
  return { years, months, days: weeks * 7 + days, timeMs };
}

/** Whether a duration is zero (not a usable period). */
export function isZeroDuration(d: IsoDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.timeMs === 0;
}

/** A rough length in ms (months as 30.44 days), for estimates only. */
export function approximateMs(d: IsoDuration): number {
  return d.years * 365.25 * 86_400_000 + d.months * 30.44 * 86_400_000 + d.days * 86_400_000 + d.timeMs;
}

/** `epsilon`-style durations as ms (calendar parts at nominal lengths). */
export function durationToMs(text: string, field: string): number {
  const d = parseDuration(text);
  if (!d) throw invalidJob(field, `'${text}' is not an ISO 8601 duration such as PT60S`);
  return Math.round(approximateMs(d));
}

/** The start of a repeating interval: wall-clock fields plus the offset written, if any. */
export interface IsoStart {
  local: LocalTime;
  /** Minutes east of UTC written in the text (`Z` = 0); undefined for a floating local time. */
  offsetMinutes: number | undefined;
}

/** `R[n]/start/period`, parsed. */
export interface RepeatingInterval {
  /** Number of runs; undefined = forever. */
  repetitions: number | undefined;
  /** Undefined when the start was left empty ("now", fixed when the job is stored). */
  start: IsoStart | undefined;
  period: IsoDuration;
  periodText: string;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parses an ISO 8601 date-time such as `2014-03-08T20:00:00Z` or `2014-03-08T20:00:00.000-05:00`. */
export function parseIsoDateTime(text: string): IsoStart | undefined {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const millisecond = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate() || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes: number | undefined;
  const z = m[8];
  if (z === 'Z') offsetMinutes = 0;
  else if (z) {
    const sign = z.startsWith('-') ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
  }
  return { local: { year, month, day, hour, minute, second, millisecond }, offsetMinutes };
}

/** Parses Chronos's `schedule`; throws INVALID_JOB naming `field` and what is wrong. */
export function parseRepeatingInterval(text: string, field = 'schedule'): RepeatingInterval {
  if (typeof text !== 'string') throw invalidJob(field, 'must be a string such as R/2014-03-08T20:00:00Z/PT2H');
  const parts = text.trim().split('/');
  if (parts.length !== 3) throw invalidJob(field, `'${text}' is not an ISO 8601 repeating interval R[n]/start/period`);
  const [r = '', startText = '', periodText = ''] = parts;
  const rm = /^R(\d*)$/.exec(r);
  if (!rm) throw invalidJob(field, `'${r}' is not a repetition count (R or Rn)`);
  const repetitions = rm[1] ? Number(rm[1]) : undefined;
  let start: IsoStart | undefined;
  if (startText !== '') {
    start = parseIsoDateTime(startText);
    if (!start) throw invalidJob(field, `'${startText}' is not an ISO 8601 date-time such as 2014-03-08T20:00:00Z`);
  }
  const period = parseDuration(periodText);
  if (!period) throw invalidJob(field, `period '${periodText}' is not an ISO 8601 duration such as PT2H or P1D`);
  if (isZeroDuration(period)) throw invalidJob(field, `period '${periodText}' must be longer than zero`);
  return { repetitions, start, period, periodText };
}
