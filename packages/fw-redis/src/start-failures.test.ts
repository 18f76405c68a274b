import { describe, expect, it } from 'vitest';
import { backingOff, startBackoffMs } from './start-failures.js';

describe('start backoff', () => {
  it('doubles from 0.5 s up to 30 s', () => {
    expect([0, 1, 2, 3, 6, 7, 20].map(startBackoffMs)).toEqual([0, 500, 1000, 2000, 16_000, 30_000, 30_000]);
  });
  it('says why while it lasts, nothing after', () => {
    const f = { count: 3, lastAt: 10_000, message: 'TASK_FAILED: Command exited with status 1' };
    expect(backingOff(f, 11_000)).toBe('backing off 1.0 s after 3 server(s) failed to start (last: TASK_FAILED: Command exited with status 1)');
    expect(backingOff(f, 12_000)).toBeUndefined();
    expect(backingOff(undefined, 0)).toBeUndefined();
  });
});
