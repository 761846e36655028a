// Says once, before any test, which real filesystems the suites will use;
// with COWCOPY_MOUNT=1 (as root) mounts them first, with the mount script.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { locateAll, requireFs } from './filesystems.js';

const script = path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..', 'scripts', 'mount-test-fs.sh');

/** The mount script's `export NAME=VALUE` lines, into this process's environment (the test processes inherit it). */
function mount(): void {
  const r = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`COWCOPY_MOUNT=1: ${script} failed (${r.status ?? r.signal})`);
  for (const line of r.stdout.split('\n')) {
    const m = /^export (COWCOPY_TEST_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) process.env[m[1]!] = m[2];
  }
}

export default function setup(): void {
  if (process.env.COWCOPY_MOUNT === '1') mount();
  const found = locateAll();
  const lines = Object.values(found).map((f) =>
    f.root !== null ? `  ${f.name}: ${f.root}` : `  ${f.name}: ${requireFs ? 'MISSING (COWCOPY_REQUIRE_FS=1: its suites fail)' : `skipped - ${f.reason}`}`,
  );
  const missing = Object.values(found).some((f) => f.root === null);
  const offer = missing && process.getuid?.() === 0 ? '\n  (as root: COWCOPY_MOUNT=1 npm test mounts them first, with scripts/mount-test-fs.sh)' : '';
  console.log(`cowcopy test filesystems:\n${lines.join('\n')}${offer}`);
}
