/**
 * Wall-clock ↔ instant conversions in IANA time zones, with Node's Intl data only.
 *
 * DST rules (the contract of the whole scheduler):
 * - a wall-clock time that does not exist (inside a spring-forward gap) maps to the next valid
 *   instant, i.e. the transition itself (02:30 on a New York spring-forward day → 03:00 EDT);
 * - a wall-clock time that happens twice (fall-back fold) maps to its first occurrence, so a
 *   schedule fires once.
 */

/** Calendar fields of a wall-clock time (month 1-12). */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA zone name Intl knows (`UTC` included). */
export function isValidTimeZone(zone: string): boolean {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time at `instant` (ms since the epoch) in `zone`. */
export function toLocal(instant: number, zone: string): LocalTime {
  if (zone === 'UTC') return utcFields(instant);
  const parts = formatterFor(zone).formatToParts(new Date(instant));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const era = parts.find((p) => p.type === 'era')?.value;
  const year = era === 'BC' || era === 'B' ? 1 - get('year') : get('year');
  return { year, month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second'), millisecond: ((instant % 1000) + 1000) % 1000 };
}

function utcFields(instant: number): LocalTime {
  const d = new Date(instant);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), millisecond: d.getUTCMilliseconds() };
}

/** The wall-clock fields read as if they were UTC (a plain number to compare and subtract). */
export function localAsUtc(t: LocalTime): number {
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, t.millisecond);
  return d.getTime();
}

/** The zone's offset from UTC at `instant`, in ms (EDT → -4 h). */
export function offsetAt(instant: number, zone: string): number {
  if (zone === 'UTC') return 0;
  const floored = Math.floor(instant / 1000) * 1000;
  return localAsUtc({ ...toLocal(floored, zone), millisecond: 0 }) - floored;
}

/**
 * The instant of a wall-clock time in `zone`, by the DST rules above: the first occurrence of a
 * repeated time, the transition instant for a time inside a gap.
 */
export function fromLocal(local: LocalTime, zone: string): number {
  const wall = localAsUtc(local);
  if (zone === 'UTC') return wall;
  const before = offsetAt(wall - 36 * 3_600_000, zone);
  const after = offsetAt(wall + 36 * 3_600_000, zone);
  const candidates = [...new Set([wall - before, wall - after])].sort((a, b) => a - b);
  for (const t of candidates) {
    if (wall - offsetAt(t, zone) === t) return t; // the earliest that reads back as `wall`
  }
  // In a gap: the transition lies between the two candidates; find the first instant on the
  // later offset by bisection (offsets change at whole seconds in practice).
  let lo = Math.min(...candidates) - 1000;
  let hi = Math.max(...candidates);
  const late = offsetAt(hi, zone);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (mid <= lo || mid >= hi) break;
    if (offsetAt(mid, zone) === late) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Adds whole years, months and days to a wall-clock date (day clamped to the month's end). */
export function addCalendar(t: LocalTime, years: number, months: number, days: number): LocalTime {
  const totalMonths = t.year * 12 + (t.month - 1) + years * 12 + months;
  const year = Math.floor(totalMonths / 12);
  const month = (totalMonths % 12) + 1;
  const lastDay = daysInMonth(year, month);
  const clamped = { ...t, year, month, day: Math.min(t.day, lastDay) };
  if (days === 0) return clamped;
  const d = new Date(localAsUtc(clamped) + days * 86_400_000);
  return { ...clamped, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Days in a month (1-12) of a year. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Day of the week of a wall-clock date, 0 = Sunday. */
export function dayOfWeek(t: Pick<LocalTime, 'year' | 'month' | 'day'>): number {
  return new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDay();
}
