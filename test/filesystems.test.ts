// On real filesystems: prove that a clone really happened (shared extents,
// free space unchanged), that the kernel copy keeps holes, and that crossing
// filesystems falls back or fails cleanly.
import fs, { constants } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../lib/api.js';
import { createNativeBackend } from '../lib/native.js';
import { backends, binding } from './helpers/backends.js';
import { fingerprint, randomFile, sha256, failure } from './helpers/files.js';
import { extents, filesystems, alone, freeBytes, fullyShared, notShared, spaceTaken, runsOn, scratchOn, titleOn } from './helpers/filesystems.js';

const MB = 1024 * 1024;
const created: string[] = [];
afterAll(() => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});
function scratch(name: Parameters<typeof scratchOn>[0], label: string): string {
  const dir = scratchOn(name, label);
  created.push(dir);
  return dir;
}


for (const fsName of ['xfs', 'btrfs'] as const) {
  describe.runIf(runsOn(fsName))(titleOn(fsName, 'reflink'), () => {
    describe.each(backends)('$name backend', ({ api }) => {
      let dir: string;
      let src: string;
      let before: ReturnType<typeof fingerprint>;

      beforeAll(() => {
        dir = scratch(fsName, 'reflink');
        // An odd size: the last block is partial.
        src = randomFile(path.join(dir, 'src'), 32 * MB + 1234);
        before = fingerprint(src);
      });

      it('clones: strategy reflink, every extent shared, no space used', async () => {
        const result = await api.clone(src, path.join(dir, 'clone'));
        expect(result).toEqual({ strategy: 'reflink', bytes: before.size });
        expect(fullyShared(path.join(dir, 'clone'))).toBe(true);
        expect(fullyShared(src)).toBe(true);
        expect(sha256(path.join(dir, 'clone'))).toBe(before.hash);
        // A margin far below the 32 MB a copy takes (checked next), far above
        // a clone's; other suites writing here meanwhile are why it repeats.
        const cloneTakes = await spaceTaken(
          dir,
          async (n) => expect((await api.clone(src, path.join(dir, `clone-${n}`))).strategy).toBe('reflink'),
          (bytes) => bytes < 8 * MB,
        );
        expect(cloneTakes).toBeLessThan(8 * MB);

        // The measurement can see a real copy: the same file, forced to copy.
        const copyTakes = await spaceTaken(
          dir,
          async (n) => expect((await api.clone(src, path.join(dir, `copy-${n}`), { strategy: 'copy' })).strategy).not.toBe('reflink'),
          (bytes) => bytes > 30 * MB,
        );
        expect(copyTakes).toBeGreaterThan(30 * MB);
        expect(extents(path.join(dir, 'copy-0')).some((e) => e.flags.includes('shared'))).toBe(false);
        // The one-filefrag check the tree tests use tells the copy from the clones around it.
        const [clone, copy, clone0] = ['clone', 'copy-0', 'clone-0'].map((name) => path.join(dir, name));
        expect(notShared([clone, copy, clone0])).toEqual([copy]);
        expect(sha256(path.join(dir, 'copy-0'))).toBe(before.hash);
        expect(fingerprint(src)).toEqual(before);
      });

      it('a write to the clone leaves the source as it was', async () => {
        const clone = path.join(dir, 'written');
        api.cloneSync(src, clone);
        const fd = fs.openSync(clone, 'r+');
        fs.writeSync(fd, Buffer.alloc(64 * 1024, 0xab), 0, 64 * 1024, 0);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        expect(fingerprint(src)).toEqual(before);
        expect(fs.readFileSync(clone).subarray(0, 4)).toEqual(Buffer.alloc(4, 0xab));
        // Copy-on-write: the rewritten range has its own blocks now.
        const first = extents(clone)[0]!;
        expect(first.logical).toBe(0);
        expect(first.flags).not.toContain('shared');
      });

      it('copyFile clones without being asked, and with COPYFILE_FICLONE_FORCE', async () => {
        await api.copyFile(src, path.join(dir, 'plain'));
        api.copyFileSync(src, path.join(dir, 'forced'), constants.COPYFILE_FICLONE_FORCE);
        expect(fullyShared(path.join(dir, 'plain'))).toBe(true);
        expect(fullyShared(path.join(dir, 'forced'))).toBe(true);
        expect(sha256(path.join(dir, 'forced'))).toBe(before.hash);
      });

      it('clones over a larger existing destination and cuts it to size', async () => {
        const dest = path.join(dir, 'larger');
        randomFile(dest, 40 * MB + 7);
        const result = await api.clone(src, dest, { strategy: 'reflink' });
        expect(result.strategy).toBe('reflink');
        expect(fs.statSync(dest).size).toBe(before.size);
        expect(sha256(dest)).toBe(before.hash);
        // Cloned in place: every block shared, but the source's partial last
        // block, which xfs writes into the old file instead (4 KiB at most).
        const list = extents(dest);
        const tailStart = Math.floor(before.size / 4096) * 4096;
        const unshared = list.filter((e) => !e.flags.includes('shared'));
        expect(unshared.every((e) => e.logical >= tailStart)).toBe(true);
        expect(list.filter((e) => e.flags.includes('shared')).reduce((n, e) => n + e.length, 0)).toBeGreaterThanOrEqual(tailStart);
      });

      it('clones over a larger existing destination when the source is smaller than a block', async () => {
        const small = path.join(dir, 'small');
        fs.writeFileSync(small, 'x'.repeat(5000));
        const dest = path.join(dir, 'larger-small');
        fs.writeFileSync(dest, 'y'.repeat(10000));
        expect(api.cloneSync(small, dest, { strategy: 'reflink' })).toEqual({ strategy: 'reflink', bytes: 5000 });
        expect(fs.readFileSync(dest, 'utf8')).toBe('x'.repeat(5000));
      });

      it('clones an empty file', async () => {
        const empty = path.join(dir, 'empty');
        fs.writeFileSync(empty, '');
        expect(await api.clone(empty, path.join(dir, 'empty-clone'))).toEqual({ strategy: 'reflink', bytes: 0 });
      });

      it('probe says the volume clones', async () => {
        expect(await api.probe(dir)).toMatchObject({ filesystem: fsName, reflink: true, hardlink: true });
      });
    });
  });
}

