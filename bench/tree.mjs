// A node_modules-like tree (10,000 files in about 1,600 directories, sizes
// log-normal 0.5-50 KB, two files of a few MB): cowcopy cp() against
// fs.promises.cp, cp -a --reflink=auto, parallel JavaScript walks calling
// fs.promises.copyFile with and without COPYFILE_FICLONE, and the same walk
// with @reflink/reflink (pnpm's clone library), on every filesystem here.
// Beside them, cp() with one thread, and the floor (bench/floor.c): a
// minimal C copy of the same tree, with one thread and two.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cp } from '../dist/index.js';
import { generateWorkspace } from '../scripts/workspace.mjs';
import { runFloor, writeFloorList } from './floor.mjs';
import { formatMs, markdownTable, measure } from './harness.mjs';

const require = createRequire(import.meta.url);

/** The parallel JavaScript walk: every directory and file at once, libuv's pool does the rest. */
export async function parallelWalk(src, dest, copy) {
  await fs.promises.mkdir(dest);
  const entries = await fs.promises.readdir(src, { withFileTypes: true });
  await Promise.all(
    entries.map(async (e) => {
      const from = path.join(src, e.name);
      const to = path.join(dest, e.name);
      if (e.isDirectory()) return parallelWalk(from, to, copy);
      if (e.isSymbolicLink()) return fs.promises.symlink(await fs.promises.readlink(from), to);
      return copy(from, to);
    }),
  );
}

const ficlone = (from, to) => fs.promises.copyFile(from, to, fs.constants.COPYFILE_FICLONE);
const plainCopy = (from, to) => fs.promises.copyFile(from, to);

/** @reflink/reflink's async clone, where it can clone here (it has no fallback). */
function pnpmReflink(dir) {
  try {
    const { reflinkFile, reflinkFileSync } = require('@reflink/reflink');
    fs.writeFileSync(path.join(dir, 'probe'), 'probe');
    reflinkFileSync(path.join(dir, 'probe'), path.join(dir, 'probe-clone'));
    return reflinkFile;
  } catch {
    return null;
  }
}

