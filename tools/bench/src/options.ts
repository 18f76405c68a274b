import { parseArgs } from 'node:util';

export const BENCHMARKS = ['allocator', 'placement', 'launch', 'restart', 'state', 'memory'] as const;
export type BenchName = (typeof BENCHMARKS)[number];

/** What `npm run bench -- ...` accepts. */
export interface BenchOptions {
  /** Reference sizes (minutes per benchmark) instead of the quick ones. */
  full: boolean;
  /** Which benchmarks to run, in suite order. Defaults to all. */
  only: BenchName[];
  /** Where result files go. Defaults to `<repo>/bench/results`. */
  outDir: string;
}

export const USAGE = `Usage: npm run bench -- [--full] [--only ${BENCHMARKS.join(',')}] [--out DIR]

Runs Meso's benchmarks at quick sizes (the whole suite in a few minutes on 2 cores), or
with --full at the reference sizes (10k agents, 100k tasks, the allocator at 20k × 2k).
Each writes DIR/<name>.json (default bench/results) and the suite prints one table.`;

/** Parses the command line; throws an Error naming the flag on bad input. */
export function parseBenchOptions(argv: readonly string[], defaultOutDir: string): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { full: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  let only: BenchName[] = [...BENCHMARKS];
  if (values.only !== undefined) {
    const names = values.only.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
    if (names.length === 0 || unknown.length > 0) throw new Error(`--only: unknown benchmark '${unknown.join(',') || values.only}' (one of ${BENCHMARKS.join(', ')})`);
    only = BENCHMARKS.filter((n) => names.includes(n));
  }
  if (values.out !== undefined && values.out.trim() === '') throw new Error('--out: expected a directory');
  return { full: values.full ?? false, only, outDir: values.out ?? defaultOutDir };
}
