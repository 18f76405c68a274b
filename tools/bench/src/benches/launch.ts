import type { Benchmark } from '../benchmark.js';
export const launchBenchmark: Benchmark = { name: 'launch', run: async () => { throw new Error('not yet'); } };
