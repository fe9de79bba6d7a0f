import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './test/summary-reporter.js';

export default defineConfig({
  test: {
    reporters: ['default', new SummaryReporter()],
    projects: [
      // Unit tests first, then the end-to-end tests (which spawn the packed CLI) with their own worker limit.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          // A keyring of its own for each file (why: the file's comment); the file's test certificates removed after it.
          setupFiles: ['test/e2e/keyring-per-file.ts', 'test/e2e/tls-per-file.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Spawned processes are CPU-bound on a 2-core machine: two files at a time.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
