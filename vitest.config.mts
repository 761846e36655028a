import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One process per file: the addon, its capability caches and the
    // fallback's are per process, and some suites change the environment.
    pool: 'forks',
    // Two files at once even on two cores (vitest's default there is one):
    // most of a file's time is waiting on disks, child processes and
    // compilers, and on a loaded machine (two CPU-bound loops and builds)
    // one file at a time took 3.7 times as long. Suites that share a filesystem's free space or fill
    // it take turns or measure again (test/helpers/filesystems.ts).
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    globalSetup: ['test/helpers/global-setup.ts'],
    // Deadlines for a hang, not measures: a test that passes in seconds alone
    // took over 4 minutes beside two CPU-bound loops and builds, and qemu (the
    // arm64 run) is slower still. A child process a test starts has
    // CHILD_HANG (test/helpers/files.ts), a minute less. Tests wait for what
    // they check with their own deadlines.
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
  },
});
