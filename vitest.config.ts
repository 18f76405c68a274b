import { defineConfig } from 'vitest/config';

// Two layers run by `npm test`:
// - unit: pure logic and in-process tests next to the code (packages/*/src/**/*.test.ts);
// - integration: real processes on loopback (packages/*/test/**/*.test.ts), one file at a
//   time because they start masters, agents and executors on a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
