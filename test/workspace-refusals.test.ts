// snapshot()'s choices after a whole-tree clone was tried and refused,
// on a backend whose cloneTree answers as APFS's clonefile would (or a
// btrfs snapshot's, for contrast): which refusals walk and say why, which
// are the caller's error, and the one retry by real path. The walk itself
// is the real native backend's, on the OS temp dir.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApi } from '../lib/api.js';
import type { CopyBackend, TreeVolume, WholeClone } from '../lib/backend.js';
import { systemError, uvErrno } from '../lib/errors.js';
import { nativeUnderTest } from './helpers/backends.js';
import { failure, tempDir } from './helpers/files.js';
import { diffTrees } from './helpers/trees.js';

const root = tempDir('workspace-refusals');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const template = path.join(root, 'template');
fs.mkdirSync(path.join(template, 'sub'), { recursive: true });
fs.writeFileSync(path.join(template, 'a.txt'), 'a');
fs.writeFileSync(path.join(template, 'sub', 'b.txt'), 'b');

type Whole = 'clonefile' | 'snapshot';
interface Call {
  src: string;
  dest: string;
  readOnly: boolean;
}

/** The real native backend, but cloneTree answers each call with the next of `answers` (a code, or 'made'). */
function fakeBackend(whole: Whole, answers: (string | 'made')[]): { backend: CopyBackend; calls: Call[] } {
  const calls: Call[] = [];
  const volume: TreeVolume = { filesystem: whole === 'clonefile' ? 'apfs' : 'btrfs', whole, subvolume: whole === 'snapshot', readOnly: false, nested: [] };
  const answer = (src: unknown, dest: unknown, readOnly: boolean): WholeClone => {
    const [s, d] = [String(src), String(dest)];
    calls.push({ src: s, dest: d, readOnly });
    const next = answers.shift();
    if (next === undefined) throw new Error('cloneTree called more often than expected');
    if (next === 'made') {
      fs.cpSync(s, d, { recursive: true });
      return { volume, error: null };
    }
    return { volume, error: systemError(uvErrno(next), whole === 'clonefile' ? 'clonefile' : 'ioctl', s, d) };
  };
  const backend: CopyBackend = {
    ...nativeUnderTest.backend,
    cloneTree: async (src, dest, readOnly) => answer(src, dest, readOnly),
    cloneTreeSync: (src, dest, readOnly) => answer(src, dest, readOnly),
  };
  return { backend, calls };
}

let count = 0;
const fresh = (label: string) => path.join(root, `${label}-${count++}`);

describe.each(['async', 'sync'] as const)("snapshot() after a refused whole-tree clone (%s)", (form) => {
  const snapshot = (backend: CopyBackend, src: string, dest: string, options?: object) => {
    const api = createApi(backend);
    return form === 'async' ? api.snapshot(src, dest, options) : api.snapshotSync(src, dest, options);
  };

  it.each([
    ['clonefile', 'EXDEV', 'dest is on another filesystem than src (EXDEV): a clone stays within one'],
    ['clonefile', 'ENOTSUP', 'clonefile is not supported here (ENOTSUP)'],
    ['snapshot', 'EXDEV', 'dest is on another filesystem than src (EXDEV): a btrfs snapshot stays within one'],
    ['snapshot', 'EPERM', 'btrfs lets only the owner of src (or root) snapshot it (EPERM)'],
    ['snapshot', 'ENOTTY', 'snapshot is not supported here (ENOTTY)'],
  ] as const)('%s refused with %s: the walk copies the tree and says why', async (whole, code, reason) => {
    const { backend, calls } = fakeBackend(whole, [code]);
    const dest = fresh('walked');
    const result = await snapshot(backend, template, dest);
    expect(result).toMatchObject({ strategy: 'walk', reason, readOnly: false, nestedSubvolumes: [], files: 2 });
    expect(calls).toHaveLength(1);
    expect(diffTrees(template, dest)).toEqual([]);
  });

  it.each([
    ['clonefile', 'EPERM'],
    ['clonefile', 'EACCES'],
    ['clonefile', 'ENOSPC'],
    ['clonefile', 'EIO'],
    ['snapshot', 'EACCES'],
  ] as const)("%s refused with %s: the caller's error, naming src and dest, and nothing walked", async (whole, code) => {
    const { backend, calls } = fakeBackend(whole, [code]);
    const dest = fresh('thrown');
    const err = await failure(() => snapshot(backend, template, dest));
    expect(err).toMatchObject({ code, syscall: whole === 'clonefile' ? 'clonefile' : 'ioctl', path: template, dest });
    expect(calls).toHaveLength(1);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('walk: false turns a refusal that would walk into ENOTSUP with the reason, nothing made', async () => {
    const { backend } = fakeBackend('clonefile', ['EXDEV']);
    const dest = fresh('no-walk');
    const err = await failure(() => snapshot(backend, template, dest, { walk: false }));
    expect(err.code).toBe('ENOTSUP');
    expect(err.message).toContain('dest is on another filesystem than src (EXDEV): a clone stays within one (walk: false)');
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("ENOENT with dest's parent missing: the parent is made and the clone tried once more, by src's real path", async () => {
    const { backend, calls } = fakeBackend('clonefile', ['ENOENT', 'made']);
    const link = fresh('template-link');
    fs.symlinkSync(template, link);
    const dest = path.join(fresh('parent'), 'below', 'ws');
    expect(await snapshot(backend, link, dest)).toEqual({ strategy: 'clonefile', reason: null, readOnly: false, nestedSubvolumes: [] });
    expect(calls.map((c) => c.src)).toEqual([link, fs.realpathSync(template)]);
    expect(diffTrees(template, dest)).toEqual([]);
  });

  it('ENOENT again on the retry: the error, not a walk', async () => {
    const { backend, calls } = fakeBackend('clonefile', ['ENOENT', 'ENOENT']);
    const dest = path.join(fresh('parent-again'), 'ws');
    const err = await failure(() => snapshot(backend, template, dest));
    expect(err.code).toBe('ENOENT');
    expect(calls).toHaveLength(2);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("readOnly is passed to the clone; only a btrfs snapshot reports it made read-only", async () => {
    for (const whole of ['clonefile', 'snapshot'] as const) {
      const { backend, calls } = fakeBackend(whole, ['made']);
      const result = await snapshot(backend, template, fresh(`read-only-${whole}`), { readOnly: true });
      expect(calls.map((c) => c.readOnly)).toEqual([true]);
      expect(result).toMatchObject({ strategy: whole, readOnly: whole === 'snapshot' });
    }
  });
});
