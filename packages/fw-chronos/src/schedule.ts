import { cronDayMatches, parseCron, type CronExpression } from './cron.js';
import { invalidJob } from './errors.js';
import { approximateMs, parseRepeatingInterval, type IsoDuration, type RepeatingInterval } from './iso8601.js';
import { addCalendar, dayOfWeek, fromLocal, isValidTimeZone, localAsUtc, toLocal, type LocalTime } from './zoned-time.js';

/**
 * Where a wall clock is read: an IANA zone (DST rules of zoned-time.ts) or a fixed offset from
 * UTC written in the schedule itself (`...T20:00:00-05:00` without `scheduleTimeZone`).
 */
export type ZoneRule = { zone: string } | { fixedOffsetMs: number };

/** A schedule ready for the calculator. */
export type ScheduleSpec =
  | { kind: 'iso'; startLocal: LocalTime; zone: ZoneRule; period: IsoDuration; repetitions: number | undefined }
  | { kind: 'cron'; cron: CronExpression; zone: string };

function instantOf(local: LocalTime, zone: ZoneRule): number {
  return 'zone' in zone ? fromLocal(local, zone.zone) : localAsUtc(local) - zone.fixedOffsetMs;
}

/**
 * Builds the calculator's spec from Chronos's `schedule` (+ `scheduleTimeZone`, which wins over
 * an offset written in the schedule) or from a 5-field `cron` (+ `timezone`, default UTC).
 * An ISO schedule must have its start resolved (see `resolveScheduleStart`).
 */
export function scheduleSpecOf(job: { schedule?: string; scheduleTimeZone?: string; cron?: string; timezone?: string }): ScheduleSpec | undefined {
  if (job.cron) {
    const zone = job.timezone || 'UTC';
    if (!isValidTimeZone(zone)) throw invalidJob('timezone', `unknown time zone '${zone}'`);
    return { kind: 'cron', cron: parseCron(job.cron, 'cron'), zone };
  }
  if (!job.schedule) return undefined;
  const interval = parseRepeatingInterval(job.schedule);
  if (!interval.start) throw invalidJob('schedule', 'has no start (resolve it to the creation time first)');
  const tz = job.scheduleTimeZone;
  if (tz && !isValidTimeZone(tz)) throw invalidJob('scheduleTimeZone', `unknown time zone '${tz}'`);
  const zone: ZoneRule = tz ? { zone: tz } : interval.start.offsetMinutes !== undefined ? { fixedOffsetMs: interval.start.offsetMinutes * 60_000 } : { zone: 'UTC' };
  return { kind: 'iso', startLocal: interval.start.local, zone, period: interval.period, repetitions: interval.repetitions };
}

/** Replaces an empty start (`R/ /PT1H` → "now") with the instant given, as Chronos does on create. */
export function resolveScheduleStart(schedule: string, now: number): string {
  const interval: RepeatingInterval = parseRepeatingInterval(schedule);
  if (interval.start) return schedule.trim();
  const [r] = schedule.trim().split('/');
  return `${r}/${new Date(now).toISOString()}/${interval.periodText}`;
}

/** The k-th run (k from 0) of an ISO schedule: calendar parts on the wall clock, time parts as elapsed time. */
export function isoOccurrence(spec: Extract<ScheduleSpec, { kind: 'iso' }>, k: number): number {
  const { period } = spec;
  const wall = addCalendar(spec.startLocal, k * period.years, k * period.months, k * period.days);
  return instantOf(wall, spec.zone) + k * period.timeMs;
}

function isoFirstIndexAfter(spec: Extract<ScheduleSpec, { kind: 'iso' }>, after: number): number {
  const first = isoOccurrence(spec, 0);
  if (first > after) return 0;
  let k = Math.max(0, Math.floor((after - first) / approximateMs(spec.period)) - 1);
  while (k > 0 && isoOccurrence(spec, k) > after) k--;
  while (isoOccurrence(spec, k) <= after) k++;
  return k;
}

const CRON_SEARCH_DAYS = 366 * 8; // 29 Feb on a Monday happens within 28 years; 8 covers leap-day specs

function cronNextAfter(spec: Extract<ScheduleSpec, { kind: 'cron' }>, after: number): number | undefined {
  const { cron, zone } = spec;
  const start = toLocal(after, zone);
  // Wall-clock candidates more than 3 h before `after`'s wall clock cannot map after it (no zone
  // shifts by more), so they are skipped without the costly conversion.
  const floor = localAsUtc(start) - 3 * 3_600_000;
  let day: LocalTime = { ...start, hour: 0, minute: 0, second: 0, millisecond: 0 };
  for (let i = 0; i < CRON_SEARCH_DAYS; i++, day = addCalendar(day, 0, 0, 1)) {
    if (!cronDayMatches(cron, day.month, day.day, dayOfWeek(day))) continue;
    const dayWall = localAsUtc(day);
    for (const hour of cron.hours) {
      if (dayWall + (hour + 1) * 3_600_000 <= floor) continue;
      for (const minute of cron.minutes) {
        if (dayWall + hour * 3_600_000 + minute * 60_000 < floor) continue;
        const t = fromLocal({ ...day, hour, minute }, zone);
        if (t > after) return t;
      }
    }
  }
  return undefined;
}

/** The first run strictly after `after` (ms since the epoch), or undefined when none is left. */
export function nextRunAfter(spec: ScheduleSpec, after: number): number | undefined {
  if (spec.kind === 'cron') return cronNextAfter(spec, after);
  const k = isoFirstIndexAfter(spec, after);
  if (spec.repetitions !== undefined && k >= spec.repetitions) return undefined;
  return isoOccurrence(spec, k);
}

/** Runs in `(after, until]`: how many, the earliest `keepFirst` and the latest. */
export interface DueRuns {
  count: number;
  /** At most `limit` times, oldest first. */
  times: number[];
  latest: number | undefined;
}

/** Counts the runs due in `(after, until]`, keeping the earliest `limit` of them. */
export function runsBetween(spec: ScheduleSpec, after: number, until: number, limit = 1000): DueRuns {
  const times: number[] = [];
  if (spec.kind === 'iso') {
    const kFirst = isoFirstIndexAfter(spec, after);
    let kEnd = isoFirstIndexAfter(spec, until); // first index after `until`
    if (spec.repetitions !== undefined) kEnd = Math.min(kEnd, spec.repetitions);
    const count = Math.max(0, kEnd - kFirst);
    for (let k = kFirst; k < kEnd && times.length < limit; k++) times.push(isoOccurrence(spec, k));
    return { count, times, latest: count > 0 ? isoOccurrence(spec, kEnd - 1) : undefined };
  }
  let count = 0;
  let latest: number | undefined;
  let t = after;
  for (;;) {
    const next = cronNextAfter(spec, t);
    if (next === undefined || next > until) break;
    count++;
    latest = next;
    if (times.length < limit) times.push(next);
    t = next;
  }
  return { count, times, latest };
}
