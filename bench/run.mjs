// npm run bench [-- --quick] [-- --only=<section>] : every benchmark, on
// every filesystem here (xfs, btrfs, ext4, tmpfs), medians of interleaved
// rounds, ratios from the same run. Prints the tables and writes
// bench/results/latest.{md,svg} (not in quick mode, whose few rounds only
// check that everything runs, nor for some sections alone).
import os from 'node:os';
import path from 'node:path';
import { backend, nativeLoadError } from '../dist/index.js';
import { buildFloor } from './floor.mjs';
import { benchFilesystems, formatMs, markdownTable } from './harness.mjs';
import { writeResults } from './report.mjs';
import { singleFile } from './single-file.mjs';
import { linkGroups, peakRss, recopy, tree } from './tree.mjs';
import { workspaces } from './workspace.mjs';

const quick = process.argv.includes('--quick');
// --only=workspaces (or file, tree, recopy, links, rss; comma-separated):
// those sections alone, for working on one; the results are not written.
const SECTIONS = ['file', 'tree', 'recopy', 'workspaces', 'links', 'rss'];
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',') ?? null;
for (const name of only ?? []) if (!SECTIONS.includes(name)) throw new Error(`--only: no section ${name} (${SECTIONS.join(', ')})`);
const runs = (name) => only === null || only.includes(name);
const rounds = quick ? 5 : 31;
const treeRounds = quick ? 2 : 7;
const treeFiles = quick ? 2000 : 10000;
const linkFiles = quick ? 300 : 2000;
// Snapshots in every round; copying the template (seconds at 100,000 files) in fewer.
const workspaceRounds = quick ? 5 : 21;
const workspaceSizes = quick ? [{ files: 5000, copyRounds: 2 }] : [{ files: 5000, copyRounds: 7 }, { files: 100_000, copyRounds: 5 }];

