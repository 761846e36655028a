// Workspaces (issue #19): snapshot(), prepareTemplate(), removeTree() on the
// real filesystems. On btrfs a prepared template becomes a workspace by one
// snapshot: proven by the inode numbers it keeps, its own device number and
// extents shared with the template, not by equal bytes alone; the workspace
// equals the template entry by entry, writes stay on their side, nested
// subvolumes are reported, concurrent snapshots of one template all work,
// and a read-only one is read-only. Elsewhere (xfs, ext4, another
// filesystem, another owner, the node:fs fallback) the walk makes it with
// cp -a's fidelity and says why. As root and as an unprivileged owner.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApi, type Api } from '../lib/api.js';
import type { CopyBackend } from '../lib/backend.js';
import type { SnapshotResult } from '../lib/types.js';
import { fallbackUnderTest, nativeUnderTest } from './helpers/backends.js';
import { failure, randomFile, waitFor } from './helpers/files.js';
import { alone, fullyShared, runsOn, scratchOn, titleOn } from './helpers/filesystems.js';
import { diffSnapshots, restoreTimes, snapshotTree, type EntryAttributes } from './helpers/tree-attributes.js';

const asRoot = process.geteuid?.() === 0;
const native = nativeUnderTest.api;
const fallback = fallbackUnderTest.api;
const setfattr = spawnSync('setfattr', ['--version']).status === 0 || Boolean(process.env.CI);
const NOBODY = 65534;

const scratches: string[] = [];
afterAll(() => {
  // Read-only snapshots and subvolumes among them: removeTree's job.
  for (const dir of scratches) if (fs.existsSync(dir)) native.removeTreeSync(dir);
});

function scratch(fsName: 'btrfs' | 'xfs' | 'ext4' | 'small', label: string): string {
  const dir = scratchOn(fsName, label);
  scratches.push(dir);
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Both forms of each call, as one async shape. */
interface Form {
  name: string;
  snapshot: (src: string, dest: string, options?: Parameters<Api['snapshot']>[2]) => Promise<SnapshotResult>;
  prepareTemplate: (dir: string) => ReturnType<Api['prepareTemplate']>;
  removeTree: (p: string) => ReturnType<Api['removeTree']>;
}

function forms(api: Api): Form[] {
  return [
    { name: 'async', snapshot: api.snapshot, prepareTemplate: api.prepareTemplate, removeTree: api.removeTree },
    {
      name: 'sync',
      snapshot: async (src, dest, options) => api.snapshotSync(src, dest, options),
      prepareTemplate: async (dir) => api.prepareTemplateSync(dir),
      removeTree: async (p) => api.removeTreeSync(p),
    },
  ];
}

const OLD = 1_000_000_000n * 1_000_000_000n + 123_456_789n;

/**
 * A template with what a workspace holds: nested directories, files small
 * and large (1 MiB, in extents of its own), a hard-link pair, symlinks
 * (relative, absolute, dangling), modes (setuid, read-only, a private
 * directory), a FIFO, a user xattr on a file and a directory where setfattr
 * exists, as root files of another owner, and old times everywhere.
 */
function makeTemplate(root: string): void {
  fs.mkdirSync(path.join(root, 'src', 'lib', 'deep'), { recursive: true });
  fs.mkdirSync(path.join(root, 'private'), { mode: 0o700 });
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(root, 'src', 'lib', `m${i}.js`), `export const m${i} = ${i};\n`.repeat(i + 1));
  fs.writeFileSync(path.join(root, 'src', 'lib', 'deep', 'config.json'), '{"deep": true}\n');
  randomFile(path.join(root, 'big.bin'), 1 << 20);
  fs.writeFileSync(path.join(root, 'src', 'one'), 'one file, two names\n');
  fs.linkSync(path.join(root, 'src', 'one'), path.join(root, 'private', 'two'));
  fs.symlinkSync('lib/m1.js', path.join(root, 'src', 'relative'));
  fs.symlinkSync(path.join(root, 'big.bin'), path.join(root, 'absolute'));
  fs.symlinkSync('nowhere', path.join(root, 'dangling'));
  fs.writeFileSync(path.join(root, 'tool'), '#!/bin/sh\n');
  if (asRoot) fs.chownSync(path.join(root, 'tool'), 1234, 5678);
  fs.chmodSync(path.join(root, 'tool'), 0o4755);
  fs.writeFileSync(path.join(root, 'src', 'readonly'), 'read only');
  fs.chmodSync(path.join(root, 'src', 'readonly'), 0o444);
  spawnSync('mkfifo', [path.join(root, 'pipe')]);
  if (setfattr) {
    for (const [p, v] of [[path.join(root, 'big.bin'), 'data'], [path.join(root, 'src'), 'dir']] as const) {
      const r = spawnSync('setfattr', ['-n', 'user.cowcopy', '-v', v, p]);
      if (r.status !== 0) throw new Error(`setfattr: ${String(r.stderr)}`);
    }
  }
  const times = new Map<string, Pick<EntryAttributes, 'atimeNs' | 'mtimeNs'>>();
  for (const rel of ['', ...fs.readdirSync(root, { recursive: true }).map(String)]) {
    times.set(rel, { atimeNs: OLD + BigInt(rel.length) * 1_000_001n, mtimeNs: OLD - BigInt(rel.length) * 999_999n });
  }
  restoreTimes(root, times);
}

