// macOS: clones on APFS, the default volume, proven by free space (macOS
// has no FIEMAP). Runs only on macOS, where it must not skip: the CI job on
// macos runners runs it (.github/workflows/ci.yml). COWCOPY_TEST_APFS: a
// directory on APFS (default: the OS temp dir); COWCOPY_TEST_HFS: one on a
// volume that cannot clone (the job attaches an HFS+ disk image).
import { execFileSync } from 'node:child_process';
import fs, { constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, nativeUnderTest } from './helpers/backends.js';
import { fingerprint, randomFile, sha256 } from './helpers/files.js';

const onMac = process.platform === 'darwin';
const MB = 1024 * 1024;
const created: string[] = [];
afterAll(() => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(base: string, label: string): string {
  const dir = fs.mkdtempSync(path.join(base, `cowcopy-${label}-`));
  created.push(dir);
  return dir;
}

/** Free bytes after flushing the volume (APFS allocates lazily). */
function freeBytes(dir: string): number {
  execFileSync('sync');
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

describe.runIf(onMac)('APFS clones (macOS)', () => {
  const apfs = process.env.COWCOPY_TEST_APFS ?? os.tmpdir();

  it('the volume is APFS and probe finds clones by trying', async () => {
    const volume = await nativeUnderTest.api.probe(apfs);
    expect(volume).toMatchObject({ platform: 'darwin', filesystem: 'apfs', reflink: true, native: true });
  });

  describe.each(backends)('$name backend', ({ api }) => {
    it('clones a 256 MB file without using space; a forced copy uses it', async () => {
      const dir = scratch(apfs, 'apfs');
      const src = randomFile(path.join(dir, 'src'), 256 * MB);
      const before = fingerprint(src);
      const free = freeBytes(dir);
      expect(await api.clone(src, path.join(dir, 'clone'))).toEqual({ strategy: 'reflink', bytes: 256 * MB });
      expect(free - freeBytes(dir)).toBeLessThan(16 * MB);
      expect(sha256(path.join(dir, 'clone'))).toBe(before.hash);

      // The measurement can see a copy.
      const freeBeforeCopy = freeBytes(dir);
      const copied = await api.clone(src, path.join(dir, 'copy'), { strategy: 'copy' });
      expect(copied.strategy).not.toBe('reflink');
      const fd = fs.openSync(path.join(dir, 'copy'), 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      expect(freeBeforeCopy - freeBytes(dir)).toBeGreaterThan(200 * MB);

      // Copy-on-write: writing the clone leaves the source as it was.
      fs.writeFileSync(path.join(dir, 'clone'), 'changed');
      expect(fingerprint(src)).toEqual(before);
    });

    it('copyFile clones, also forced; an existing destination is replaced', async () => {
      const dir = scratch(apfs, 'apfs-copyfile');
      const src = randomFile(path.join(dir, 'src'), 3 * MB + 17);
      await api.copyFile(src, path.join(dir, 'forced'), constants.COPYFILE_FICLONE_FORCE);
      fs.writeFileSync(path.join(dir, 'existing'), 'old and longer than nothing');
      expect(await api.clone(src, path.join(dir, 'existing'))).toMatchObject({ strategy: 'reflink' });
      expect(sha256(path.join(dir, 'existing'))).toBe(sha256(src));
      expect(fs.readdirSync(dir).filter((n) => n.includes('cowcopy'))).toEqual([]);
    });

    it('cp() clones every file of a tree', async () => {
      const dir = scratch(apfs, 'apfs-tree');
      for (let d = 0; d < 5; d++) {
        fs.mkdirSync(path.join(dir, 'src', `d${d}`), { recursive: true });
        for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(dir, 'src', `d${d}`, `f${f}`), `${d}-${f}`.repeat(100));
      }
      const result = await api.cp(path.join(dir, 'src'), path.join(dir, 'dest'), { recursive: true });
      expect(result.files).toBe(100);
      expect(result.strategies.reflink).toBe(100);
    });
  });

  it.runIf(Boolean(process.env.COWCOPY_TEST_HFS))('a forced clone onto HFS+ fails and writes nothing', async () => {
    const src = randomFile(path.join(scratch(apfs, 'apfs-src'), 'src'), MB);
    const hfs = scratch(process.env.COWCOPY_TEST_HFS ?? '', 'hfs');
    for (const { api } of backends) {
      const dest = path.join(hfs, 'forced');
      const err = await api.clone(src, dest, { strategy: 'reflink' }).then(
        () => null,
        (e: NodeJS.ErrnoException) => e.code,
      );
      expect(['ENOTSUP', 'EXDEV']).toContain(err);
      expect(fs.existsSync(dest)).toBe(false);
    }
    expect((await nativeUnderTest.api.probe(hfs)).reflink).toBe(false);
  });
});