describe.runIf(runsOn('xfs') && runsOn('btrfs'))(titleOn('xfs', titleOn('btrfs', 'across filesystems')), () => {
  describe.each(backends)('$name backend', ({ api }) => {
    let from: string;
    let to: string;
    let src: string;
    let before: ReturnType<typeof fingerprint>;
    beforeAll(() => {
      from = scratch('xfs', 'exdev');
      to = scratch('btrfs', 'exdev');
      src = randomFile(path.join(from, 'src'), 3 * MB + 5);
      before = fingerprint(src);
    });

    it('EXDEV falls back to a kernel copy', async () => {
      const result = await api.clone(src, path.join(to, 'auto'));
      expect(result).toEqual({ strategy: 'kernel', bytes: before.size });
      expect(sha256(path.join(to, 'auto'))).toBe(before.hash);
      await api.copyFile(src, path.join(to, 'copyfile'));
      expect(sha256(path.join(to, 'copyfile'))).toBe(before.hash);
    });

    it('COPYFILE_FICLONE_FORCE fails with EXDEV and writes nothing', async () => {
      const dest = path.join(to, 'forced');
      const err = await failure(() => api.copyFile(src, dest, constants.COPYFILE_FICLONE_FORCE));
      expect(err).toMatchObject({ code: 'EXDEV', syscall: 'copyfile', path: src, dest });
      expect(fs.existsSync(dest)).toBe(false);

      const kept = path.join(to, 'kept');
      fs.writeFileSync(kept, 'keep');
      const forced = await failure(() => api.clone(src, kept, { strategy: 'reflink' }));
      expect(forced).toMatchObject({ code: 'EXDEV', path: src, dest: kept });
      expect(fs.readFileSync(kept, 'utf8')).toBe('keep');
      expect((await failure(() => api.clone(src, path.join(to, 'link'), { strategy: 'hardlink' }))).code).toBe('EXDEV');
      expect(fs.readdirSync(to).filter((n) => n.includes('cowcopy'))).toEqual([]);
      expect(fingerprint(src)).toEqual(before);
    });
  });
});

