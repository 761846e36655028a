// npm run demo [-- --dir DIR] [--files N] [--rounds R]
//
// Generates a workspace of the shape test runners and package managers copy
// (many small source files, a few large ones), clones it with cowcopy and
// copies it with fs.promises.cp and cp -a, round after round in a new order
// each time, and prints the strategy cowcopy used and the medians.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { backend, cp, nativeLoadError, prepareTemplate, probe, removeTree, snapshot } from '../dist/index.js';
import { generateWorkspace } from './workspace.mjs';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: os.tmpdir() },
    files: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run demo [-- --dir DIR] [--files N] [--rounds R]');
  console.log('  DIR: where to generate the workspace (default: the OS temp dir); R rounds, medians reported');
  process.exit(0);
}

const base = fs.mkdtempSync(path.join(path.resolve(values.dir), 'cowcopy-demo-'));
const rounds = Math.max(1, Number(values.rounds));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** cp -a where there is one: GNU's with --reflink=auto (it clones where it can), BSD's as it is. */
function systemCp() {
  if (process.platform === 'win32') return null;
  const gnu = spawnSync('cp', ['--version'], { encoding: 'utf8' }).stdout?.includes('GNU');
  const args = gnu ? ['-a', '--reflink=auto'] : ['-a'];
  return { label: `cp ${args.join(' ')}`, run: (from, to) => spawnSync('cp', [...args, from, to]).status === 0 };
}

try {
  const workspace = path.join(base, 'workspace');
  const shape = generateWorkspace(workspace, { files: Number(values.files) });
  const volume = await probe(base);
  console.log(`cowcopy demo in ${base}`);
  console.log(`  filesystem: ${volume.filesystem}, reflink: ${volume.reflink ? 'yes' : 'no'}, backend: ${backend}${nativeLoadError ? ` (${nativeLoadError.message})` : ''}`);
  console.log(`  machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${os.type()} ${os.release()}, Node ${process.versions.node}`);
  console.log(`  workspace: ${shape.files} files in ${shape.dirs} directories, ${(shape.bytes / 1048576).toFixed(1)} MB; ${rounds} rounds, medians\n`);

  // Warm the page cache once so no side pays for cold reads.
  await fs.promises.cp(workspace, path.join(base, 'warmup'), { recursive: true });
  fs.rmSync(path.join(base, 'warmup'), { recursive: true });

  let result;
  const contenders = [
    { label: 'cowcopy cp()', run: async (from, to) => { result = await cp(from, to, { recursive: true }); } },
    { label: 'fs.promises.cp', run: (from, to) => fs.promises.cp(from, to, { recursive: true }) },
  ];
  const shell = systemCp();
  if (shell) contenders.push({ label: shell.label, run: async (from, to) => { if (!shell.run(from, to)) throw new Error(`${shell.label} failed`); } });
  const times = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    // A new order every round: no side always runs first, or after another.
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length;
      const to = path.join(base, `copy-${i}`);
      const start = process.hrtime.bigint();
      await contenders[i].run(workspace, to);
      times[i].push(Number(process.hrtime.bigint() - start) / 1e6);
      fs.rmSync(to, { recursive: true, force: true });
    }
  }

  const used = Object.entries(result.strategies)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} x${n}`)
    .join(', ');
  const ours = median(times[0]);
  for (let i = 0; i < contenders.length; i++) {
    const m = median(times[i]);
    const note = i === 0 ? `strategy: ${used}` : `${(m / ours).toFixed(1)}x cowcopy's time`;
    console.log(`  ${contenders[i].label.padEnd(22)} ${m.toFixed(0).padStart(6)} ms   ${note}`);
  }
  console.log(`  speedup over fs.promises.cp: ${(median(times[1]) / ours).toFixed(1)}x\n`);

  // A whole workspace at once, where the volume has a way: the template
  // made snapshot-able first (untimed), then snapshot() round after round.
  const template = await prepareTemplate(workspace);
  if (template.strategy === 'walk') {
    console.log(`  cowcopy snapshot()      walks here: ${template.reason}\n`);
  } else {
    const snaps = [];
    for (let round = 0; round < rounds; round++) {
      const to = path.join(base, `workspace-${round}`);
      const start = process.hrtime.bigint();
      const made = await snapshot(workspace, to);
      snaps.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (made.strategy === 'walk') throw new Error(`snapshot() walked: ${made.reason}`);
    }
    for (let round = 0; round < rounds; round++) await removeTree(path.join(base, `workspace-${round}`));
    const m = median(snaps);
    console.log(`  cowcopy snapshot() ${m.toFixed(1).padStart(10)} ms   strategy: ${template.strategy}, the whole tree at once (${(ours / m).toFixed(0)}x faster than cp())\n`);
  }

  if (!volume.reflink) {
    console.log(`This ${volume.filesystem} volume cannot clone, so cowcopy copied in the kernel.`);
    console.log('On a reflink-capable filesystem (btrfs, xfs with reflink=1, APFS, ReFS/Dev Drive) every file is');
    console.log('cloned in O(1): no data is copied and no space is used until a copy is written. Try:');
    console.log('  npm run demo -- --dir /path/on/btrfs-or-xfs');
  } else {
    console.log('Every cloned file shares its blocks with the original until one of them is written.');
  }
} finally {
  // The workspace may be a subvolume now: removeTree removes those too.
  await removeTree(base);
}
