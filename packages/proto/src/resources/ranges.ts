import type { Range } from './types.js';

/** Sorts and merges ranges so that none overlap or touch. */
export function normalizeRanges(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter((r) => r.end >= r.begin).map((r) => ({ ...r })).sort((a, b) => a.begin - b.begin);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) {
      last.end = Math.max(last.end, r.end);
    } else {
      out.push(r);
    }
  }
  return out;
}

export function addRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  return normalizeRanges([...a, ...b]);
}

/** a minus b, for normalized inputs. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  let rest = normalizeRanges(a);
  for (const cut of normalizeRanges(b)) {
    const next: Range[] = [];
    for (const r of rest) {
      if (cut.end < r.begin || cut.begin > r.end) {
        next.push(r);
        continue;
      }
      if (cut.begin > r.begin) next.push({ begin: r.begin, end: cut.begin - 1 });
      if (cut.end < r.end) next.push({ begin: cut.end + 1, end: r.end });
    }
    rest = next;
  }
  return rest;
}

/** Whether every value in `inner` lies in `outer`. */
export function rangesContain(outer: readonly Range[], inner: readonly Range[]): boolean {
  const o = normalizeRanges(outer);
  return normalizeRanges(inner).every((r) => o.some((x) => x.begin <= r.begin && r.end <= x.end));
}

/** How many values the ranges hold. */
export function rangesSize(ranges: readonly Range[]): number {
  return normalizeRanges(ranges).reduce((n, r) => n + (r.end - r.begin + 1), 0);
}

/** Mesos's text form: `[31000-31005,31010-31010]`. */
export function formatRanges(ranges: readonly Range[]): string {
  return `[${ranges.map((r) => `${r.begin}-${r.end}`).join(',')}]`;
}
