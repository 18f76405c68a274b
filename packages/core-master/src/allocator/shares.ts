import type { Resources } from '@meso/proto';

/** Scalar resources that count toward a dominant share. */
export const SHARE_RESOURCES = ['cpus', 'mem', 'disk', 'gpus'] as const;

/**
 * The dominant share of an allocation: its largest fraction of the cluster total over
 * the scalar resources the cluster has (0 when the cluster is empty).
 */
export function dominantShare(allocation: Resources | undefined, total: Resources): number {
  if (!allocation) return 0;
  let share = 0;
  for (const name of SHARE_RESOURCES) {
    const whole = total.scalar(name);
    if (whole > 0) share = Math.max(share, allocation.scalar(name) / whole);
  }
  return share;
}

/** A scalar amount in thousandths, as Resources keeps it (so sums are exact integers). */
const millis = (value: number): number => Math.round(value * 1000);

/** The SHARE_RESOURCES amounts of `resources`, in thousandths, in SHARE_RESOURCES order. */
export function shareVector(resources: Resources | undefined): number[] {
  return SHARE_RESOURCES.map((name) => (resources ? millis(resources.scalar(name)) : 0));
}

/** Adds `b` into `a` (both share vectors). */
export function addInto(a: number[], b: readonly number[]): void {
  for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) + (b[i] as number);
}

/**
 * `dominantShare` over share vectors: the same number, bit for bit (each amount is the
 * same thousandths ÷ 1000 that `Resources.scalar` returns), without touching Resources.
 */
export function vectorShare(allocation: readonly number[], total: readonly number[]): number {
  let share = 0;
  for (let i = 0; i < total.length; i++) {
    const whole = (total[i] as number) / 1000;
    if (whole > 0) share = Math.max(share, (allocation[i] as number) / 1000 / whole);
  }
  return share;
}
