import type { Benchmark } from '../benchmark.js';
export const stateBenchmark: Benchmark = { name: 'state', run: async () => { throw new Error('not yet'); } };
