/**
 * The p-th percentile (0..100) of `values` by the nearest-rank method: the smallest value
 * with at least p% of the values at or below it. NaN for an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** The median of `values` (the 50th percentile by nearest rank). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Rounds to `digits` significant digits, for readable result files. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
