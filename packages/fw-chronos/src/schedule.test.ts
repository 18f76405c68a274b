import { describe, expect, it } from 'vitest';
import { nextRunAfter, runsBetween, scheduleSpecOf, resolveScheduleStart } from './schedule.js';
import { fromLocal, toLocal } from './zoned-time.js';

const iso = (s: string): number => Date.parse(s);
const at = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

/** The runs after `after`, as ISO instants. */
function runs(job: Parameters<typeof scheduleSpecOf>[0], after: string, n: number): Array<string | undefined> {
  const spec = scheduleSpecOf(job)!;
  const out: Array<string | undefined> = [];
  let t: number | undefined = iso(after);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = nextRunAfter(spec, t);
    out.push(at(t));
  }
  return out;
}

describe('zoned time', () => {
  it.each([
    // zone, wall clock, instant — gaps map to the transition, folds to the first occurrence
    ['America/New_York', '2026-03-08T01:59', '2026-03-08T06:59:00.000Z'],
    ['America/New_York', '2026-03-08T02:30', '2026-03-08T07:00:00.000Z'], // gap → 03:00 EDT
    ['America/New_York', '2026-11-01T01:30', '2026-11-01T05:30:00.000Z'], // fold → EDT
    ['Europe/London', '2026-03-29T01:30', '2026-03-29T01:00:00.000Z'], // gap → 02:00 BST
    ['Europe/London', '2026-10-25T01:30', '2026-10-25T00:30:00.000Z'], // fold → BST
    ['Australia/Lord_Howe', '2026-10-04T02:15', '2026-10-03T15:30:00.000Z'], // 30-min gap → 02:30 (+11)
    ['Australia/Lord_Howe', '2026-04-05T01:45', '2026-04-04T14:45:00.000Z'], // 30-min fold → +11
    ['Asia/Kolkata', '2026-06-01T09:00', '2026-06-01T03:30:00.000Z'],
    ['UTC', '2026-06-01T09:00', '2026-06-01T09:00:00.000Z'],
  ])('%s %s → %s', (zone, wall, instant) => {
    const [d = '', t = ''] = wall.split('T');
    const [year, month, day] = d.split('-').map(Number) as [number, number, number];
    const [hour, minute] = t.split(':').map(Number) as [number, number];
    expect(at(fromLocal({ year, month, day, hour, minute, second: 0, millisecond: 0 }, zone))).toBe(instant);
  });

  it('reads an instant back in its zone', () => {
    expect(toLocal(iso('2026-04-04T15:15:00Z'), 'Australia/Lord_Howe')).toMatchObject({ day: 5, hour: 1, minute: 45 });
  });
});

