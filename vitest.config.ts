import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running; `integration` shares one real Temporal dev server and
// one real MinIO, started once per run by test/setup/global-stack.ts. Real-VM tests also need
// ZFSLAB_SLOW=1 (see README).
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/global-stack.ts'],
        },
      },
    ],
  },
});
