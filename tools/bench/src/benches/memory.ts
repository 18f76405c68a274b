import type { Benchmark } from '../benchmark.js';
export const memoryBenchmark: Benchmark = { name: 'memory', run: async () => { throw new Error('not yet'); } };
