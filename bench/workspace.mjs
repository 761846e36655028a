// Workspaces on btrfs: node_modules-like templates (scripts/workspace.mjs)
// made subvolumes by prepareTemplate(), then a new workspace from each by
// snapshot() and snapshotSync() (one BTRFS_IOC_SNAP_CREATE_V2), against
// copying the template with cp() and cp -a --reflink=auto, and the floor
// (bench/floor-snapshot.c: open, open, the ioctl). Every size in one run,
// interleaved, so the snapshot's medians at two sizes compare.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cp, prepareTemplateSync, removeTreeSync, snapshot, snapshotSync } from '../dist/index.js';
import { generateWorkspace } from '../scripts/workspace.mjs';
import { runSnapshotFloor } from './floor.mjs';
import { formatMs, markdownTable, measure } from './harness.mjs';

// The data a template writes (100,000 files wrote 590 MiB, two large files
// of 10 MiB among them); copies clone it. btrfs's statfs counts the room for
// data: metadata (at 100,000 files 310 MiB a template, 200 MiB a copy) goes
// into chunks of its own, often already allocated, that it does not count.
const templateBytes = (files) => files * 6.5 * 1024 + (10 << 20);

const SNAPSHOT = 'cowcopy snapshot()';
const SNAPSHOT_SYNC = 'cowcopy snapshotSync()';
const FLOOR = 'floor: the snapshot ioctl alone (C)';
const CP = 'cowcopy cp()';
const CP_A = 'cp -a --reflink=auto';

