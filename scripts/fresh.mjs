// What the cross-platform test scripts need built before they run, built
// again only when its sources are newer.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTarget, prebuildPath } from './prebuild.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The newest modification time of the files below dir. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/** The prebuild for target (a TARGETS id), built again when native/ or binding.gyp is newer; problems as buildTarget gives them. */
export function freshPrebuild(target) {
  const file = prebuildPath(target);
  const sources = Math.max(newestMtime(path.join(root, 'native')), fs.statSync(path.join(root, 'binding.gyp')).mtimeMs);
  const stale = !fs.existsSync(file) || fs.statSync(file).mtimeMs < sources;
  return { file, problems: stale ? buildTarget(target) : [] };
}

/** dist/ as `npm run build:ts` makes it, compiled again when lib/ is newer. False when tsc failed. */
export function freshDist() {
  const index = path.join(root, 'dist', 'index.js');
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= newestMtime(path.join(root, 'lib'))) return true;
  console.log('$ tsc -p tsconfig.json');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  return spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' }).status === 0;
}
