import { describe, expect, it } from 'vitest';
import { normalizeJob, type Job } from './job.js';

const NOW = Date.parse('2026-05-01T12:00:00Z');
const existing = new Map<string, Pick<Job, 'name' | 'parents'>>([
  ['a', { name: 'a', parents: [] }],
  ['b', { name: 'b', parents: ['a'] }],
]);

describe('normalizeJob', () => {
  it("fills Chronos's defaults and keeps unknown Chronos fields", () => {
    const job = normalizeJob({ name: 'sample-job_1.x', command: 'echo hi', schedule: 'R/2014-03-08T20:00:00Z/PT2H', owner: 'ops@example.com', async: false, uris: [] }, { existing, now: NOW });
    expect(job).toMatchObject({
      shell: true, epsilon: 'PT60S', retries: 2, cpus: 0.1, mem: 128, disk: 256, concurrent: false, disabled: false,
      parents: [], arguments: [], environmentVariables: [], constraints: [], missedRunPolicy: 'runOnce',
      successCount: 0, errorCount: 0, lastSuccess: '', lastError: '', errorsSinceLastSuccess: 0, async: false, uris: [],
    });
  });

  it('fixes an empty start to now and ignores counters sent by the client', () => {
    const job = normalizeJob({ name: 'j', command: 'true', schedule: 'R//PT1M', successCount: 99 }, { existing, now: NOW });
    expect(job.schedule).toBe('R/2026-05-01T12:00:00.000Z/PT1M');
    expect(job.successCount).toBe(0);
  });

  it('maps startingDeadlineSeconds onto epsilon', () => {
    expect(normalizeJob({ name: 'j', command: 'true', cron: '* * * * *', startingDeadlineSeconds: 5 }, { existing, now: NOW }).epsilon).toBe('PT5S');
  });

  it.each([
    [{ name: 'bad name', command: 'x', schedule: 'R//PT1H' }, /name: 'bad name' must match/],
    [{ name: 'j', schedule: 'R//PT1H' }, /command: is required/],
    [{ name: 'j', command: 'x', schedule: 'R/yesterday/PT1H' }, /schedule: 'yesterday' is not an ISO 8601 date-time/],
    [{ name: 'j', command: 'x', schedule: 'R//P1X' }, /schedule: period 'P1X'/],
    [{ name: 'j', command: 'x', schedule: 'R//PT1H', scheduleTimeZone: 'Europe/Atlantis' }, /scheduleTimeZone: unknown time zone/],
    [{ name: 'j', command: 'x', schedule: 'R//PT1H', parents: ['a'] }, /parents: a job has either a schedule or parents/],
    [{ name: 'j', command: 'x', parents: ['nope'] }, /parent 'nope' does not exist/],
    [{ name: 'a', command: 'x', parents: ['b'] }, /cycle: a -> b -> a/],
    [{ name: 'j', command: 'x' }, /schedule: is required/],
    [{ name: 'j', command: 'x', schedule: 'R//PT1H', epsilon: '60s' }, /epsilon/],
    [{ name: 'j', command: 'x', schedule: 'R//PT1H', missedRunPolicy: 'sometimes' }, /missedRunPolicy/],
    [{ name: 'j', command: 'x', schedule: 'R//PT1H', constraints: [['rack', 'NEAR', 'x']] }, /constraints\[0\]/],
    [{ name: 'j', command: 'x', schedule: 'R//PT1H', retries: -1 }, /retries: must be >= 0/],
    [{ name: 'j', command: 'x', schedule: 'R//PT1H', cpus: 0 }, /cpus: must be > 0/],
  ])('refuses %j', (input, message) => {
    expect(() => normalizeJob(input, { existing, now: NOW })).toThrow(message);
  });

  it('checks the endpoint kind', () => {
    expect(() => normalizeJob({ name: 'j', command: 'x', schedule: 'R//PT1H' }, { existing, now: NOW, kind: 'dependent' })).toThrow(/needs at least one parent/);
    expect(() => normalizeJob({ name: 'j', command: 'x', parents: ['a'] }, { existing, now: NOW, kind: 'scheduled' })).toThrow(/post dependent jobs to \/dependency/);
  });
});
