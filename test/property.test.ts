// Random trees, random options: cowcopy's cp() and fs.promises.cp must agree
// (content, modes, link targets, timestamps when asked; the same error code
// when both fail). A fixed seed in CI, a new one locally; the seed is in
// every failure message: COWCOPY_SEED=<seed> npm test reproduces it.
import fs, { constants } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CpOptions } from '../lib/types.js';
import { backends } from './helpers/backends.js';
import { tempDir } from './helpers/files.js';
import { diffTrees, makeTree, makeWritable, seededRandom } from './helpers/trees.js';

const seed = Number(process.env.COWCOPY_SEED ?? (process.env.CI ? 20261125 : Math.floor(Math.random() * 2 ** 31)));
const cases = Number(process.env.COWCOPY_PROPERTY_CASES ?? 16);
console.log(`property test seed: ${seed} (COWCOPY_SEED=${seed} reproduces it)`);

const root = tempDir('property');
afterAll(() => {
  makeWritable(root);
  fs.rmSync(root, { recursive: true, force: true });
});

interface Case {
  options: CpOptions;
  /** What is at dest before: nothing, a partial copy with changes, or a file. */
  destState: 'none' | 'partial' | 'file';
  shape: Parameters<typeof makeTree>[2];
}

function randomCase(next: () => number): Case {
  const bool = (p = 0.5) => next() < p;
  const dereference = bool(0.2);
  const options: CpOptions = {
    recursive: bool(0.9),
    force: bool(0.7),
    errorOnExist: bool(0.3),
    dereference,
    preserveTimestamps: bool(0.5),
    mode: bool(0.2) ? constants.COPYFILE_FICLONE : 0,
  };
  // cowcopy's default differs from fs.cp's: always say which.
  if (!dereference) options.verbatimSymlinks = bool();
  if (bool(0.3)) {
    const salt = Math.floor(next() * 7);
    // A pure function of the path: both copies see the same decisions.
    options.filter = (src) => (src.length + salt) % 5 !== 0;
  }
  const destState = (['none', 'none', 'partial', 'file'] as const)[Math.floor(next() * 4)]!;
  return {
    options,
    destState,
    shape: {
      depth: 1 + Math.floor(next() * 3),
      fanout: 1 + Math.floor(next() * 3),
      filesPerDir: Math.floor(next() * 6),
      maxSize: 64 * 1024,
      sparse: bool(0.3),
      symlinks: bool(0.7),
      readOnly: bool(0.5),
      // Followed links must lead somewhere finite; fs.cp has no loop check.
      ...(dereference ? { linkTargets: ['/etc/hostname', '/nonexistent/dangling'] } : {}),
    },
  };
}

/** The destination as it is before the copy (the same for both sides). */
function prepareDest(dest: string, src: string, state: Case['destState'], next: () => number): void {
  // Fixed times: what is left as it was must compare equal on both sides.
  const older = new Date('2010-01-01T00:00:00Z');
  if (state === 'none') return;
  if (state === 'file') {
    fs.writeFileSync(dest, 'a file where the tree goes');
    fs.utimesSync(dest, older, older);
    return;
  }
  // A partial older copy: files only (fs.cp replaces links whatever force says).
  fs.mkdirSync(dest);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    if (!entry.isFile() || next() < 0.5) continue;
    fs.writeFileSync(path.join(dest, entry.name), `older ${entry.name}`);
    fs.utimesSync(path.join(dest, entry.name), older, older);
  }
}

async function outcome(run: () => Promise<unknown>): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
  try {
    await run();
    return { ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: String(e.code), message: e.message };
  }
}

describe.each(backends)('$name backend agrees with fs.promises.cp', ({ name, api }) => {
  const next = seededRandom(seed);
  for (let i = 0; i < cases; i++) {
    const c = randomCase(next);
    const treeSeed = Math.floor(next() * 2 ** 31);
    const destSeed = Math.floor(next() * 2 ** 31);
    it(`case ${i}: ${JSON.stringify({ ...c.options, filter: c.options.filter ? 'fn' : undefined })}, dest ${c.destState}`, async () => {
      const dir = fs.mkdtempSync(path.join(root, `${name}-${i}-`));
      const src = path.join(dir, 'src');
      makeTree(src, treeSeed, c.shape);
      const ours = path.join(dir, 'ours');
      const node = path.join(dir, 'node');
      prepareDest(ours, src, c.destState, seededRandom(destSeed));
      prepareDest(node, src, c.destState, seededRandom(destSeed));

      const a = await outcome(() => api.cp(src, ours, c.options));
      const b = await outcome(() => fs.promises.cp(src, node, c.options));
      const context = `seed ${seed}, case ${i}\ncowcopy: ${JSON.stringify(a)}\nfs.cp: ${JSON.stringify(b)}`;
      expect(a.ok, context).toBe(b.ok);
      if (!a.ok && !b.ok) {
        expect(a.code, context).toBe(b.code);
        return;
      }
      if (!fs.existsSync(node)) {
        expect(fs.existsSync(ours), context).toBe(false);
        return;
      }
      const timestamps = c.options.preserveTimestamps ? 'ms' : undefined;
      // A directory merged into keeps its own mode in both.
      expect(diffTrees(node, ours, { timestamps, rootMode: c.destState === 'none', trailingSlash: 'ignored' }), context).toEqual([]);
    });
  }
});
