// One 10 MB file: cowcopy against Node's own FICLONE call and a user-space
// byte copy, on every filesystem available.
//
// Two phases in one run. Latency against Node: the three calls interleaved,
// many rounds (a clone takes tens of microseconds; the median needs them).
// Then the byte copy, interleaved with cowcopy again: a clone that runs right
// after 10 MB went through the CPU finds cold caches and takes several times
// longer on this kind of machine (measured: 33 us alone, 240 us after a 20 MB
// memcpy), so that row is reported too, and the speedup both ways.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cloneSync, copyFileSync as cowCopyFileSync } from '../dist/index.js';

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
import { flush, formatMs, markdownTable, measure } from './harness.mjs';

const SIZE = 10 * 1024 * 1024;

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
    // Every run writes a new name. Clones stay until the end (no unlink, and
    // the filesystem's background work it starts, near a timed run). In the
    // latency phase, copies that wrote data are flushed and removed untimed
    // (its many rounds would fill the filesystem). The byte-copy phase keeps
    // them in the page cache: what a byte copy costs a caller, with no
    // writeback or log flush of ours disturbing the clones beside it.
    const dest = (tag, round) => path.join(dir, `${tag}-${round}`);
    const settle = (tag) =>
      cloned
        ? undefined
        : (round) => {
            flush(dest(tag, round));
            fs.rmSync(dest(tag, round));
          };
    const reflinkFileSync = pnpmReflink(src, path.join(dir, 'probe-pnpm'));
    const candidates = [
      { name: 'cowcopy cloneSync', run: (r) => cloneSync(src, dest('a', r)), after: settle('a') },
      { name: 'cowcopy copyFileSync', run: (r) => cowCopyFileSync(src, dest('b', r)), after: settle('b') },
      {
        name: 'fs.copyFileSync FICLONE',
        run: (r) => fs.copyFileSync(src, dest('c', r), fs.constants.COPYFILE_FICLONE),
        after: settle('c'),
      },
      { name: 'fs.copyFileSync', run: (r) => fs.copyFileSync(src, dest('f', r)), after: settle('f') },
      { name: 'fs.promises.cp', run: (r) => fs.promises.cp(src, dest('g', r)), after: settle('g') },
      {
        name: 'cp -a --reflink=auto (a process)',
        run: (r) => spawnSync('cp', ['-a', '--reflink=auto', src, dest('h', r)]),
        after: settle('h'),
      },
    ];
    if (reflinkFileSync) {
      candidates.push({ name: '@reflink/reflink', run: (r) => reflinkFileSync(src, dest('i', r)), after: settle('i') });
    }
    const latency = await measure(candidates, cloned ? rounds * 5 : rounds);
    const [vsBytes, bytes] = await measure(
      [
        { name: 'cowcopy cloneSync', run: (r) => cloneSync(src, dest('e', r)) },
        { name: 'user-space byte copy', run: (r) => byteCopy(src, dest('d', r)) },
      ],
      rounds,
    );

    const node = latency[2].median;
    const missing = reflinkFileSync ? [] : ['@reflink/reflink'];
    const rows = [[`10 MB file on ${fsName} (cowcopy: ${strategy})`, 'median', 'vs fs FICLONE', 'speedup vs byte copy']];
    for (const r of latency) {
      rows.push([r.name, formatMs(r.median), `${(r.median / node).toFixed(2)}x`, `${(bytes.median / r.median).toFixed(1)}x`]);
    }
    rows.push([bytes.name, formatMs(bytes.median), `${(bytes.median / node).toFixed(2)}x`, '1.0x']);
    rows.push([
      'cowcopy cloneSync, each right after a byte copy',
      formatMs(vsBytes.median),
      `${(vsBytes.median / node).toFixed(2)}x`,
      `${(bytes.median / vsBytes.median).toFixed(1)}x`,
    ]);
    for (const name of missing) rows.push([`${name}: cannot clone here, has no fallback`, 'n/a', '', '']);
    return {
      fsName,
      strategy,
      latency: Object.fromEntries(latency.map((r) => [r.name, r.median])),
      byteCopy: bytes.median,
      table: markdownTable(rows),
      overheadVsNode: latency[0].median / node,
      speedupVsBytes: bytes.median / latency[0].median,
      speedupVsBytesCold: bytes.median / vsBytes.median,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
