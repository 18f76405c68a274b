import type { FigureInput } from './result.js';

/** What every benchmark gets. */
export interface BenchContext {
  full: boolean;
  log(line: string): void;
}

/** What a benchmark measured; the suite adds machine, commit and time. */
export interface BenchOutcome {
  parameters: Record<string, unknown>;
  figures: FigureInput[];
  /** What dominated, caveats, how it was measured. */
  notes: string[];
}

export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}
