/** The scalar resources fair share and placement count: cpus, mem (MB), disk (MB), gpus. */
export interface Scalars {
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
}

/** The names of {@link Scalars}, in a fixed order. */
export const SCALAR_NAMES = ['cpus', 'mem', 'disk', 'gpus'] as const;

/** Zero of everything. */
export const ZERO: Scalars = Object.freeze({ cpus: 0, mem: 0, disk: 0, gpus: 0 });

const round = (n: number): number => Math.round(n * 1000) / 1000;

export function addScalars(a: Scalars, b: Scalars): Scalars {
  return { cpus: round(a.cpus + b.cpus), mem: round(a.mem + b.mem), disk: round(a.disk + b.disk), gpus: round(a.gpus + b.gpus) };
}

export function subtractScalars(a: Scalars, b: Scalars): Scalars {
  return { cpus: round(a.cpus - b.cpus), mem: round(a.mem - b.mem), disk: round(a.disk - b.disk), gpus: round(a.gpus - b.gpus) };
}

/** What `need` lacks in `have`, as `cpus: need 2, have 1` texts (empty when it fits). */
export function shortfall(have: Scalars, need: Scalars): string[] {
  return SCALAR_NAMES.filter((r) => need[r] > have[r] + 1e-9).map((r) => `${r}: need ${need[r]}, have ${round(have[r])}`);
}

export function fitsIn(have: Scalars, need: Scalars): boolean {
  return shortfall(have, need).length === 0;
}

/**
 * The dominant share of `usage` in a cluster of `total` (DRF): the largest fraction of any
 * resource the cluster has. Resources the cluster has none of are ignored.
 */
export function dominantShare(usage: Scalars, total: Scalars): number {
  let best = 0;
  for (const r of SCALAR_NAMES) if (total[r] > 0) best = Math.max(best, usage[r] / total[r]);
  return best;
}