/** `floor`: the binary from buildFloor(), or null. */
export async function tree(fsName, root, { rounds, files = 10000, floor = null }) {
  const dir = fs.mkdtempSync(path.join(root, 'cowcopy-bench-tree-'));
  try {
    const src = path.join(dir, 'src');
    const shape = generateWorkspace(src, { files });
    execFileSync('sync', ['-f', dir]);
    let counter = 0;
    const dests = new Map();
    const target = (tag, round) => {
      const d = path.join(dir, `${tag}-${round}-${counter++}`);
      dests.set(`${tag}-${round}`, d);
      return d;
    };
    // Removing a copy, and the filesystem's own work that follows, is not
    // timed and must not spill into the next run: remove, then flush.
    const settle = (tag) => (round) => {
      fs.rmSync(dests.get(`${tag}-${round}`), { recursive: true, force: true });
      execFileSync('sync', ['-f', dir]);
    };
    let strategies = '';
    const candidates = [
      {
        name: 'cowcopy cp()',
        run: async (r) => {
          const result = await cp(src, target('cowcopy', r), { recursive: true });
          strategies = Object.entries(result.strategies)
            .filter(([, n]) => n > 0)
            .map(([s, n]) => `${s} x${n}`)
            .join(', ');
        },
        after: settle('cowcopy'),
      },
      {
        name: 'cowcopy cp(), one thread',
        run: (r) => cp(src, target('cowcopy1', r), { recursive: true, concurrency: 1 }),
        after: settle('cowcopy1'),
      },
      {
        name: 'fs.promises.cp',
        run: (r) => fs.promises.cp(src, target('fs', r), { recursive: true }),
        after: settle('fs'),
      },
      {
        name: 'cp -a --reflink=auto',
        run: (r) => {
          const res = spawnSync('cp', ['-a', '--reflink=auto', src, target('cp', r)]);
          if (res.status !== 0) throw new Error(`cp -a failed: ${res.stderr}`);
        },
        after: settle('cp'),
      },
      {
        name: 'parallel JS walk, copyFile FICLONE',
        run: (r) => parallelWalk(src, target('walk', r), ficlone),
        after: settle('walk'),
      },
      {
        name: 'parallel JS walk, copyFile',
        run: (r) => parallelWalk(src, target('plain', r), plainCopy),
        after: settle('plain'),
      },
    ];
    const reflinkFile = pnpmReflink(dir);
    if (reflinkFile) {
      candidates.push({
        name: 'parallel JS walk, @reflink/reflink',
        run: (r) => parallelWalk(src, target('pnpm', r), reflinkFile),
        after: settle('pnpm'),
      });
    }
    if (floor) {
      const list = path.join(dir, 'floor-list');
      writeFloorList(src, list);
      for (const threads of [1, 2]) {
        candidates.push({
          name: `floor: minimal C copy, ${threads === 1 ? 'one thread' : `${threads} threads`}`,
          timesItself: true,
          run: (r) => runFloor(floor, list, src, target(`floor${threads}`, r), threads),
          after: settle(`floor${threads}`),
        });
      }
    }
    const results = await measure(candidates, rounds);
    const ours = results[0].median;
    const rows = [[`${shape.files} files, ${shape.dirs} dirs on ${fsName} (cowcopy: ${strategies})`, 'median', 'cowcopy is faster by']];
    for (const r of results) rows.push([r.name, formatMs(r.median), r === results[0] ? '' : `${(r.median / ours).toFixed(1)}x`]);
    if (!reflinkFile) rows.push(['parallel JS walk, @reflink/reflink: cannot clone here, has no fallback', 'n/a', '']);
    return {
      fsName,
      shape,
      medians: Object.fromEntries(results.map((r) => [r.name, r.median])),
      table: markdownTable(rows),
      ratios: Object.fromEntries(results.slice(1).map((r) => [r.name, r.median / ours])),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Copying over an existing identical copy (a workspace refreshed from its
 * template): each candidate has a destination of its own, made once by
 * cp -a, and copies over it every round, times kept (cp -a keeps them).
 */
export async function recopy(fsName, root, { rounds, files }) {
  const dir = fs.mkdtempSync(path.join(root, 'cowcopy-bench-recopy-'));
  try {
    const src = path.join(dir, 'src');
    const shape = generateWorkspace(src, { files });
    const over = (tag) => {
      const dest = path.join(dir, tag);
      execFileSync('cp', ['-a', '--reflink=auto', src, dest]);
      return dest;
    };
    const cpA = (dest, ...flags) => () => {
      const res = spawnSync('cp', ['-a', '--reflink=auto', ...flags, '-T', src, dest]);
      if (res.status !== 0) throw new Error(`cp -a failed: ${res.stderr}`);
    };
    const dests = { all: over('all'), older: over('older'), cp: over('cp'), cpU: over('cp-u') };
    execFileSync('sync', ['-f', dir]);
    const settle = () => execFileSync('sync', ['-f', dir]);
    const candidates = [
      { name: 'cowcopy cp()', run: () => cp(src, dests.all, { recursive: true, preserveTimestamps: true }), after: settle },
      { name: "cowcopy cp(), update: 'older'", run: () => cp(src, dests.older, { recursive: true, preserveTimestamps: true, update: 'older' }), after: settle },
      { name: 'cp -a --reflink=auto', run: cpA(dests.cp), after: settle },
      { name: 'cp -a -u --reflink=auto', run: cpA(dests.cpU, '-u'), after: settle },
    ];
    const results = await measure(candidates, rounds);
    const base = results[2].median;
    const rows = [[`${shape.files} files on ${fsName}, over an identical copy`, 'median', 'vs cp -a --reflink=auto']];
    for (const r of results) rows.push([r.name, formatMs(r.median), r === results[2] ? '' : `${(base / r.median).toFixed(2)}x as fast`]);
    return { fsName, shape, medians: Object.fromEntries(results.map((r) => [r.name, r.median])), table: markdownTable(rows) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS of a process that copies a tree of `files` files with cp(). */
export function peakRss(root, files) {
  const dir = fs.mkdtempSync(path.join(root, 'cowcopy-bench-rss-'));
  try {
    const src = path.join(dir, 'src');
    generateWorkspace(src, { files, largeFiles: [] });
    const script = `
      const { cp } = require(${JSON.stringify(path.resolve('dist/index.js'))});
      const before = process.resourceUsage().maxRSS;
      cp(${JSON.stringify(src)}, ${JSON.stringify(path.join(dir, 'dest'))}, { recursive: true }).then((r) => {
        console.log(JSON.stringify({ files: r.files, before, peak: process.resourceUsage().maxRSS }));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    return JSON.parse(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
