import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { completeFigure, machineInfo, meets, writeResult, type BenchResult } from './result.js';
import { formatTable } from './table.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function result(partial: Partial<BenchResult> = {}): BenchResult {
  return { name: 'allocator', mode: 'quick', parameters: { agents: 1000 }, figures: [], notes: [], machine: machineInfo(), commit: 'abc', time: '2026-01-01T00:00:00.000Z', ...partial };
}

describe('figures', () => {
  it('carry the ratio to their reference and whether the target is met', () => {
    expect(completeFigure({ name: 'cycle', value: 27, unit: 'ms', reference: { value: 1100, source: 'Mesos 1.8' }, target: { op: '<', value: 100 } })).toMatchObject({
      ratio: 0.0245,
      met: true,
    });
    expect(completeFigure({ name: 'rate', value: 444, unit: 'tasks/s', target: { op: '>=', value: 10_000 } })).toMatchObject({ met: false });
    expect(completeFigure({ name: 'plain', value: 1, unit: 'MB' })).toEqual({ name: 'plain', value: 1, unit: 'MB' });
  });

  it.each([
    [99.9, '<', 100, true],
    [100, '<', 100, false],
    [10_000, '>=', 10_000, true],
    [9_999, '>=', 10_000, false],
  ] as const)('%d %s %d is %s', (value, op, target, expected) => expect(meets(value, { op, value: target })).toBe(expected));
});

describe('writeResult', () => {
  it('writes <dir>/<name>.json, creating the directory, with every field', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'meso-bench-test-')), 'nested', 'results');
    dirs.push(join(dir, '..', '..'));
    const r = result({ figures: [completeFigure({ name: 'cycle', value: 27, unit: 'ms', reference: { value: 1100, source: 'Mesos 1.8' } })] });
    const path = writeResult(dir, r);
    expect(path).toBe(join(dir, 'allocator.json'));
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(r)));
  });
});

describe('formatTable', () => {
  it('prints one row per figure with reference, ratio, target and verdict', () => {
    const table = formatTable([
      result({
        figures: [
          completeFigure({ name: 'cycle', value: 27.3, unit: 'ms', reference: { value: 1100, source: 'Mesos 1.8' }, target: { op: '<', value: 100 } }),
          completeFigure({ name: 'rate', value: 12345, unit: 'tasks/s', target: { op: '>=', value: 20000 } }),
        ],
      }),
    ]).split('\n');
    expect(table).toHaveLength(4);
    expect(table[0]).toMatch(/^\| benchmark +\| figure +\| value +\| reference +\| ratio +\| target +\| met +\|$/);
    expect(table[2]).toMatch(/\| allocator \| cycle +\| 27\.3 ms +\| 1,100 ms \(Mesos 1\.8\) \| 0\.0248× \| < 100 ms +\| yes \|/);
    expect(table[3]).toMatch(/\| 12,350 tasks\/s .*\| >= 20,000 tasks\/s \| NO +\|/);
  });
});