/**
 * A tree's entries as a copy of it must be: reading them (data, names,
 * targets) moves their atimes, which are put back before anything copies.
 */
function capture(root: string): Map<string, EntryAttributes> {
  const entries = snapshotTree(root);
  restoreTimes(root, entries);
  return entries;
}

/** Entry-by-entry differences from what was captured, the roots included. */
function differences(before: Map<string, EntryAttributes>, copy: string, slackNs = 0n): string[] {
  return diffSnapshots(before, snapshotTree(copy), { timeSlackNs: slackNs });
}

/** A template on `fsName`, made snapshot-able where it can be. */
async function prepared(fsName: 'btrfs' | 'xfs' | 'ext4', label: string, form: Form = forms(native)[0]!): Promise<{ base: string; template: string }> {
  const base = scratch(fsName, label);
  const template = path.join(base, 'template');
  fs.mkdirSync(template);
  makeTemplate(template);
  await form.prepareTemplate(template);
  return { base, template };
}

describe.runIf(runsOn('btrfs'))(titleOn('btrfs', 'workspaces by snapshot'), () => {
  describe.each(forms(native))('$name', (form) => {
    it('prepareTemplate makes a subvolume of the same contents, under the same name; once is enough', async () => {
      const base = scratch('btrfs', 'prepare');
      const template = path.join(base, 'template');
      fs.mkdirSync(template);
      makeTemplate(template);
      const before = capture(template);
      const oldIno = fs.statSync(template).ino;

      const result = await form.prepareTemplate(template);
      expect(result).toMatchObject({ made: 'subvolume', strategy: 'snapshot', reason: null, kept: null });
      expect(result.copied).toMatchObject({ files: 46, symlinks: 3, specials: 1, directories: 5 });
      // A subvolume's root (inode 256), nothing left beside it.
      expect(fs.statSync(template).ino).toBe(256);
      expect(fs.statSync(template).ino).not.toBe(oldIno);
      expect(fs.readdirSync(base)).toEqual(['template']);
      expect(differences(before, template)).toEqual([]);

      await expect(form.prepareTemplate(template)).resolves.toEqual({ made: 'none', strategy: 'snapshot', reason: null, copied: null, kept: null });
    });

    it("prepareTemplate of 'dir/.' works on the directory itself", async () => {
      const base = scratch('btrfs', 'dot');
      fs.mkdirSync(path.join(base, 'template', 'd'), { recursive: true });
      fs.writeFileSync(path.join(base, 'template', 'd', 'f'), 'kept');
      await expect(form.prepareTemplate(`${path.join(base, 'template')}/.`)).resolves.toMatchObject({ made: 'subvolume', kept: null });
      expect(fs.statSync(path.join(base, 'template')).ino).toBe(256);
      expect(fs.readFileSync(path.join(base, 'template', 'd', 'f'), 'utf8')).toBe('kept');
      expect(fs.readdirSync(base)).toEqual(['template']);
    });

    it('snapshot: the workspace is the template entry by entry, made by btrfs (same inodes, shared extents)', async () => {
      const { base, template } = await prepared('btrfs', 'snap', form);
      const ws = path.join(base, 'ws');
      const before = capture(template);
      const result = await form.snapshot(template, ws);
      expect(result).toEqual({ strategy: 'snapshot', reason: null, readOnly: false, nestedSubvolumes: [] });
      expect(differences(before, ws)).toEqual([]);
      // A snapshot keeps inode numbers, and is a subvolume of its own.
      const inodes = (root: string): bigint[] => ['', 'src/lib/m3.js', 'private/two', 'pipe'].map((rel) => fs.lstatSync(path.join(root, rel), { bigint: true }).ino);
      expect(inodes(ws)).toEqual(inodes(template));
      expect(fs.statSync(ws).dev).not.toBe(fs.statSync(template).dev);
      expect(fullyShared(path.join(ws, 'big.bin'))).toBe(true);
    });

    it('writes to the workspace or the template stay on their side', async () => {
      const { base, template } = await prepared('btrfs', 'isolated', form);
      const ws = path.join(base, 'ws');
      await form.snapshot(template, ws);
      fs.writeFileSync(path.join(ws, 'src', 'lib', 'm1.js'), 'changed in the workspace');
      fs.writeFileSync(path.join(ws, 'new-in-ws'), 'new');
      fs.rmSync(path.join(ws, 'src', 'lib', 'deep'), { recursive: true });
      fs.writeFileSync(path.join(template, 'src', 'lib', 'm2.js'), 'changed in the template');
      expect(fs.readFileSync(path.join(template, 'src', 'lib', 'm1.js'), 'utf8')).toBe('export const m1 = 1;\n'.repeat(2));
      expect(fs.existsSync(path.join(template, 'new-in-ws'))).toBe(false);
      expect(fs.existsSync(path.join(template, 'src', 'lib', 'deep', 'config.json'))).toBe(true);
      expect(fs.readFileSync(path.join(ws, 'src', 'lib', 'm2.js'), 'utf8')).toBe('export const m2 = 2;\n'.repeat(3));
    });

    it('readOnly: a read-only snapshot, which removeTree removes', async () => {
      const { base, template } = await prepared('btrfs', 'readonly', form);
      const ws = path.join(base, 'ws');
      await expect(form.snapshot(template, ws, { readOnly: true })).resolves.toMatchObject({ strategy: 'snapshot', readOnly: true });
      const err = await failure(() => fs.writeFileSync(path.join(ws, 'src', 'x'), 'no'));
      expect(err.code).toBe('EROFS');
      expect(await form.removeTree(ws)).toEqual({ strategy: asRoot ? 'subvolume' : 'walk' });
      expect(fs.existsSync(ws)).toBe(false);
    });

    it('nested subvolumes are reported, and held as empty directories', async () => {
      const { base, template } = await prepared('btrfs', 'nested', form);
      fs.mkdirSync(path.join(template, 'cache'));
      await nativeUnderTest.backend.volume('createSubvolume', path.join(template, 'cache', 'inner'));
      await nativeUnderTest.backend.volume('createSubvolume', path.join(template, 'sub'));
      fs.writeFileSync(path.join(template, 'sub', 'kept-out'), 'not in the snapshot');
      const ws = path.join(base, 'ws');
      const result = await form.snapshot(template, ws);
      expect(result.strategy).toBe('snapshot');
      expect([...result.nestedSubvolumes].sort()).toEqual(['cache/inner', 'sub']);
      expect(fs.readdirSync(path.join(ws, 'sub'))).toEqual([]);
      expect(fs.readdirSync(path.join(ws, 'cache', 'inner'))).toEqual([]);
      // A directory holding a read-only snapshot, as root: the same.
      fs.mkdirSync(path.join(base, 'box'));
      await form.snapshot(template, path.join(base, 'box', 'ro'), { readOnly: true });
      await expect(form.removeTree(path.join(base, 'box'))).resolves.toEqual({ strategy: 'walk' });
      expect(fs.existsSync(path.join(base, 'box'))).toBe(false);
      // A subvolume inside a workspace goes with it.
      await nativeUnderTest.backend.volume('createSubvolume', path.join(ws, 'made-inside'));
      await form.removeTree(ws);
      expect(fs.existsSync(ws)).toBe(false);
      // And the template's own, one inside another.
      await nativeUnderTest.backend.volume('createSubvolume', path.join(template, 'sub', 'deeper'));
      await form.removeTree(template);
      expect(fs.existsSync(template)).toBe(false);
    });

    it('the template reached through a symlink; dest in a directory not made yet', async () => {
      const { base, template } = await prepared('btrfs', 'symlink', form);
      fs.symlinkSync('template', path.join(base, 'current'));
      const ws = path.join(base, 'a', 'b', 'ws');
      const before = capture(template);
      await expect(form.snapshot(path.join(base, 'current'), ws)).resolves.toMatchObject({ strategy: 'snapshot' });
      expect(differences(before, ws)).toEqual([]);
    });

    it('refuses, making nothing: dest there, dest inside src, src missing or not a directory, bad options', async () => {
      const { base, template } = await prepared('btrfs', 'refuse', form);
      fs.mkdirSync(path.join(base, 'there'));
      let err = await failure(() => form.snapshot(template, path.join(base, 'there')));
      expect(err).toMatchObject({ code: 'EEXIST', syscall: 'snapshot', path: template, dest: path.join(base, 'there') });
      fs.symlinkSync('nowhere', path.join(base, 'dangling'));
      err = await failure(() => form.snapshot(template, path.join(base, 'dangling')));
      expect(err.code).toBe('EEXIST');
      err = await failure(() => form.snapshot(template, path.join(template, 'src', 'ws')));
      expect(err.code).toBe('EINVAL');
      // The same, through a symlink into the template: refused by the device check.
      fs.symlinkSync(path.join(template, 'src'), path.join(base, 'into'));
      err = await failure(() => form.snapshot(template, path.join(base, 'into', 'ws')));
      expect(err.code).toBe('EINVAL');
      expect(fs.existsSync(path.join(template, 'src', 'ws'))).toBe(false);
      // ... with parents still to make: none made inside the template.
      err = await failure(() => form.snapshot(template, path.join(base, 'into', 'x', 'y', 'ws')));
      expect(err.code).toBe('EINVAL');
      expect(fs.existsSync(path.join(template, 'src', 'x'))).toBe(false);
      // walk: false refuses before making a parent.
      fs.mkdirSync(path.join(base, 'plain'));
      err = await failure(() => form.snapshot(path.join(base, 'plain'), path.join(base, 'new', 'ws'), { walk: false }));
      expect(err.code).toBe('ENOTSUP');
      fs.rmdirSync(path.join(base, 'plain'));
      err = await failure(() => form.snapshot(path.join(base, 'missing'), path.join(base, 'ws')));
      expect(err).toMatchObject({ code: 'ENOENT', path: path.join(base, 'missing') });
      err = await failure(() => form.snapshot(path.join(template, 'big.bin'), path.join(base, 'ws')));
      expect(err).toMatchObject({ code: 'ENOTDIR', syscall: 'snapshot' });
      err = await failure(() => form.snapshot(template, path.join(base, 'ws'), { readOnly: 'yes' } as never));
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      err = await failure(() => form.snapshot(template, path.join(base, 'ws'), { concurrency: 0 }));
      expect(err).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      expect(fs.readdirSync(base).sort()).toEqual(['dangling', 'into', 'template', 'there']);
      expect(fs.readdirSync(path.join(template, 'src')).sort()).toEqual(['lib', 'one', 'readonly', 'relative']);
    });
  });

  it('prepareTemplate: the directory is never missing nor partial while it is swapped', async () => {
    const base = scratch('btrfs', 'window');
    const template = path.join(base, 'template');
    fs.mkdirSync(path.join(template, 'many'), { recursive: true });
    for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(template, 'many', `f${i}`), `${i}\n`);
    fs.writeFileSync(path.join(template, 'last'), 'whole');
    const stop = path.join(base, 'stop');
    // A reader in another process, looking until told to stop: every look
    // must find the directory whole (its last file and all 2,000 others).
    // It sees a window as wide as a removal or a copy (milliseconds here),
    // not one of two renames in a row: renameat2's RENAME_EXCHANGE is what
    // makes that one empty.
    // It says 'looking' after its first look: the swap starts only then
    // (a process that exists may take longer to start looking than the
    // swap takes, under the sanitizers or on a loaded machine).
    const reader = `const fs = require('fs'); let looks = 0, misses = 0;
      while (!fs.existsSync(${JSON.stringify(stop)})) {
        looks++;
        try {
          if (fs.readFileSync(${JSON.stringify(path.join(template, 'last'))}, 'utf8') !== 'whole' ||
              fs.readdirSync(${JSON.stringify(path.join(template, 'many'))}).length !== 2000) misses++;
        } catch { misses++; }
        if (looks === 1) console.log('looking');
      }
      console.log(JSON.stringify({ looks, misses }));`;
    const child = spawn(process.execPath, ['-e', reader], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      expect(await waitFor(() => out, (text) => text.startsWith('looking\n'), 120_000)).toMatch(/^looking\n/);
      await expect(native.prepareTemplate(template)).resolves.toMatchObject({ made: 'subvolume', kept: null });
    } finally {
      fs.writeFileSync(stop, '');
    }
    expect(await ended).toBe(0);
    // Looking from before the swap began (above) until after it ended.
    const { misses } = JSON.parse(out.slice('looking\n'.length)) as { looks: number; misses: number };
    expect(misses).toBe(0);
    expect(fs.statSync(template).ino).toBe(256);
  });

  it('prepareTemplate: the old directory is kept when something in it changed during the copy', async () => {
    const base = scratch('btrfs', 'changed');
    const template = path.join(base, 'template');
    fs.mkdirSync(path.join(template, 'd'), { recursive: true });
    fs.writeFileSync(path.join(template, 'd', 'f'), 'before');
    // A write into the template just as its copy starts.
    const backend: CopyBackend = {
      ...nativeUnderTest.backend,
      copyTree: async (req) => {
        fs.writeFileSync(path.join(template, 'd', 'late'), 'written during the copy');
        return nativeUnderTest.backend.copyTree(req);
      },
    };
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    let result: Awaited<ReturnType<Api['prepareTemplate']>>;
    try {
      result = await createApi(backend).prepareTemplate(template);
      await waitFor(() => warnings.length, (n) => n > 0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(result.made).toBe('subvolume');
    expect(result.kept).toMatch(/\.cowcopy-template-/);
    expect(fs.readFileSync(path.join(result.kept!, 'd', 'late'), 'utf8')).toBe('written during the copy');
    expect(warnings[0]).toMatchObject({ code: 'COWCOPY_TEMPLATE_CHANGED' });
    expect(warnings[0]!.message).toContain(result.kept!);
  });

  it('concurrent snapshots of one template: all made; to one dest, exactly one', async () => {
    const { base, template } = await prepared('btrfs', 'concurrent');
    const before = capture(template);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => native.snapshot(template, path.join(base, `ws${i}`))));
    expect(results.map((r) => r.strategy)).toEqual(Array(8).fill('snapshot'));
    for (let i = 0; i < 8; i++) expect(differences(before, path.join(base, `ws${i}`)), `ws${i}`).toEqual([]);
    const same = await Promise.allSettled(Array.from({ length: 6 }, () => native.snapshot(template, path.join(base, 'one'))));
    expect(same.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    for (const s of same) if (s.status === 'rejected') expect((s.reason as NodeJS.ErrnoException).code).toBe('EEXIST');
    expect(differences(before, path.join(base, 'one'))).toEqual([]);
  });

  it('a template that is not a subvolume: the walk, with the reason; walk: false refuses', async () => {
    const base = scratch('btrfs', 'plain');
    const template = path.join(base, 'template');
    fs.mkdirSync(template);
    makeTemplate(template);
    const before = capture(template);
    const result = await native.snapshot(template, path.join(base, 'ws'));
    expect(result.strategy).toBe('walk');
    expect(result.reason).toMatch(/not a subvolume: prepareTemplate/);
    expect(differences(before, path.join(base, 'ws'))).toEqual([]);
    const err = await failure(() => native.snapshot(template, path.join(base, 'ws2'), { walk: false }));
    expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'snapshot' });
    expect(err.message).toMatch(/prepareTemplate/);
    expect(fs.existsSync(path.join(base, 'ws2'))).toBe(false);
  });
});

