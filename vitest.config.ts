import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts a throwaway Ceph radosgw (or uses S3_ENDPOINT) and hands its address to the S3 suites.
    globalSetup: ['test/support/global-setup.ts'],
    // On Node 20 the AWS SDK warns that its releases after January 2027 need Node 22, once in every worker that loads
    // it (dozens per run). The global setup says it once instead; the engines decision is in CHANGELOG.md (0.2.0).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Real servers and multi-MiB bodies: generous, but a hung request still fails instead of stalling CI.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: radosgw needs one of them.
    maxWorkers: 2,
  },
});
