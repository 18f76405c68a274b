/**
 * Scalars carry three decimal digits, as in Mesos: arithmetic runs on integer
 * thousandths, so 0.1 + 0.2 is exactly 0.3 and repeated add/subtract never drifts.
 */
export const SCALAR_SCALE = 1000;

export function toMillis(value: number): number {
  return Math.round(value * SCALAR_SCALE);
}

export function fromMillis(millis: number): number {
  return millis / SCALAR_SCALE;
}

/** Rounds a scalar to the three decimal digits the protocol keeps. */
export function roundScalar(value: number): number {
  return fromMillis(toMillis(value));
}