describe.runIf(runsOn('btrfs') && runsOn('ext4'))(titleOn('btrfs', titleOn('ext4', 'a workspace on another filesystem')), () => {
  it('the walk, saying EXDEV; a faithful copy', async () => {
    const { template } = await prepared('btrfs', 'exdev');
    const ws = path.join(scratch('ext4', 'exdev'), 'ws');
    const before = capture(template);
    const result = await native.snapshot(template, ws);
    expect(result).toMatchObject({ strategy: 'walk', readOnly: false, nestedSubvolumes: [], files: 46, symlinks: 3, specials: 1 });
    expect(result.reason).toMatch(/EXDEV/);
    expect(differences(before, ws)).toEqual([]);
  });
});

describe.each(['xfs', 'ext4'] as const)('workspaces where the volume has no whole-tree clone', (fsName) => {
  describe.runIf(runsOn(fsName))(titleOn(fsName, 'the walk'), () => {
    it.each(forms(native))('$name: a faithful copy, and the reason', async (form) => {
      const base = scratch(fsName, 'walk');
      const template = path.join(base, 'template');
      fs.mkdirSync(template);
      makeTemplate(template);
      await expect(form.prepareTemplate(template)).resolves.toEqual({
        made: 'none',
        strategy: 'walk',
        reason: `${fsName} has no whole-tree clone (btrfs snapshots and APFS directory clones are the ones)`,
        copied: null,
        kept: null,
      });
      const ws = path.join(base, 'ws');
      const before = capture(template);
      const result = await form.snapshot(template, ws, { readOnly: true });
      expect(result).toMatchObject({ strategy: 'walk', readOnly: false, files: 46, symlinks: 3, specials: 1, directories: 5 });
      expect(result.reason).toBe(`${fsName} has no whole-tree clone (btrfs snapshots and APFS directory clones are the ones)`);
      expect(differences(before, ws)).toEqual([]);
      if (fsName === 'xfs') expect(fullyShared(path.join(ws, 'big.bin'))).toBe(true);
      await expect(form.removeTree(ws)).resolves.toEqual({ strategy: 'walk' });
      expect(fs.existsSync(ws)).toBe(false);
    });

    it('the node:fs fallback: the walk, without xattrs, and says so', async () => {
      const base = scratch(fsName, 'fallback');
      const template = path.join(base, 'template');
      fs.mkdirSync(template);
      makeTemplate(template);
      fs.rmSync(path.join(template, 'pipe')); // node:fs cannot make one
      const ws = path.join(base, 'ws');
      const before = capture(template);
      const result = await fallback.snapshot(template, ws);
      expect(result).toMatchObject({ strategy: 'walk', files: 46 });
      expect(result.reason).toMatch(/node:fs fallback.*extended attributes are not copied/);
      // node:fs sets times through a double: within 2 µs. xattrs are not read.
      const diffs = differences(before, ws, 2_000n).filter((line) => !/xattr user\.cowcopy/.test(line));
      expect(diffs).toEqual([]);
      await expect(fallback.prepareTemplate(template)).resolves.toMatchObject({ made: 'none', strategy: 'walk' });
    });
  });
});