describe('cron across DST', () => {
  it.each([
    ['New York spring forward: 02:30 runs at 03:00 EDT', { cron: '30 2 * * *', timezone: 'America/New_York' }, '2026-03-08T05:00:00Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']],
    ['New York fall back: 01:30 runs once', { cron: '30 1 * * *', timezone: 'America/New_York' }, '2026-11-01T04:00:00Z', ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
    ['New York every 30 min through the repeated hour', { cron: '*/30 * * * *', timezone: 'America/New_York' }, '2026-11-01T05:00:00Z', ['2026-11-01T05:30:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-01T07:30:00.000Z']],
    ['London spring forward', { cron: '30 1 * * *', timezone: 'Europe/London' }, '2026-03-28T12:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
    ['Lord Howe 30-min fold: 01:45 once', { cron: '45 1 * * *', timezone: 'Australia/Lord_Howe' }, '2026-04-04T12:00:00Z', ['2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z']],
    ['Lord Howe 30-min gap: 02:15 at 02:30', { cron: '15 2 * * *', timezone: 'Australia/Lord_Howe' }, '2026-10-03T12:00:00Z', ['2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z']],
    ['Kolkata weekdays 09:00', { cron: '0 9 * * MON-FRI', timezone: 'Asia/Kolkata' }, '2026-11-27T04:00:00Z', ['2026-11-30T03:30:00.000Z', '2026-12-01T03:30:00.000Z']],
    ['UTC every 15 min', { cron: '*/15 * * * *' }, '2026-01-01T00:07:00Z', ['2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z']],
    ['Vixie OR of day fields', { cron: '0 0 13 * FRI' }, '2026-02-01T00:00:00Z', ['2026-02-06T00:00:00.000Z', '2026-02-13T00:00:00.000Z', '2026-02-20T00:00:00.000Z']],
    ['29 February', { cron: '0 12 29 2 *' }, '2026-01-01T00:00:00Z', ['2028-02-29T12:00:00.000Z']],
  ] as const)('%s', (_label, job, after, expected) => {
    expect(runs(job, after, expected.length)).toEqual(expected);
  });
});

describe('ISO 8601 repeating intervals', () => {
  it.each([
    ['every 2 s from the start', { schedule: 'R/2026-01-01T00:00:00Z/PT2S' }, '2026-01-01T00:00:03Z', ['2026-01-01T00:00:04.000Z', '2026-01-01T00:00:06.000Z']],
    ['before the start: the start', { schedule: 'R/2026-01-01T00:00:00Z/PT2H' }, '2025-12-01T00:00:00Z', ['2026-01-01T00:00:00.000Z', '2026-01-01T02:00:00.000Z']],
    ['R3 stops after three runs', { schedule: 'R3/2026-01-01T00:00:00Z/PT1H' }, '2026-01-01T00:30:00Z', ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z', undefined]],
    ['P1M from 31 January clamps, without drift', { schedule: 'R/2026-01-31T10:00:00Z/P1M' }, '2026-01-31T10:00:00Z', ['2026-02-28T10:00:00.000Z', '2026-03-31T10:00:00.000Z', '2026-04-30T10:00:00.000Z']],
    ['daily 09:00 in New York keeps the wall clock over DST', { schedule: 'R/2026-03-07T09:00:00Z/P1D', scheduleTimeZone: 'America/New_York' }, '2026-03-07T00:00:00Z', ['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z']],
    ['fixed offset without a zone: no DST', { schedule: 'R/2026-03-07T09:00:00-05:00/P1D' }, '2026-03-07T00:00:00Z', ['2026-03-07T14:00:00.000Z', '2026-03-08T14:00:00.000Z']],
    ['PT1H is elapsed time across the New York gap', { schedule: 'R/2026-03-08T00:00:00Z/PT1H', scheduleTimeZone: 'America/New_York' }, '2026-03-08T05:30:00Z', ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']],
    ['daily 01:30 London over the gap', { schedule: 'R/2026-03-28T01:30:00/P1D', scheduleTimeZone: 'Europe/London' }, '2026-03-28T00:00:00Z', ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
    ['daily 01:45 Lord Howe over the fold', { schedule: 'R/2026-04-04T01:45:00/P1D', scheduleTimeZone: 'Australia/Lord_Howe' }, '2026-04-03T00:00:00Z', ['2026-04-03T14:45:00.000Z', '2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z']],
    ['Kolkata weekly', { schedule: 'R/2026-01-05T09:00:00/P1W', scheduleTimeZone: 'Asia/Kolkata' }, '2026-01-06T00:00:00Z', ['2026-01-12T03:30:00.000Z', '2026-01-19T03:30:00.000Z']],
    ['years after the start, fast', { schedule: 'R/2014-03-08T20:00:00Z/PT2S' }, '2026-06-01T00:00:01Z', ['2026-06-01T00:00:02.000Z']],
  ] as const)('%s', (_label, job, after, expected) => {
    expect(runs(job, after, expected.length)).toEqual(expected);
  });

  it('fixes an empty start to now', () => {
    expect(resolveScheduleStart('R/ /PT1H'.replace(' ', ''), iso('2026-05-01T12:00:00Z'))).toBe('R/2026-05-01T12:00:00.000Z/PT1H');
  });

  it('counts the runs in a window', () => {
    const spec = scheduleSpecOf({ schedule: 'R/2026-01-01T00:00:00Z/PT2S' })!;
    const due = runsBetween(spec, iso('2026-01-01T00:00:00Z'), iso('2026-01-01T00:01:00Z'), 3);
    expect(due.count).toBe(30);
    expect(due.times.map(at)).toEqual(['2026-01-01T00:00:02.000Z', '2026-01-01T00:00:04.000Z', '2026-01-01T00:00:06.000Z']);
    expect(at(due.latest)).toBe('2026-01-01T00:01:00.000Z');
  });

  it.each([
    [{ schedule: 'R/2026-01-01T00:00:00Z' }, /not an ISO 8601 repeating interval/],
    [{ schedule: 'X/2026-01-01T00:00:00Z/PT1H' }, /repetition count/],
    [{ schedule: 'R/2026-13-01T00:00:00Z/PT1H' }, /not an ISO 8601 date-time/],
    [{ schedule: 'R/2026-01-01T00:00:00Z/P1H' }, /period 'P1H'/],
    [{ schedule: 'R/2026-01-01T00:00:00Z/PT0S' }, /longer than zero/],
    [{ schedule: 'R/2026-01-01T00:00:00Z/PT1H', scheduleTimeZone: 'Mars/Olympus' }, /unknown time zone 'Mars\/Olympus'/],
    [{ cron: '* * *' }, /5 fields/],
    [{ cron: '61 * * * *' }, /outside 0-59/],
    [{ cron: '0 0 * * *', timezone: 'Nowhere/City' }, /unknown time zone/],
  ])('refuses %j', (job, message) => {
    expect(() => scheduleSpecOf(job)).toThrow(message);
  });
});
