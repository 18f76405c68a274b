import { describe, expect, it } from 'vitest';
import { BENCHMARKS, parseBenchOptions } from './options.js';

describe('npm run bench options', () => {
  it('runs every benchmark quickly by default', () => {
    expect(parseBenchOptions([], '/out')).toEqual({ full: false, only: [...BENCHMARKS], outDir: '/out' });
  });

  it('takes --full, --only (in suite order) and --out', () => {
    expect(parseBenchOptions(['--full', '--only', 'state,allocator', '--out', '/tmp/r'], '/out')).toEqual({ full: true, only: ['allocator', 'state'], outDir: '/tmp/r' });
    expect(parseBenchOptions(['--help'], '/out')).toBe('help');
  });

  it.each([
    [['--only', 'nope'], /--only: unknown benchmark 'nope'/],
    [['--only', ''], /--only/],
    [['--fast'], /fast/],
    [['--out', ' '], /--out/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseBenchOptions(argv, '/out')).toThrow(message);
  });
});
