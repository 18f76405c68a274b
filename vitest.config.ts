import { defineConfig } from 'vitest/config';

// Three layers run by `npm test`:
// - unit: pure logic and in-process tests next to the code (packages/*/src/**/*.test.ts, and
//   tools/*/src/**/*.test.ts for the tools' pure helpers);
// - integration: real processes on loopback (packages/*/test/**/*.test.ts), one file at a
//   time because they start masters, agents and executors on a 2-core machine;
// - containers: the whole cluster in containers (packages/integration-tests), one cluster
//   started by its global setup and shared by the scenarios, which run in order in one file.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/integration-tests/**', '**/node_modules/**'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'containers',
          include: ['packages/integration-tests/test/**/*.test.ts'],
          globalSetup: ['packages/integration-tests/test/global-setup.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
