import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const policy = { initialDelayMs: 500, maxDelayMs: 30_000 };
  it('doubles from the initial delay and stops at the maximum', () => {
    const top = (n: number): number => backoffDelay(policy, n, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map(top)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  it('jitters within the upper half of each step', () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(1000);
    expect(backoffDelay(policy, 2, () => 0.5)).toBe(1500);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(policy, 3);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });
});