/** A subvolume's id, for `btrfs subvolume sync`; null without btrfs-progs. */
function subvolumeId(dir) {
  const res = spawnSync('btrfs', ['inspect-internal', 'rootid', dir], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : null;
}

/**
 * sizes: [{ files, copyRounds }]: a template of each size; snapshots run in
 * every one of `rounds`, the copies (seconds at 100,000 files) in copyRounds
 * of them, spread over the run. `floor`: floor-snapshot's binary, or null.
 */
export async function workspaces(fsName, root, { sizes, rounds, floor = null, quick = false }) {
  const needed = 1.1 * sizes.reduce((sum, s) => sum + templateBytes(s.files), 0);
  const { bavail, bsize } = fs.statfsSync(root);
  if (bavail * bsize < needed) {
    throw new Error(`${fsName} has ${Math.floor((bavail * bsize) / 2 ** 20)} MiB free; the workspace templates need ${Math.ceil(needed / 2 ** 20)} MiB`);
  }
  const dir = fs.mkdtempSync(path.join(root, 'cowcopy-bench-workspace-'));
  // Workspaces stay until the timed loop is over: btrfs deletes a subvolume
  // in the background, after a commit, and that must not fall into a later
  // snapshot's time (waiting for it each round takes seconds: the cleaner
  // runs at the commit interval).
  const subvolumes = [];
  try {
    const templates = sizes.map(({ files, copyRounds }) => {
      const src = path.join(dir, `template-${files}`);
      const shape = generateWorkspace(src, { files });
      const prepared = prepareTemplateSync(src);
      if (prepared.strategy !== 'snapshot') throw new Error(`prepareTemplate(${src}): ${prepared.reason}`);
      subvolumes.push(src);
      return { files, copyRounds, src, shape };
    });
    execFileSync('sync', ['-f', dir]);
    // A template is prepared once and used for a long time: measured once
    // btrfs has done what preparing it left for its next commits (the old
    // tree's removal: a commit every 30 s), not while it does.
    await new Promise((resolve) => setTimeout(resolve, quick ? 1000 : 35_000));
    execFileSync('sync', ['-f', dir]);
    let counter = 0;
    // Each round's destination is named before the clock starts (prepare).
    const into = (tag, make, after) => {
      let dest;
      return {
        prepare: () => {
          dest = path.join(dir, `${tag}-${counter++}`);
        },
        run: () => make(dest),
        // A copy goes at once, untimed, and is flushed, so its removal does not spill into the next candidate.
        after: after && (() => {
          fs.rmSync(dest, { recursive: true, force: true });
          execFileSync('sync', ['-f', dir]);
        }),
      };
    };
    const kept = (dest) => {
      subvolumes.push(dest);
      return dest;
    };
    const snapshotted = (result) => {
      if (result.strategy !== 'snapshot') throw new Error(`snapshot() took the ${result.strategy}: ${result.reason}`);
    };
    const candidates = templates.flatMap(({ files, copyRounds, src }) => [
      { label: SNAPSHOT, files, ...into(`snap${files}`, async (dest) => snapshotted(await snapshot(src, kept(dest)))) },
      { label: SNAPSHOT_SYNC, files, ...into(`sync${files}`, (dest) => snapshotted(snapshotSync(src, kept(dest)))) },
      ...(floor ? [{ label: FLOOR, files, timesItself: true, ...into(`floor${files}`, (dest) => runSnapshotFloor(floor, src, kept(dest))) }] : []),
      { label: CP, files, rounds: copyRounds, ...into(`cp${files}`, (dest) => cp(src, dest, { recursive: true }), true) },
      {
        label: CP_A,
        files,
        rounds: copyRounds,
        ...into(
          `cpa${files}`,
          (dest) => {
            const res = spawnSync('cp', ['-a', '--reflink=auto', src, dest]);
            if (res.status !== 0) throw new Error(`cp -a failed: ${res.stderr}`);
          },
          true,
        ),
      },
    ]);
    // The whole-tree calls in rounds of their own, then the copies, in the
    // same run: a 100,000-file copy and its removal leave btrfs work for its
    // next commits, which would land in the snapshot after it.
    const named = (c) => ({ ...c, name: `${c.label}, ${c.files} files` });
    const whole = candidates.filter((c) => c.rounds === undefined);
    const copies = candidates.filter((c) => c.rounds !== undefined);
    const measured = new Map();
    (await measure(whole.map(named), rounds)).forEach((r, i) => measured.set(whole[i], r));
    const copyPhase = Math.min(rounds, Math.max(...copies.map((c) => c.rounds)));
    (await measure(copies.map(named), copyPhase)).forEach((r, i) => measured.set(copies[i], r));
    const median = (label, files) => measured.get(candidates.find((c) => c.label === label && c.files === files))?.median;
    const labels = [...new Set(candidates.map((c) => c.label))];
    const ours = (files) => median(SNAPSHOT, files);
    const count = (n) => n.toLocaleString('en');
    const [small, large] = [templates[0], templates.at(-1)];
    const head = [`A new workspace from a template on ${fsName} (a subvolume made by prepareTemplate())`];
    for (const t of templates) head.push(`${count(t.files)} files, ${count(t.shape.dirs)} dirs`);
    if (templates.length > 1) head.push(`${count(large.files)} / ${count(small.files)} files`);
    const rows = [head];
    for (const label of labels) {
      const row = [label];
      for (const t of templates) {
        const ms = median(label, t.files);
        const by = label === SNAPSHOT ? '' : ` (${(ms / ours(t.files)).toFixed(ms < 10 * ours(t.files) ? 2 : 0)}x)`;
        row.push(`${formatMs(ms)}${by}`);
      }
      if (templates.length > 1) row.push(`${(median(label, large.files) / median(label, small.files)).toFixed(2)}x`);
      rows.push(row);
    }
    const copyCount = [...new Set(templates.map((t) => Math.min(t.copyRounds, rounds)))].join(' and ');
    const snap = ours(large.files);
    const lines = templates.map((t) => `snapshot() ${formatMs(ours(t.files))} at ${count(t.files)} files (target <= 5 ms): ${ours(t.files) <= 5 ? 'met' : 'NOT met'}`);
    if (templates.length > 1) lines.push(`${count(large.files)} files / ${count(small.files)} files: ${(snap / ours(small.files)).toFixed(2)}x`);
    lines.push(
      `at ${count(large.files)} files cp() takes ${(median(CP, large.files) / snap).toFixed(0)}x and cp -a ${(median(CP_A, large.files) / snap).toFixed(0)}x as long`,
    );
    if (floor) {
      const bottom = median(FLOOR, large.files);
      lines.push(`floor ${formatMs(bottom)}, snapshot() ${(snap / bottom).toFixed(2)}x that, snapshotSync() ${(median(SNAPSHOT_SYNC, large.files) / bottom).toFixed(2)}x`);
    }
    const table = markdownTable(rows);
    return {
      fsName,
      table: `${table}\n\nMedians of ${rounds} rounds of the whole-tree calls, then in the same run ${copyCount} of the copies (a 100,000-file copy and its removal leave btrfs work for its next commits, which would land in the snapshot after it); in brackets, how many times longer than snapshot(). The floor (bench/floor-snapshot.c) times open, open and BTRFS_IOC_SNAP_CREATE_V2 in its process. Workspaces are removed after the timed rounds, not between them.`,
      lines,
      groups: templates.map((t) => ({
        name: `${count(t.files)} files`,
        medians: Object.fromEntries(labels.map((label) => [label, median(label, t.files)])),
      })),
    };
  } finally {
    // Deleted, then waited for: the space comes back before the next benchmark.
    const ids = [];
    for (const sub of subvolumes.reverse()) {
      if (!fs.existsSync(sub)) continue;
      const id = subvolumeId(sub);
      if (id) ids.push(id);
      removeTreeSync(sub);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    if (ids.length > 0) {
      spawnSync('btrfs', ['filesystem', 'sync', root]); // wakes the cleaner
      const res = spawnSync('btrfs', ['subvolume', 'sync', root, ...ids], { encoding: 'utf8' });
      if (res.status !== 0) console.log(`btrfs subvolume sync: ${res.stderr.trim()} (the deleted workspaces go in the background)`);
    }
  }
}
