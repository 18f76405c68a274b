import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { round } from './stats.js';

/** A published figure to compare with. */
export interface Reference {
  value: number;
  /** Where it comes from, e.g. 'Mesos 1.8 allocator benchmark'. */
  source: string;
}

/** What a figure should reach: `value` or less (`'<'`), or `value` or more (`'>='`). */
export interface Target {
  op: '<' | '>=';
  value: number;
}

/** One measured figure as a benchmark reports it. */
export interface FigureInput {
  name: string;
  value: number;
  unit: string;
  reference?: Reference;
  target?: Target;
}

/** One figure as written: with the ratio to its reference and whether the target is met. */
export interface Figure extends FigureInput {
  /** value ÷ reference.value (below 1 is better for times, above 1 for rates). */
  ratio?: number;
  met?: boolean;
}

/** The machine a result was measured on. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memMB: number;
  node: string;
}

/** The content of `bench/results/<name>.json`. */
export interface BenchResult {
  name: string;
  mode: 'quick' | 'full';
  parameters: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
  machine: Machine;
  commit: string;
  /** ISO 8601, when the benchmark finished. */
  time: string;
}

/** Whether `value` meets `target`. */
export function meets(value: number, target: Target): boolean {
  return target.op === '<' ? value < target.value : value >= target.value;
}

/** A figure with its ratio to the reference and the verdict on its target. */
export function completeFigure(f: FigureInput): Figure {
  const out: Figure = { ...f, value: round(f.value, 4) };
  if (f.reference && f.reference.value !== 0) out.ratio = round(f.value / f.reference.value, 3);
  if (f.target) out.met = meets(f.value, f.target);
  return out;
}

export function machineInfo(): Machine {
  const list = cpus();
  return { cpuModel: list[0]?.model.trim() ?? 'unknown', cores: list.length, memMB: Math.round(totalmem() / 2 ** 20), node: process.version };
}

/** The checked-out commit (with `-dirty` when the tree has changes), or 'unknown'. */
export function gitCommit(cwd: string): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** Writes `<dir>/<name>.json` (creating `dir`) and returns its path. */
export function writeResult(dir: string, result: BenchResult): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.name}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
