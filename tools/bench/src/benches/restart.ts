import type { Benchmark } from '../benchmark.js';
export const restartBenchmark: Benchmark = { name: 'restart', run: async () => { throw new Error('not yet'); } };
