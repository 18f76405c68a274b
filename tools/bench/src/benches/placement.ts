import type { Benchmark } from '../benchmark.js';
export const placementBenchmark: Benchmark = { name: 'placement', run: async () => { throw new Error('not yet'); } };
