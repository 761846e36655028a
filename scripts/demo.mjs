// npm run demo [-- --dir DIR] [--files N]
//
// Generates a workspace of the shape test runners and package managers copy
// (many small source files, a few large ones), clones it with cowcopy and
// copies it with node:fs, and prints the strategy cowcopy used and the speedup.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { backend, cp, nativeLoadError, probe } from '../dist/index.js';
import { generateWorkspace } from './workspace.mjs';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: os.tmpdir() },
    files: { type: 'string', default: '2000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run demo [-- --dir DIR] [--files N]\n  DIR: where to generate the workspace (default: the OS temp dir)');
  process.exit(0);
}

const base = fs.mkdtempSync(path.join(path.resolve(values.dir), 'cowcopy-demo-'));
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

try {
  const workspace = path.join(base, 'workspace');
  const shape = generateWorkspace(workspace, { files: Number(values.files) });
  const volume = await probe(base);
  console.log(`cowcopy demo in ${base}`);
  console.log(`  filesystem: ${volume.filesystem}, reflink: ${volume.reflink ? 'yes' : 'no'}, backend: ${backend}${nativeLoadError ? ` (${nativeLoadError.message})` : ''}`);
  console.log(`  workspace: ${shape.files} files in ${shape.dirs} directories, ${(shape.bytes / 1048576).toFixed(1)} MB\n`);

  // Warm the page cache once so neither side pays for cold reads.
  await fs.promises.cp(workspace, path.join(base, 'warmup'), { recursive: true });
  fs.rmSync(path.join(base, 'warmup'), { recursive: true });

  let start = process.hrtime.bigint();
  const result = await cp(workspace, path.join(base, 'cowcopy'), { recursive: true });
  const cowcopyMs = ms(start);

  start = process.hrtime.bigint();
  await fs.promises.cp(workspace, path.join(base, 'fs-cp'), { recursive: true });
  const nodeMs = ms(start);

  const used = Object.entries(result.strategies)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} x${n}`)
    .join(', ');
  console.log(`  cowcopy cp():       ${cowcopyMs.toFixed(0).padStart(6)} ms   strategy: ${used}`);
  console.log(`  fs.promises.cp:     ${nodeMs.toFixed(0).padStart(6)} ms`);
  console.log(`  speedup:            ${(nodeMs / cowcopyMs).toFixed(1)}x\n`);

  if (!volume.reflink) {
    console.log(`This ${volume.filesystem} volume cannot clone, so cowcopy copied in the kernel.`);
    console.log('On a reflink-capable filesystem (btrfs, xfs with reflink=1, APFS, ReFS/Dev Drive) every file is');
    console.log('cloned in O(1): no data is copied and no space is used until a copy is written. Try:');
    console.log('  npm run demo -- --dir /path/on/btrfs-or-xfs');
  } else {
    console.log('Every cloned file shares its blocks with the original until one of them is written.');
  }
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
