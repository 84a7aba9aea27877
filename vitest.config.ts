import { defineConfig } from 'vitest/config';

// Two projects: unit tests beside the code (no network beyond loopback sockets they open
// themselves) and e2e tests under test/ that share real control planes started once per run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '{protocol,certs,proxy-server,proxy-agent,hub,sandbox,bin}/**/*.test.ts',
            'test/docs/**/*.test.ts',
          ],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/{e2e,integration}/**/*.test.ts'],
          globalSetup: ['test/framework/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