/** A 64 MiB file with data at three places and holes between. */
function sparseFile(file: string): void {
  const fd = fs.openSync(file, 'w');
  for (const at of [0, 20 * MB, 63 * MB]) fs.writeSync(fd, Buffer.alloc(MB, 0x5a), 0, MB, at);
  fs.ftruncateSync(fd, 64 * MB + 100); // a trailing hole too
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

describe.runIf(runsOn('ext4'))(titleOn('ext4', 'no reflink'), () => {
  describe.each(backends)('$name backend', ({ api, caps }) => {
    let dir: string;
    beforeAll(() => {
      dir = scratch('ext4', 'ext4');
    });

    it('copies in the kernel and says so', async () => {
      const src = randomFile(path.join(dir, 'src'), 5 * MB);
      expect(await api.clone(src, path.join(dir, 'd'))).toEqual({ strategy: 'kernel', bytes: 5 * MB });
      expect(sha256(path.join(dir, 'd'))).toBe(sha256(src));
      expect(await api.probe(dir)).toMatchObject({ filesystem: 'ext4', reflink: false, copyFileRange: true });
    });

    it.runIf(caps.sparse)('keeps a sparse file sparse', async () => {
      const src = path.join(dir, 'sparse');
      sparseFile(src);
      const result = await api.clone(src, path.join(dir, 'sparse-copy'));
      expect(result).toEqual({ strategy: 'kernel', bytes: 64 * MB + 100 });
      const copy = fs.statSync(path.join(dir, 'sparse-copy'));
      expect(copy.size).toBe(64 * MB + 100);
      expect(copy.blocks * 512).toBeLessThanOrEqual(fs.statSync(src).blocks * 512 + MB);
      expect(copy.blocks * 512).toBeLessThan(8 * MB);
      expect(sha256(path.join(dir, 'sparse-copy'))).toBe(sha256(src));
    });
  });

  it('the user-space loop keeps holes too', async () => {
    const api = createApi(createNativeBackend(binding, { noKernelCopy: true }));
    const dir = scratch('ext4', 'userspace');
    const src = path.join(dir, 'sparse');
    sparseFile(src);
    expect(await api.clone(src, path.join(dir, 'copy'))).toEqual({ strategy: 'userspace', bytes: 64 * MB + 100 });
    expect(fs.statSync(path.join(dir, 'copy')).blocks * 512).toBeLessThan(8 * MB);
    expect(sha256(path.join(dir, 'copy'))).toBe(sha256(src));
    const dense = randomFile(path.join(dir, 'dense'), 3 * MB + 3);
    expect(api.cloneSync(dense, path.join(dir, 'dense-copy'))).toEqual({ strategy: 'userspace', bytes: 3 * MB + 3 });
    expect(sha256(path.join(dir, 'dense-copy'))).toBe(sha256(dense));
  });
});

describe.runIf(runsOn('small') && runsOn('ext4'))(titleOn('small', 'out of space'), () => {
  describe.each(backends)('$name backend', ({ api }) => {
    it('ENOSPC: the error is reported, the partial copy removed, the source intact', async () => {
      const dir = scratch('small', 'enospc');
      const src = randomFile(path.join(scratch('ext4', 'enospc-src'), 'big'), 24 * MB);
      const before = fingerprint(src);
      await alone('small', async () => {
        const free = freeBytes(dir);
        const dest = path.join(dir, 'big');
        const err = await failure(() => api.clone(src, dest));
        expect(err).toMatchObject({ code: 'ENOSPC', path: src, dest });
        expect(fs.existsSync(dest)).toBe(false);
        expect(fs.readdirSync(dir)).toEqual([]);
        expect(Math.abs(freeBytes(dir) - free)).toBeLessThan(MB);
        expect(fingerprint(src)).toEqual(before);
        // And the filesystem still takes a copy that fits.
        const small = randomFile(path.join(path.dirname(src), 'small'), MB);
        expect((await api.clone(small, path.join(dir, 'small'))).bytes).toBe(MB);
        fs.rmSync(dir, { recursive: true, force: true });
      });
    });
  });
});

it('reports which filesystems ran', () => {
  // Not a check of cowcopy: makes a skipped suite visible in the summary.
  for (const f of Object.values(filesystems)) {
    if (f.root === null) console.warn(`skipped ${f.name} suites: ${f.reason}`);
  }
  expect(Object.keys(filesystems)).toEqual(['xfs', 'btrfs', 'ext4', 'small', 'eio']);
});
