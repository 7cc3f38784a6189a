import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'protocol/test/**/*.test.ts', 'node/test/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          // Integration tests start daemons and write to disk; run their files one at a time
          // so that two cores are not oversubscribed.
          fileParallelism: false,
        },
      },
    ],
  },
});
