import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts a throwaway Ceph radosgw (or uses S3_ENDPOINT) and hands its address to the S3 suites.
    globalSetup: ['test/support/global-setup.ts'],
    // Real servers and multi-MiB bodies: generous, but a hung request still fails instead of stalling CI.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: radosgw needs one of them.
    maxWorkers: 2,
  },
});
