// npm run test:asan: the native suites against the sanitized addon. Any
// AddressSanitizer or UndefinedBehaviorSanitizer report aborts the process
// that loaded it, which fails the suite.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const runtime = (lib) => execFileSync('gcc', [`-print-file-name=${lib}`], { encoding: 'utf8' }).trim();
const preload = [runtime('libasan.so'), runtime('libubsan.so')].join(':');

const suites = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['test/contract.test.ts', 'test/filesystems.test.ts', 'test/cp.test.ts', 'test/robustness.test.ts', 'test/preserve.test.ts', 'test/workspace.test.ts'];
const run = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...suites], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    COWCOPY_PREBUILD: path.join(root, 'build', 'asan'),
    COWCOPY_EXPECT_SANITIZED: '1',
    LD_PRELOAD: preload,
    // Node does not free everything at exit: leaks are measured by the
    // memory tests instead. Everything else aborts.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1:allow_user_segv_handler=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  },
});
process.exit(run.status ?? 1);
