// Says once, before any test, which real filesystems the suites will use.
import { filesystems, requireFs } from './filesystems.js';

export default function setup(): void {
  const lines = Object.values(filesystems).map((f) =>
    f.root !== null ? `  ${f.name}: ${f.root}` : `  ${f.name}: ${requireFs ? 'MISSING (COWCOPY_REQUIRE_FS=1: its suites fail)' : `skipped - ${f.reason}`}`,
  );
  console.log(`cowcopy test filesystems:\n${lines.join('\n')}`);
}