describe.runIf(runsOn('btrfs') && runsOn('small'))(titleOn('small', 'a walk that fails leaves nothing'), () => {
  it('ENOSPC on the way: no workspace left; an abort: none either', async () => {
    const base = scratch('btrfs', 'enospc');
    const template = path.join(base, 'template');
    fs.mkdirSync(template);
    for (let i = 0; i < 24; i++) randomFile(path.join(template, `f${i}`), 1 << 20);
    await alone('small', async () => {
      const ws = path.join(scratch('small', 'enospc'), 'ws');
      const err = await failure(() => native.snapshot(template, ws));
      expect(err.code).toBe('ENOSPC');
      expect(fs.existsSync(ws)).toBe(false);
    });
    const ws = path.join(base, 'aborted');
    const controller = new AbortController();
    const err = await failure(() =>
      native.snapshot(template, ws, {
        signal: controller.signal,
        onProgress: () => controller.abort(),
        concurrency: 1,
      }),
    );
    expect(err.name).toBe('AbortError');
    expect(fs.existsSync(ws)).toBe(false);
  });
});

// An unprivileged owner (nobody) of the template, in a child: prepare,
// snapshot (read-only too), remove, all as btrfs lets an owner; a template
// of another owner is walked, with the reason.
describe.runIf(runsOn('btrfs'))(titleOn('btrfs', 'workspaces of an unprivileged owner') + (asRoot ? '' : ' (skipped: needs root, to run as nobody)'), () => {
  it.skipIf(!asRoot)('as nobody: prepareTemplate, snapshot, a read-only one, removeTree; another owner\'s template walked', async () => {
    const base = scratch('btrfs', 'nobody');
    const template = path.join(base, 'template');
    fs.mkdirSync(template);
    fs.mkdirSync(path.join(template, 'd', 'e'), { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(template, 'd', `f${i}`), `file ${i}\n`);
    fs.symlinkSync('d/f1', path.join(template, 'link'));
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, base]);
    // root's, readable by all.
    const roots = { template: path.join(scratch('btrfs', 'roots'), 'template') };
    fs.mkdirSync(path.join(roots.template, 'd'), { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(roots.template, 'd', `f${i}`), `root's ${i}\n`);
    fs.symlinkSync('d/f1', path.join(roots.template, 'link'));
    await native.prepareTemplate(roots.template);
    const before = capture(roots.template);
    const script = `const c = require(${JSON.stringify(path.resolve('dist/index.js'))});
      const t = ${JSON.stringify(template)}, b = ${JSON.stringify(base)};
      (async () => {
        const out = {};
        out.prepare = await c.prepareTemplate(t);
        out.snapshot = await c.snapshot(t, b + '/ws');
        out.readOnly = await c.snapshot(t, b + '/ro', { readOnly: true });
        out.write = await require('fs').promises.writeFile(b + '/ro/x', 'no').then(() => 'written', (e) => e.code);
        out.others = await c.snapshot(${JSON.stringify(roots.template)}, b + '/others');
        require('fs').mkdirSync(b + '/box');
        await c.snapshot(t, b + '/box/ro', { readOnly: true });
        out.removeBox = await c.removeTree(b + '/box');
        // A template with a read-only directory and a file nobody may read:
        // the walk fails and leaves nothing; made readable, the walked copy
        // (read-only directory and all) is removed whole.
        const fsx = require('fs');
        fsx.mkdirSync(b + '/locked/ro', { recursive: true });
        fsx.writeFileSync(b + '/locked/ro/f', 'in a read-only directory');
        fsx.writeFileSync(b + '/locked/secret', 'unreadable');
        fsx.chmodSync(b + '/locked/ro', 0o555);
        fsx.chmodSync(b + '/locked/secret', 0);
        out.lockedWalk = await c.snapshot(b + '/locked', b + '/locked-ws').then(() => 'made', (e) => e.code);
        out.lockedLeft = fsx.existsSync(b + '/locked-ws');
        fsx.chmodSync(b + '/locked/secret', 0o600);
        out.lockedMade = (await c.snapshot(b + '/locked', b + '/locked-ws')).strategy;
        out.lockedRemoved = await c.removeTree(b + '/locked-ws');
        out.removeWs = await c.removeTree(b + '/ws');
        out.removeRo = await c.removeTree(b + '/ro');
        out.left = require('fs').readdirSync(b).sort();
        console.log(JSON.stringify(out));
      })().catch((e) => console.log(JSON.stringify({ error: e.message })));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', uid: NOBODY, gid: NOBODY });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, { strategy?: string; reason?: string; made?: string; readOnly?: boolean }> & { write: string; left: string[]; lockedWalk: string; lockedLeft: boolean; lockedMade: string };
    expect(out.prepare).toMatchObject({ made: 'subvolume', strategy: 'snapshot' });
    expect(out.snapshot).toMatchObject({ strategy: 'snapshot' });
    expect(out.readOnly).toMatchObject({ strategy: 'snapshot', readOnly: true });
    expect(out.write).toBe('EROFS');
    expect(out.others).toMatchObject({ strategy: 'walk' });
    expect(out.others?.reason).toMatch(/only the owner of src \(or root\).*EPERM/);
    // btrfs deletes a subvolume whole only for root (or user_subvol_rm_allowed): entry by entry.
    expect(out.removeWs).toEqual({ strategy: 'walk' });
    // A directory holding a read-only snapshot: rm meets EROFS, the snapshot is made writable, and again.
    expect(out.removeBox).toEqual({ strategy: 'walk' });
    expect(out.removeRo).toEqual({ strategy: 'walk' });
    expect(out.lockedWalk).toBe('EACCES');
    expect(out.lockedLeft).toBe(false);
    expect(out.lockedMade).toBe('walk');
    expect(out.lockedRemoved).toEqual({ strategy: 'walk' });
    expect(out.left).toEqual(['locked', 'others', 'template']);
    expect(fs.statSync(template).ino).toBe(256);
    expect(fs.statSync(template).uid).toBe(NOBODY);
    expect(differences(before, path.join(base, 'others')).filter((l) => !/: (uid|gid) /.test(l))).toEqual([]);
  });
});
