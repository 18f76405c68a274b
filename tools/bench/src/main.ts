#!/usr/bin/env node
/**
 * `npm run bench [-- --full] [--only NAMES] [--out DIR]`: runs Meso's benchmarks, writes
 * one JSON file per benchmark and prints one table of figures beside published references
 * and targets. Never part of the test suite. See README.md.
 */
import { fileURLToPath } from 'node:url';
import type { Benchmark } from './benchmark.js';
import { allocatorBenchmark } from './benches/allocator.js';
import { launchBenchmark } from './benches/launch.js';
import { memoryBenchmark } from './benches/memory.js';
import { placementBenchmark } from './benches/placement.js';
import { restartBenchmark } from './benches/restart.js';
import { stateBenchmark } from './benches/state.js';
import { USAGE, parseBenchOptions, type BenchName } from './options.js';
import { completeFigure, gitCommit, machineInfo, writeResult, type BenchResult } from './result.js';
import { formatTable } from './table.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SUITE: Record<BenchName, Benchmark> = {
  allocator: allocatorBenchmark,
  placement: placementBenchmark,
  launch: launchBenchmark,
  restart: restartBenchmark,
  state: stateBenchmark,
  memory: memoryBenchmark,
};

const started = Date.now();
function log(line: string): void {
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseBenchOptions(process.argv.slice(2), `${ROOT}bench/results`);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const machine = machineInfo();
  const commit = gitCommit(ROOT);
  log(`${options.full ? 'full' : 'quick'} run of ${options.only.join(', ')} on ${machine.cores} × ${machine.cpuModel}, ${machine.memMB} MB, node ${machine.node}, commit ${commit}`);
  const results: BenchResult[] = [];
  let failed = 0;
  for (const name of options.only) {
    const bench = SUITE[name];
    log(`${name}: starting`);
    try {
      const outcome = await bench.run({ full: options.full, log });
      const result: BenchResult = {
        name,
        mode: options.full ? 'full' : 'quick',
        parameters: outcome.parameters,
        figures: outcome.figures.map(completeFigure),
        notes: outcome.notes,
        machine,
        commit,
        time: new Date().toISOString(),
      };
      results.push(result);
      log(`${name}: wrote ${writeResult(options.outDir, result)}`);
    } catch (e) {
      failed++;
      log(`${name}: FAILED: ${(e as Error).stack ?? String(e)}`);
    }
  }
  console.log(`\n${formatTable(results)}\n`);
  log(`done: ${results.length} benchmarks written to ${options.outDir}${failed ? `, ${failed} failed` : ''}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
