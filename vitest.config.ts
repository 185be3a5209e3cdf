import { defineConfig } from 'vitest/config';

// Two projects: unit tests sit beside the code they test (pure logic, no I/O); end-to-end tests
// live under test/ and run every service as a real process against real PostgreSQL and NATS.
// Both import workspace packages from their built dist/, so `npm test` builds first.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'bench/src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
          // Each file starts its own mesh of six processes; on two cores, one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
