// One 10 MB file, on every filesystem available: cowcopy against Node's own
// copyFile (with and without FICLONE), @reflink/reflink, fs.promises.cp,
// cp -a --reflink=auto and a user-space byte copy.
//
// Two phases in one run. The in-process calls that take microseconds where
// they clone, interleaved over many rounds: cowcopy's overhead against
// Node's own FICLONE call is read there. Then what moves the CPU's caches
// and the process around (a byte copy of 10 MB, fs.promises.cp, a child
// process), each interleaved with cowcopy again: a clone that runs right
// after 10 MB went through the CPU finds cold caches and takes several times
// longer on this kind of machine (measured: 33 us alone, 240 us after a
// 20 MB memcpy), so that phase reports its own cowcopy median beside them.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cloneSync, copyFileSync as cowCopyFileSync } from '../dist/index.js';
import { flush, formatMs, markdownTable, measure } from './harness.mjs';

const SIZE = 10 * 1024 * 1024;
const require = createRequire(import.meta.url);

/** pnpm's clone library, where it can clone here (it has no fallback of its own). */
function pnpmReflink(src, probe) {
  try {
    const { reflinkFileSync } = require('@reflink/reflink');
    reflinkFileSync(src, probe);
    return reflinkFileSync;
  } catch {
    return null;
  }
}

function byteCopy(src, dest) {
  const input = fs.openSync(src, 'r');
  const output = fs.openSync(dest, 'w');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let n;
  let position = 0;
  while ((n = fs.readSync(input, buffer, 0, buffer.length, position)) > 0) {
    fs.writeSync(output, buffer, 0, n, position);
    position += n;
  }
  fs.closeSync(input);
  fs.closeSync(output);
}

export async function singleFile(fsName, root, { rounds }) {
  const dir = fs.mkdtempSync(path.join(root, 'cowcopy-bench-'));
  try {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, randomBytes(SIZE));
    flush(src);
    const strategy = cloneSync(src, path.join(dir, 'probe')).strategy;
    const cloned = strategy === 'reflink';
    // Every run writes a new name. Clones stay until the end (no unlink,
    // and the filesystem's background work it starts, near a timed run).
    // Copies that wrote data are flushed (and, in the many rounds of the
    // first phase, removed) untimed: their dirty pages must not slow
    // whoever runs next, nor fill the filesystem.
    const dest = (tag, round) => path.join(dir, `${tag}-${round}`);
    const settle = (tag, { remove }) =>
      cloned && tag !== 'bytes'
        ? undefined
        : (round) => {
            flush(dest(tag, round));
            if (remove) fs.rmSync(dest(tag, round));
          };
    const light = (tag, run) => ({ run: (r) => run(dest(tag, r)), after: settle(tag, { remove: true }) });

    const reflinkFileSync = pnpmReflink(src, path.join(dir, 'probe-pnpm'));
    const calls = [
      { name: 'cowcopy cloneSync', ...light('a', (d) => cloneSync(src, d)) },
      { name: 'cowcopy copyFileSync', ...light('b', (d) => cowCopyFileSync(src, d)) },
      { name: 'fs.copyFileSync FICLONE', ...light('c', (d) => fs.copyFileSync(src, d, fs.constants.COPYFILE_FICLONE)) },
      { name: 'fs.copyFileSync', ...light('d', (d) => fs.copyFileSync(src, d)) },
    ];
    if (reflinkFileSync) calls.push({ name: '@reflink/reflink', ...light('e', (d) => reflinkFileSync(src, d)) });
    const latency = await measure(calls, cloned ? rounds * 5 : rounds);

    const heavy = await measure(
      [
        { name: 'cowcopy cloneSync', run: (r) => cloneSync(src, dest('f', r)), after: settle('f', { remove: false }) },
        { name: 'user-space byte copy', run: (r) => byteCopy(src, dest('bytes', r)), after: settle('bytes', { remove: false }) },
        { name: 'fs.promises.cp', run: (r) => fs.promises.cp(src, dest('g', r)), after: settle('g', { remove: false }) },
        {
          name: 'cp -a --reflink=auto (a process)',
          run: (r) => spawnSync('cp', ['-a', '--reflink=auto', src, dest('h', r)]),
          after: settle('h', { remove: false }),
        },
      ],
      rounds,
    );

    const byName = (list, name) => list.find((r) => r.name === name).median;
    const node = byName(latency, 'fs.copyFileSync FICLONE');
    const ours = byName(latency, 'cowcopy cloneSync');
    const oursCold = byName(heavy, 'cowcopy cloneSync');
    const bytes = byName(heavy, 'user-space byte copy');

    const first = [[`10 MB file on ${fsName} (cowcopy: ${strategy})`, 'median', 'vs fs.copyFileSync FICLONE']];
    for (const r of latency) first.push([r.name, formatMs(r.median), `${(r.median / node).toFixed(2)}x`]);
    if (!reflinkFileSync) first.push(['@reflink/reflink: cannot clone here, has no fallback', 'n/a', '']);
    const second = [[`beside the heavier ones`, 'median', 'cowcopy is faster by']];
    for (const r of heavy) second.push([r.name, formatMs(r.median), r.name.startsWith('cowcopy') ? '' : `${(r.median / oursCold).toFixed(1)}x`]);
    return {
      fsName,
      strategy,
      latency: Object.fromEntries([...latency, ...heavy.slice(1)].map((r) => [r.name, r.median])),
      byteCopy: bytes,
      table: `${markdownTable(first)}\n\n${markdownTable(second)}`,
      overheadVsNode: ours / node,
      speedupVsBytes: bytes / ours,
      speedupVsBytesCold: bytes / oursCold,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
