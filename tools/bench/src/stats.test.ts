import { describe, expect, it } from 'vitest';
import { median, percentile, round } from './stats.js';

describe('percentile (nearest rank)', () => {
  it.each([
    // values, p, expected
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 10],
    [[10, 1, 7], 0, 1], // p0 is the smallest
    [[10, 1, 7], 100, 10],
    [[42], 99, 42],
  ])('of %j at p%d is %d', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('is NaN for no values and refuses p outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(/0\.\.100/);
    expect(() => percentile([1], Number.NaN)).toThrow(/0\.\.100/);
  });

  it('median is the 50th percentile', () => {
    expect(median([5, 3, 9, 1])).toBe(3);
  });
});

describe('round', () => {
  it.each([
    [1234.5678, 3, 1230],
    [0.00123456, 2, 0.0012],
    [0, 3, 0],
  ])('%d to %d digits is %d', (v, d, out) => expect(round(v, d)).toBe(out));
});