const cpus = os.cpus();
const machine = `${cpus.length} x ${cpus[0]?.model.trim() ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
const header = `${date}; ${machine}; backend ${backend}${nativeLoadError ? ` (${nativeLoadError.message})` : ''}. Filesystems on loop-mounted images (scripts/mount-test-fs.sh). Candidates interleaved in a new order every round; medians of ${rounds} rounds (a file; 5x as many for the microsecond-scale calls where they clone) and ${treeRounds} rounds (a tree); ratios from this run.`;
console.log(`cowcopy benchmarks: ${header}\n`);

const verdict = (value, target, text) => `${text} ${value.toFixed(1)}x (target >= ${target}x): ${value >= target ? 'met' : 'NOT met'}`;
const sections = [];
const panels = [
  { title: 'One 10 MB file', names: [], groups: [] },
  { title: `A ${treeFiles.toLocaleString('en')}-file tree`, names: [], groups: [] },
];
const recopyPanel = { title: `Over an identical copy, ${treeFiles.toLocaleString('en')} files`, names: [], groups: [] };
const addGroup = (panel, name, medians) => {
  for (const n of Object.keys(medians)) if (!panel.names.includes(n)) panel.names.push(n);
  panel.groups.push({ name, bars: Object.entries(medians).map(([n, ms]) => ({ name: n, ms })) });
};

const filesystems = benchFilesystems();
// The seed research's table, measured here: time for one 10 MB file, and
// how many such copies a second that makes.
const seedRows = [['Filesystem', 'Operation', 'Time (10 MB)', 'Ops/sec']];
const seedRow = (fsName, operation, ms) => seedRows.push([fsName, operation, formatMs(ms), Math.round(1000 / ms).toLocaleString('en')]);
if (runs('file')) {
  for (const [fsName, dir] of filesystems) {
    const r = await singleFile(fsName, dir, { rounds });
    seedRow(fsName, `cowcopy clone (${r.strategy})`, r.latency['cowcopy cloneSync']);
    seedRow(fsName, 'fs.copyFileSync, no flag (libuv: copy_file_range)', r.latency['fs.copyFileSync']);
    seedRow(fsName, 'regular copy (read/write in JavaScript)', r.byteCopy);
    const verdicts = [];
    if (r.strategy === 'reflink') {
      verdicts.push(`${verdict(r.speedupVsBytes, 100, 'reflink vs byte copy')} (${r.speedupVsBytesCold.toFixed(0)}x with cold caches)`);
    }
    verdicts.push(`cowcopy / fs FICLONE ${r.overheadVsNode.toFixed(2)} (target <= 1.1): ${r.overheadVsNode <= 1.1 ? 'met' : 'NOT met'}`);
    const text = `${r.table}\n\n${verdicts.join('; ')}`;
    console.log(`${text}\n`);
    sections.push(text);
    addGroup(panels[0], `${fsName} (cowcopy: ${r.strategy})`, r.latency);
  }

  const seedTable = markdownTable(seedRows);
  console.log(`${seedTable}\n`);
  sections.unshift(seedTable);
}

if (runs('tree')) {
  const floor = buildFloor();
  if (floor.error) console.log(`No floor in the tree tables: ${floor.error}\n`);
  for (const [fsName, dir] of filesystems) {
    const r = await tree(fsName, dir, { rounds: treeRounds, files: treeFiles, floor: floor.binary ?? null });
    const reflink = fsName === 'xfs' || fsName === 'btrfs';
    const lines = reflink
      ? [
          verdict(r.ratios['fs.promises.cp'], 10, 'vs fs.promises.cp'),
          verdict(r.ratios['cp -a --reflink=auto'], 2, 'vs cp -a'),
          verdict(r.ratios['parallel JS walk, copyFile FICLONE'], 1.5, 'vs parallel JS walk'),
        ]
      : [verdict(r.ratios['fs.promises.cp'], 2, 'vs fs.promises.cp'), verdict(r.ratios['cp -a --reflink=auto'], 1, 'vs cp -a')];
    const floors = Object.keys(r.medians).filter((n) => n.startsWith('floor'));
    if (floors.length > 0) {
      // What the targets leave to the whole copy, against what a minimal C
      // copy took here.
      const best = Math.min(...floors.map((n) => r.medians[n]));
      const ours = r.medians['cowcopy cp()'];
      const allowed = reflink
        ? Math.min(r.medians['fs.promises.cp'] / 10, r.medians['cp -a --reflink=auto'] / 2)
        : Math.min(r.medians['fs.promises.cp'] / 2, r.medians['cp -a --reflink=auto']);
      lines.push(
        `floor (minimal C copy, best of one and two threads) ${formatMs(best)}, cowcopy ${(ours / best).toFixed(2)}x that; the targets allow ${formatMs(allowed)}${allowed < best ? ', less than the floor took' : ''}`,
      );
    }
    const text = `${r.table}\n\n${lines.join('; ')}`;
    console.log(`${text}\n`);
    sections.push(text);
    addGroup(panels[1], `${fsName}`, r.medians);
  }
}

// Over an existing identical copy, where the filesystem clones: the fast
// re-copy targets (cp() 1.2x as fast as cp -a over it, with update 5x).
if (runs('recopy')) {
  for (const [fsName, dir] of [...filesystems].filter(([name]) => name === 'xfs' || name === 'btrfs')) {
    for (const files of quick ? [2000] : [5000, 10000]) {
      const r = await recopy(fsName, dir, { rounds: treeRounds, files });
      const cpA = r.medians['cp -a --reflink=auto'];
      const text = `${r.table}\n\n${[
        verdict(cpA / r.medians['cowcopy cp()'], 1.2, 'cp() vs cp -a'),
        verdict(cpA / r.medians["cowcopy cp(), update: 'older'"], 5, "update: 'older' vs cp -a"),
      ].join('; ')}`;
      console.log(`${text}\n`);
      sections.push(text);
      if (files === (quick ? 2000 : 10000)) addGroup(recopyPanel, fsName, r.medians);
    }
  }
  if (recopyPanel.groups.length > 0) panels.push(recopyPanel);
}

// Workspaces (btrfs): a new one from a prepared template by snapshot(),
// against copying the template, at two sizes: the target is <= 5 ms at both.
if (!runs('workspaces')) {
  // not asked for (--only)
} else if (filesystems.has('btrfs')) {
  const snapshotFloor = buildFloor('floor-snapshot.c');
  if (snapshotFloor.error) console.log(`No floor in the workspace table: ${snapshotFloor.error}\n`);
  const r = await workspaces('btrfs', filesystems.get('btrfs'), { sizes: workspaceSizes, rounds: workspaceRounds, floor: snapshotFloor.binary ?? null, quick });
  const text = `${r.table}\n\n${r.lines.join('; ')}`;
  console.log(`${text}\n`);
  sections.push(text);
  panels.push({ title: 'A new workspace from a template (btrfs)', names: [], groups: [] });
  for (const g of r.groups) addGroup(panels.at(-1), g.name, g.medians);
} else {
  console.log('No btrfs here (COWCOPY_TEST_BTRFS): no workspace table.\n');
}

// Hard-link groups (a pnpm store, a git clone's objects) where nothing
// clones: preserve: ['links'] makes one inode per group, as cp -a does,
// where fs.cp and a plain cp() write each name's data again.
if (!runs('links')) {
  // not asked for (--only)
} else if (filesystems.has('ext4')) {
  const r = await linkGroups('ext4', filesystems.get('ext4'), { rounds: treeRounds, files: linkFiles });
  const links = "cowcopy cp(), preserve: ['links']";
  const text = `${r.table}\n\n${[
    `preserve links: ${(r.space[links] / r.space['cowcopy cp()']).toFixed(2)}x the space of cp() without it, ${(r.space[links] / r.space['cp -a']).toFixed(2)}x cp -a's`,
    `preserve: ['links'] ${(r.medians['cp -a'] / r.medians[links]).toFixed(2)}x as fast as cp -a`,
  ].join('; ')}`;
  console.log(`${text}\n`);
  sections.push(text);
  panels.push({ title: `${linkFiles.toLocaleString('en')} files of 3 names each (ext4)`, names: [], groups: [] });
  addGroup(panels.at(-1), 'time', r.medians);
} else {
  console.log('No ext4 here (COWCOPY_TEST_EXT4): no hard-link table.\n');
}

if (!quick && runs('rss')) {
  // RAM-backed where there is one: 100,000 files twice over want more inodes
  // than the small test images have, and RSS does not depend on the disk.
  const [fsName, dir] = filesystems.has('tmpfs') ? ['tmpfs', filesystems.get('tmpfs')] : ['the OS temp dir', os.tmpdir()];
  const rss = peakRss(dir, 100_000);
  const mb = (kb) => (kb / 1024).toFixed(0);
  const text = `Peak RSS of a process copying ${rss.files.toLocaleString('en')} files with cp() on ${fsName}: ${mb(rss.peak)} MB (${mb(rss.before)} MB before the copy; target < 150 MB): ${rss.peak < 150 * 1024 ? 'met' : 'NOT met'}`;
  console.log(text);
  sections.push(text);
}
if (!quick && only === null) {
  const written = writeResults(path.join(import.meta.dirname, 'results'), {
    header,
    sections,
    panels,
    caption: `cowcopy npm run bench, ${header.split(';')[0]}: ${machine}. Log scale; shorter is faster.`,
  });
  console.log(`\nwritten: ${path.relative(process.cwd(), written.markdown)}, ${path.relative(process.cwd(), written.svg)}`);
}
