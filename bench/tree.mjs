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

/** A new destination in `dir` for each candidate (its tag) and round: target() names it, made() says which it was. */
function destinations(dir) {
  let counter = 0;
  const dests = new Map();
  return {
    target: (tag, round) => {
      const d = path.join(dir, `${tag}-${round}-${counter++}`);
      dests.set(`${tag}-${round}`, d);
      return d;
    },
    made: (tag, round) => dests.get(`${tag}-${round}`),
  };
}

/** `floor`: the binary from buildFloor(), or null. */
export async function tree(fsName, root, { rounds, files = 10000, floor = null }) {
  const dir = fs.mkdtempSync(path.join(root, 'cowcopy-bench-tree-'));
  try {
    const src = path.join(dir, 'src');
    const shape = generateWorkspace(src, { files });
    execFileSync('sync', ['-f', dir]);
    const { target, made } = destinations(dir);
    // Removing a copy, and the filesystem's own work that follows, is not
    // timed and must not spill into the next run: remove, then flush.
    const settle = (tag) => (round) => {
      fs.rmSync(made(tag, round), { recursive: true, force: true });
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

/**
 * A tree of hard-link groups, as a pnpm store and the projects linked to it,
 * or a local git clone's objects: `files` inodes of 64 KiB - 1 MiB
 * (log-normal, median 96 KiB), each with `links` names in three places
 * (store/xx/, a/pkg-n/, b/pkg-n/lib/). Sizes and data are deterministic.
 */
export function generateLinkGroups(root, { files, links = 3, seed = 7 }) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pool = Buffer.alloc(1 << 20);
  for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(next() * 256);
  const places = [
    (i) => path.join('store', (i % 256).toString(16).padStart(2, '0'), `${i.toString(16).padStart(8, '0')}-data`),
    (i) => path.join('a', `pkg-${i % 97}`, `file-${i}.js`),
    (i) => path.join('b', `pkg-${i % 89}`, 'lib', `file-${i}.js`),
  ];
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const z = Math.sqrt(-2 * Math.log(Math.max(next(), 1e-12))) * Math.cos(2 * Math.PI * next());
    const size = Math.round(Math.min(1 << 20, Math.max(64 << 10, (96 << 10) * Math.exp(0.6 * z))));
    const names = Array.from({ length: links }, (_, k) => path.join(root, places[k % places.length](i) + (k < places.length ? '' : `-${k}`)));
    for (const name of names) fs.mkdirSync(path.dirname(name), { recursive: true });
    const at = Math.floor(next() * (pool.length - size + 1));
    fs.writeFileSync(names[0], pool.subarray(at, at + size));
    for (const name of names.slice(1)) fs.linkSync(names[0], name);
    bytes += size;
  }
  return { files, links, names: files * links, bytes };
}

/** Space a tree takes, as du counts it: the blocks of each inode below (and of) dir, once. */
export function spaceOf(dir) {
  const seen = new Set();
  let blocks = 0;
  const count = (p) => {
    const st = fs.lstatSync(p, { bigint: true });
    const key = `${st.dev}:${st.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      blocks += Number(st.blocks);
    }
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) count(path.join(p, name));
  };
  count(dir);
  return blocks * 512;
}

/**
 * Copying a tree of hard-link groups (generateLinkGroups) on a filesystem
 * that cannot clone (ext4): the destination's space, each inode counted once
 * (a free-space delta would count whatever else writes to the test
 * filesystems meanwhile), and the time, for cp() with preserve: ['links']
 * against cp -a (which keeps links), fs.promises.cp and cp() without it
 * (which copy each name). Refuses to start where the copies would not fit.
 */
export async function linkGroups(fsName, root, { rounds, files }) {
  const dir = fs.mkdtempSync(path.join(root, 'cowcopy-bench-links-'));
  try {
    const src = path.join(dir, 'src');
    const shape = generateLinkGroups(src, { files });
    execFileSync('sync', ['-f', dir]);
    const source = spaceOf(src);
    // One destination at a time, the largest a copy of every name, and room to spare.
    const needed = source * shape.links * 1.2;
    const { bavail, bsize } = fs.statfsSync(dir);
    if (bavail * bsize < needed) {
      throw new Error(`${fsName} has ${Math.floor((bavail * bsize) / 2 ** 20)} MiB free; the hard-link benchmark needs ${Math.ceil(needed / 2 ** 20)} MiB`);
    }
    const { target, made } = destinations(dir);
    const space = {};
    // The space is measured once (every round makes the same tree), then the copy goes, untimed, and is flushed.
    const settle = (tag, name) => (round) => {
      const dest = made(tag, round);
      execFileSync('sync', ['-f', dir]);
      space[name] ??= spaceOf(dest);
      fs.rmSync(dest, { recursive: true, force: true });
      execFileSync('sync', ['-f', dir]);
    };
    const candidates = [
      ["cowcopy cp(), preserve: ['links']", 'links', (dest) => cp(src, dest, { recursive: true, preserve: ['links'] })],
      ['cp -a', 'cp', (dest) => {
        const res = spawnSync('cp', ['-a', src, dest]);
        if (res.status !== 0) throw new Error(`cp -a failed: ${res.stderr}`);
      }],
      ['fs.promises.cp', 'fs', (dest) => fs.promises.cp(src, dest, { recursive: true })],
      ['cowcopy cp()', 'plain', (dest) => cp(src, dest, { recursive: true })],
    ].map(([name, tag, copy]) => ({ name, run: (r) => copy(target(tag, r)), after: settle(tag, name) }));
    const results = await measure(candidates, rounds);
    const base = results[1].median;
    const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const rows = [
      [
        `${shape.files.toLocaleString('en')} files x ${shape.links} links (${shape.names.toLocaleString('en')} names, ${mib(source)}) on ${fsName}`,
        'median',
        'vs cp -a',
        'destination space',
        'vs the source',
      ],
    ];
    for (const r of results) {
      const vs = r === results[1] ? '' : `${(base / r.median).toFixed(2)}x as fast`;
      rows.push([r.name, formatMs(r.median), vs, mib(space[r.name]), `${(space[r.name] / source).toFixed(2)}x`]);
    }
    return {
      fsName,
      shape,
      source,
      space,
      medians: Object.fromEntries(results.map((r) => [r.name, r.median])),
      table: markdownTable(rows),
    };
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
