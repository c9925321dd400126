import { defineConfig } from 'vitest/config';

// Three projects: `unit` needs nothing running; `integration` shares one real Temporal dev server and
// one real MinIO, started once per run by test/setup/global-stack.ts; `vm-quick` runs one real ZTS test
// in a restored clone when a golden is cached here, after the other two (groupOrder), alone, so the
// emulated guest slows no timing-sensitive test. The other real-VM tests need ZFSLAB_SLOW=1 (README).
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
      { extends: true, test: { name: 'vm-quick', include: ['test/vm-quick/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
