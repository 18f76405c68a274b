import { describe, expect, it } from 'vitest';
import { cronDayMatches } from './cron.js';
import { nextRunAfter, runsBetween, scheduleSpecOf, type ScheduleSpec } from './schedule.js';
import { dayOfWeek, offsetAt, toLocal } from './zoned-time.js';

// Property tests of the calculator over seeded random schedules, zones and instants (a small
// PRNG instead of a dependency: the same seed gives the same cases, so a failure reproduces).

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Chatham'];
const T_MIN = Date.parse('2024-01-01T00:00:00Z');
const T_SPAN = 3 * 365 * 86_400_000;

function randomCase(rnd: () => number): { spec: ScheduleSpec; label: string; after: number } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const zone = pick(ZONES);
  const after = T_MIN + Math.floor(rnd() * T_SPAN);
  if (rnd() < 0.5) {
    const cron = `${pick(['0', '*/15', '30', '5,45', '*/7'])} ${pick(['*', '2', '1-3', '*/6', '9,17'])} ${pick(['*', '1', '15', '*/10'])} * ${pick(['*', 'MON-FRI', '0', '6'])}`;
    return { spec: scheduleSpecOf({ cron, timezone: zone })!, label: `cron '${cron}' in ${zone}`, after };
  }
  const period = pick(['PT1M', 'PT7M', 'PT1H', 'PT90M', 'P1D', 'P1W', 'P1M', 'P1DT2H']);
  const start = new Date(T_MIN + Math.floor(rnd() * T_SPAN)).toISOString().slice(0, 19);
  const schedule = `R/${start}/${period}`;
  return { spec: scheduleSpecOf({ schedule, scheduleTimeZone: zone })!, label: `${schedule} in ${zone}`, after };
}

describe('schedule calculator properties', () => {
  const rnd = prng(20261124);
  const cases = Array.from({ length: 300 }, () => randomCase(rnd));

  it('the next run is strictly later, and asking just before it gives it again (nothing skipped in between)', () => {
    for (const { spec, label, after } of cases) {
      const next = nextRunAfter(spec, after);
      if (next === undefined) continue;
      expect(next, label).toBeGreaterThan(after);
      expect(nextRunAfter(spec, next - 1), label).toBe(next);
      expect(nextRunAfter(spec, after + Math.floor((next - after) / 2)), label).toBe(next);
    }
  });

  it('cron runs fall on matching days, at matching wall-clock minutes or on a DST transition', () => {
    for (const { spec, label, after } of cases) {
      if (spec.kind !== 'cron') continue;
      const next = nextRunAfter(spec, after)!;
      const local = toLocal(next, spec.zone);
      expect(cronDayMatches(spec.cron, local.month, local.day, dayOfWeek(local)), `${label} at ${new Date(next).toISOString()}`).toBe(true);
      const onMinute = spec.cron.minutes.includes(local.minute) && spec.cron.hours.includes(local.hour);
      // A time inside a spring-forward gap runs at the transition: the offset changes at that instant.
      const transition = offsetAt(next - 1000, spec.zone) !== offsetAt(next, spec.zone);
      expect(onMinute || transition, `${label} at ${new Date(next).toISOString()} (${local.hour}:${local.minute})`).toBe(true);
    }
  });

  it('counting runs over a window adds up over its halves', () => {
    for (const { spec, label, after } of cases.slice(0, 100)) {
      const end = after + 86_400_000;
      const mid = after + Math.floor(rnd() * 86_400_000);
      const whole = runsBetween(spec, after, end, 0).count;
      expect(runsBetween(spec, after, mid, 0).count + runsBetween(spec, mid, end, 0).count, label).toBe(whole);
    }
  });

  it('successive runs never repeat an instant (a repeated wall-clock time runs once)', () => {
    for (const { spec, label, after } of cases.slice(0, 60)) {
      let t = after;
      const seen = new Set<number>();
      for (let i = 0; i < 50; i++) {
        const next = nextRunAfter(spec, t);
        if (next === undefined) break;
        expect(seen.has(next), label).toBe(false);
        seen.add(next);
        t = next;
      }
    }
  });
});
