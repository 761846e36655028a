import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One process per file: the addon, its capability caches and the
    // fallback's are per process, and some suites change the environment.
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    // Caps, not targets: sized for qemu (the arm64 run) and a loaded machine
    // with a slow disk, where a cleanup of big trees takes minutes. Tests
    // wait for what they check with their own deadlines.
    testTimeout: 240_000,
    hookTimeout: 300_000,
  },
});
