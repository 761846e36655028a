// The single-file contract, against both backends. Covers libuv's own
// copyfile cases (test/test-fs-copyfile.c) and what cowcopy adds on top.
import { spawnSync } from 'node:child_process';
import fs, { constants } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { nodeFs } from '../lib/nodefs.js';
import { backends, fallbackUnderTest } from './helpers/backends.js';
import { fingerprint, randomFile, sha256, tempDir, failure, timeResolution, truncateTime } from './helpers/files.js';

const { COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE } = constants;
const root = tempDir('contract');
// The read-only test drops privileges: it must still reach the files.
fs.chmodSync(root, 0o755);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// libuv never clones on macOS or Windows: COPYFILE_FICLONE_FORCE is ENOSYS
// there (libuv src/unix/fs.c and src/win/fs.c). The fallback's forced clone
// still says what the contract says, ENOTSUP, with nothing written.
describe('the fallback where libuv cannot clone at all (macOS, Windows)', () => {
  const { api } = fallbackUnderTest;
  const enosys = (src: unknown, dest: unknown): NodeJS.ErrnoException =>
    Object.assign(new Error(`ENOSYS: function not implemented, copyfile '${src}' -> '${dest}'`), {
      errno: -38,
      code: 'ENOSYS',
      syscall: 'copyfile',
      path: String(src),
      dest: String(dest),
    });

  it('a forced clone fails with ENOTSUP (not ENOSYS), for clone, copyFile and their sync forms', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'libuv-enosys-'));
    const src = randomFile(path.join(dir, 'src'), 10_000);
    // The fallback copies with node:fs's functions as they were when it loaded.
    const realAsync = nodeFs.promises.copyFile;
    const realSync = nodeFs.copyFileSync;
    const asyncSpy = vi.spyOn(nodeFs.promises, 'copyFile').mockImplementation(async (from, to, mode) => {
      if ((Number(mode) & COPYFILE_FICLONE_FORCE) !== 0) throw enosys(from, to);
      return realAsync(from, to, mode);
    });
    const syncSpy = vi.spyOn(nodeFs, 'copyFileSync').mockImplementation((from, to, mode) => {
      if ((Number(mode) & COPYFILE_FICLONE_FORCE) !== 0) throw enosys(from, to);
      return realSync(from, to, mode);
    });
    try {
      const dest = path.join(dir, 'dest');
      const cloned = await failure(() => api.clone(src, dest, { strategy: 'reflink' }));
      expect(cloned).toMatchObject({ code: 'ENOTSUP', path: src, dest });
      expect(cloned.message).toMatch(/^ENOTSUP: the filesystem cannot clone this file/);
      expect(() => api.cloneSync(src, dest, { strategy: 'reflink' })).toThrow(/^ENOTSUP/);
      const copied = await failure(() => api.copyFile(src, dest, COPYFILE_FICLONE_FORCE));
      expect(copied).toMatchObject({ code: 'ENOTSUP', syscall: 'copyfile', path: src, dest });
      expect(() => api.copyFileSync(src, dest, COPYFILE_FICLONE_FORCE)).toThrow(/^ENOTSUP/);
      // Over an existing file too, which stays as it was.
      fs.writeFileSync(dest, 'kept');
      expect((await failure(() => api.clone(src, dest, { strategy: 'reflink' }))).code).toBe('ENOTSUP');
      expect(fs.readFileSync(dest, 'utf8')).toBe('kept');
      expect(fs.readdirSync(dir).sort()).toEqual(['dest', 'src']);
      // 'auto' copies instead.
      expect((await api.clone(src, path.join(dir, 'auto'))).strategy).toBe('kernel');
      expect(asyncSpy).toHaveBeenCalled();
      expect(syncSpy).toHaveBeenCalled();
    } finally {
      asyncSpy.mockRestore();
      syncSpy.mockRestore();
    }
  });
});


describe.each(backends)('$name backend', ({ name, api, caps }) => {
  let dir: string;
  let src: string;
  let before: ReturnType<typeof fingerprint>;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(root, `${name}-`));
    src = randomFile(path.join(dir, 'src'), 300_000);
    fs.chmodSync(src, 0o640);
    before = fingerprint(src);
    return () => {
      // Whatever a test did, the source is as it was.
      if (fs.existsSync(src)) expect(fingerprint(src)).toEqual(before);
    };
  });

  describe('copyFile / copyFileSync (libuv cases)', () => {
    it('rejects bad flags like fs', async () => {
      // Node truncates a fraction toward zero first: 1.5 is 1, 8.5 is 8 (out of range).
      for (const mode of [-1, 8, 8.5, 2 ** 31]) {
        const ours = await failure(() => api.copyFile(src, path.join(dir, 'd'), mode));
        expect(ours.code).toBe('ERR_OUT_OF_RANGE');
        expect(ours).toBeInstanceOf(RangeError);
        expect(() => api.copyFileSync(src, path.join(dir, 'd'), mode)).toThrow(RangeError);
      }
      const wrongType = await failure(() => api.copyFile(src, path.join(dir, 'd'), '1' as unknown as number));
      expect(wrongType.code).toBe('ERR_INVALID_ARG_TYPE');
      expect(wrongType).toBeInstanceOf(TypeError);
      expect(fs.existsSync(path.join(dir, 'd'))).toBe(false);
      // What fs accepts, cowcopy accepts: 1.5 is COPYFILE_EXCL.
      await api.copyFile(src, path.join(dir, 'd'), 1.5);
      expect((await failure(() => api.copyFile(src, path.join(dir, 'd'), 1.5))).code).toBe('EEXIST');
    });

    it('fails with ENOENT and creates nothing when the source is missing', async () => {
      const missing = path.join(dir, 'missing');
      const dest = path.join(dir, 'd');
      const ours = await failure(() => api.copyFile(missing, dest));
      const node = await failure(() => fs.promises.copyFile(missing, dest));
      expect(ours.message).toBe(node.message);
      expect(ours).toMatchObject({ code: 'ENOENT', errno: node.errno, syscall: 'copyfile', path: missing, dest });
      expect(() => api.copyFileSync(missing, dest)).toThrow(node.message);
      expect(fs.existsSync(dest)).toBe(false);
    });

    it('copying a file onto itself is a no-op that keeps its content', async () => {
      await api.copyFile(src, src);
      api.copyFileSync(src, src);
      const link = path.join(dir, 'hardlink');
      fs.linkSync(src, link);
      await api.copyFile(src, link);
      const symlink = path.join(dir, 'symlink');
      fs.symlinkSync('src', symlink);
      await api.copyFile(src, symlink);
      api.copyFileSync(symlink, src);
      await api.copyFile(src, path.join(dir, '..', path.basename(dir), 'src'));
      expect(fingerprint(src)).toEqual(before);
    });

    it('copies an empty file', async () => {
      const empty = path.join(dir, 'empty');
      fs.writeFileSync(empty, '');
      await api.copyFile(empty, path.join(dir, 'd1'));
      api.copyFileSync(empty, path.join(dir, 'd2'));
      expect(fs.statSync(path.join(dir, 'd1')).size).toBe(0);
      expect(fs.statSync(path.join(dir, 'd2')).size).toBe(0);
    });

    it('copies bytes and mode, and overwrites an existing destination', async () => {
      const dest = path.join(dir, 'd');
      fs.writeFileSync(dest, 'old');
      await api.copyFile(src, dest);
      expect(sha256(dest)).toBe(before.hash);
      expect(fs.statSync(dest).mode & 0o7777).toBe(0o640);
      fs.writeFileSync(dest, 'old again');
      api.copyFileSync(src, dest, COPYFILE_FICLONE);
      expect(sha256(dest)).toBe(before.hash);
    });

    it('COPYFILE_EXCL fails with EEXIST and leaves the destination alone', async () => {
      const dest = path.join(dir, 'd');
      fs.writeFileSync(dest, 'keep me');
      const ours = await failure(() => api.copyFile(src, dest, COPYFILE_EXCL));
      const node = await failure(() => fs.promises.copyFile(src, dest, COPYFILE_EXCL));
      expect(ours.message).toBe(node.message);
      expect(ours).toMatchObject({ code: 'EEXIST', syscall: 'copyfile', path: src, dest });
      expect(() => api.copyFileSync(src, dest, COPYFILE_EXCL | COPYFILE_FICLONE)).toThrow(/EEXIST/);
      expect(fs.readFileSync(dest, 'utf8')).toBe('keep me');
      // Onto itself with EXCL: EEXIST, as fs does.
      expect((await failure(() => api.copyFile(src, src, COPYFILE_EXCL))).code).toBe('EEXIST');
    });

    it('truncates a larger existing destination', async () => {
      const dest = path.join(dir, 'd');
      randomFile(dest, 1_000_000);
      await api.copyFile(src, dest);
      expect(fs.statSync(dest).size).toBe(before.size);
      expect(sha256(dest)).toBe(before.hash);
      randomFile(dest, 1_000_001);
      api.copyFileSync(src, dest);
      expect(fs.statSync(dest).size).toBe(before.size);
    });

    it('refuses a read-only destination with EACCES and leaves it as it was', () => {
      const dest = path.join(dir, 'readonly');
      fs.writeFileSync(dest, 'read only');
      fs.chmodSync(dest, 0o444);
      fs.chmodSync(dir, 0o777);
      fs.chmodSync(src, 0o644);
      // root may write anything: run the attempt as nobody.
      const script = `
        const { createApi } = require(${JSON.stringify(path.resolve('dist/api.js'))});
        const backend = ${name === 'native'
          ? `require(${JSON.stringify(path.resolve('dist/native.js'))}).createNativeBackend(require(${JSON.stringify(path.resolve('dist/binding.js'))}).loadBinding({}).binding)`
          : `require(${JSON.stringify(path.resolve('dist/fallback.js'))}).fallbackBackend`};
        const api = createApi(backend);
        // The source is readable: EACCES below is about dest.
        const out = [require('fs').readFileSync(${JSON.stringify(src)}).length];
        try { api.copyFileSync(${JSON.stringify(src)}, ${JSON.stringify(dest)}); out.push('copied'); } catch (e) { out.push(e.code + ' ' + e.syscall); }
        api.copyFile(${JSON.stringify(src)}, ${JSON.stringify(dest)}).then(() => out.push('copied'), (e) => out.push(e.code + ' ' + e.syscall))
          .then(() => console.log(JSON.stringify(out)));
      `;
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', ...asNobody });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual([before.size, 'EACCES copyfile', 'EACCES copyfile']);
      expect(fs.readFileSync(dest, 'utf8')).toBe('read only');
      expect(fs.statSync(dest).mode & 0o777).toBe(0o444);
      fs.chmodSync(src, 0o640);
      before = fingerprint(src);
    });

    it('fails with EISDIR for a directory at either end, like fs', async () => {
      const sub = path.join(dir, 'sub');
      fs.mkdirSync(sub);
      for (const [from, to] of [
        [sub, path.join(dir, 'd')],
        [src, sub],
      ] as const) {
        const ours = await failure(() => api.copyFile(from, to));
        const node = await failure(() => fs.promises.copyFile(from, to));
        expect(ours.message).toBe(node.message);
        expect(ours.code).toBe('EISDIR');
      }
      expect(fs.existsSync(path.join(dir, 'd'))).toBe(false);
    });

    it('fails with ENOENT when the destination directory is missing', async () => {
      const dest = path.join(dir, 'nope', 'd');
      const ours = await failure(() => api.copyFile(src, dest));
      expect(ours.message).toBe((await failure(() => fs.promises.copyFile(src, dest))).message);
    });

    it('takes Buffer, Uint8Array and file: URL paths', async () => {
      await api.copyFile(Buffer.from(src), pathToFileURL(path.join(dir, 'from-buffer')));
      api.copyFileSync(pathToFileURL(src), new TextEncoder().encode(path.join(dir, 'from-url')) as unknown as Buffer);
      expect(sha256(path.join(dir, 'from-buffer'))).toBe(before.hash);
      expect(sha256(path.join(dir, 'from-url'))).toBe(before.hash);
    });

    // APFS and HFS+ refuse names that are not UTF-8 (EILSEQ).
    it.runIf(process.platform === 'linux')('keeps names that are not UTF-8 (Buffer paths)', async () => {
      const name = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x66, 0xff, 0xfe, 0x0a, 0x67])]);
      await api.copyFile(Buffer.from(src), name);
      expect(fs.readFileSync(name).equals(fs.readFileSync(src))).toBe(true);
      const copied = fs.readdirSync(dir, { encoding: 'buffer' }).find((n) => n.includes(0xff));
      expect(copied).toEqual(Buffer.from([0x66, 0xff, 0xfe, 0x0a, 0x67]));
    });

    it('COPYFILE_FICLONE_FORCE on a filesystem without reflink fails with ENOTSUP and writes nothing', async () => {
      // The OS temp dir: ext4 or tmpfs, neither clones.
      const dest = path.join(dir, 'forced');
      const ours = await failure(() => api.copyFile(src, dest, COPYFILE_FICLONE_FORCE));
      expect(ours).toMatchObject({ code: 'ENOTSUP', syscall: 'copyfile', path: src, dest });
      expect(fs.existsSync(dest)).toBe(false);
      expect(() => api.copyFileSync(src, dest, COPYFILE_FICLONE_FORCE)).toThrow(/ENOTSUP/);
      expect(fs.existsSync(dest)).toBe(false);
    });
  });

  describe('clone / cloneSync', () => {
    it('reports the strategy used and the size', async () => {
      const result = await api.clone(src, path.join(dir, 'a'));
      expect(['reflink', 'kernel', 'userspace']).toContain(result.strategy);
      expect(result.bytes).toBe(before.size);
      expect(api.cloneSync(src, path.join(dir, 'b'))).toEqual(result);
      expect(sha256(path.join(dir, 'a'))).toBe(before.hash);
    });

    it('a same-file clone is an error that says so, and the file is intact', async () => {
      const link = path.join(dir, 'hardlink');
      fs.linkSync(src, link);
      fs.symlinkSync(src, path.join(dir, 'symlink'));
      for (const dest of [src, link, path.join(dir, 'symlink'), `${dir}/../${path.basename(dir)}/src`]) {
        const err = await failure(() => api.clone(src, dest));
        expect(err).toMatchObject({ code: 'EINVAL', syscall: 'clone', path: src, dest });
        expect(err.message).toBe(`EINVAL: source and destination are the same file, clone '${src}' -> '${dest}'`);
        expect(() => api.cloneSync(src, dest)).toThrow(/same file/);
      }
    });

    it('overwrite: false fails with EEXIST and keeps the destination', async () => {
      const dest = path.join(dir, 'd');
      fs.writeFileSync(dest, 'keep');
      for (const strategy of ['auto', 'reflink', 'hardlink', 'copy'] as const) {
        const err = await failure(() => api.clone(src, dest, { strategy, overwrite: false }));
        expect(err).toMatchObject({ code: 'EEXIST', path: src, dest });
      }
      expect(fs.readFileSync(dest, 'utf8')).toBe('keep');
    });

    it('hardlink: only when asked, the same inode, replacing a destination atomically', async () => {
      const auto = await api.clone(src, path.join(dir, 'auto'));
      expect(auto.strategy).not.toBe('hardlink');
      expect(fs.statSync(path.join(dir, 'auto')).ino).not.toBe(fs.statSync(src).ino);

      const dest = path.join(dir, 'link');
      fs.writeFileSync(dest, 'old');
      expect(await api.clone(src, dest, { strategy: 'hardlink' })).toEqual({ strategy: 'hardlink', bytes: before.size });
      expect(fs.statSync(dest).ino).toBe(fs.statSync(src).ino);
      expect(fs.statSync(src).nlink).toBe(2);
      expect(fs.readdirSync(dir).filter((n) => n.includes('cowcopy'))).toEqual([]);
      // Through a symlink at src, the file is linked, not the symlink.
      fs.symlinkSync('src', path.join(dir, 'symlink'));
      api.cloneSync(path.join(dir, 'symlink'), path.join(dir, 'link2'), { strategy: 'hardlink' });
      expect(fs.lstatSync(path.join(dir, 'link2')).ino).toBe(fs.statSync(src).ino);
    });

    it("copy: a forced byte copy, never a link or clone", async () => {
      const result = await api.clone(src, path.join(dir, 'copy'), { strategy: 'copy' });
      expect(result).toEqual({ strategy: caps.copyStrategy, bytes: before.size });
      expect(sha256(path.join(dir, 'copy'))).toBe(before.hash);
      expect(fs.statSync(path.join(dir, 'copy')).mode & 0o7777).toBe(0o640);
    });

    it('forced reflink that cannot clone fails clearly and keeps an existing destination', async () => {
      const dest = path.join(dir, 'd');
      fs.writeFileSync(dest, 'precious');
      const err = await failure(() => api.clone(src, dest, { strategy: 'reflink' }));
      expect(err).toMatchObject({ code: 'ENOTSUP', path: src, dest });
      expect(err.message).toMatch(/^ENOTSUP: the filesystem cannot clone this file/);
      expect(fs.readFileSync(dest, 'utf8')).toBe('precious');
      const fresh = path.join(dir, 'fresh');
      expect(() => api.cloneSync(src, fresh, { strategy: 'reflink' })).toThrow(/ENOTSUP/);
      expect(fs.existsSync(fresh)).toBe(false);
      expect(fs.readdirSync(dir).filter((n) => n.includes('cowcopy'))).toEqual([]);
    });

    it('preserves the mode always, and atime/mtime when asked', async () => {
      fs.chmodSync(src, 0o751);
      const atime = new Date('2001-02-03T04:05:06.789Z');
      const mtime = new Date('2002-03-04T05:06:07.891Z');
      fs.utimesSync(src, atime, mtime);
      // Nanoseconds only native code can set: a touch with a full timespec.
      spawnSync('touch', ['-m', '-d', '2003-04-05T06:07:08.123456789Z', src]);
      before = fingerprint(src);
      // After the read above: relatime may have moved atime.
      const st = fs.statSync(src, { bigint: true });

      const kept = path.join(dir, 'kept');
      await api.clone(src, kept, { preserveTimestamps: true });
      const k = fs.statSync(kept, { bigint: true });
      expect(Number(k.mode & 0o7777n)).toBe(0o751);
      // node:fs takes seconds as a double (about 240 ns apart at today's
      // dates) and libuv truncates them to microseconds: up to ~1.2 us off
      // (measured: 1,186 ns at most in 5,000 random times; 4% beyond 1 us).
      const tolerance = caps.nanosecondTimestamps ? 0n : 1500n;
      expect(k.mtimeNs - st.mtimeNs <= tolerance && st.mtimeNs - k.mtimeNs <= tolerance).toBe(true);
      expect(k.atimeNs - st.atimeNs <= tolerance && st.atimeNs - k.atimeNs <= tolerance).toBe(true);
      // As finely as this filesystem keeps times (HFS+: whole seconds).
      if (caps.nanosecondTimestamps) expect(k.mtimeNs % 1_000_000_000n).toBe(truncateTime(123456789n, timeResolution(dir)));

      const fresh = path.join(dir, 'fresh');
      api.cloneSync(src, fresh, { strategy: 'copy' });
      expect(fs.statSync(fresh, { bigint: true }).mtimeNs).not.toBe(st.mtimeNs);
      expect(fs.statSync(fresh).mode & 0o7777).toBe(0o751);
    });

    it('refuses FIFOs at once instead of blocking', async () => {
      const fifo = path.join(dir, 'fifo');
      spawnSync('mkfifo', [fifo]);
      expect(fs.statSync(fifo).isFIFO()).toBe(true);
      const err = await failure(() => api.clone(fifo, path.join(dir, 'd')));
      expect(err).toMatchObject({ code: 'EINVAL', path: fifo });
      expect(fs.existsSync(path.join(dir, 'd'))).toBe(false);
    });

    it('validates options like fs', async () => {
      const dest = path.join(dir, 'd');
      expect((await failure(() => api.clone(src, dest, 'x' as never))).code).toBe('ERR_INVALID_ARG_TYPE');
      const badStrategy = await failure(() => api.clone(src, dest, { strategy: 'fast' as never }));
      expect(badStrategy.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(badStrategy.message).toBe(
        "The property 'options.strategy' must be one of: 'auto', 'reflink', 'hardlink', 'copy'. Received 'fast'",
      );
      const badBool = await failure(() => api.clone(src, dest, { overwrite: 1 as never }));
      expect(badBool.message).toBe('The "options.overwrite" property must be of type boolean. Received type number (1)');
      expect(() => api.cloneSync(src, dest, { preserveTimestamps: 'yes' as never })).toThrow(TypeError);
      expect(fs.existsSync(dest)).toBe(false);
    });
  });

  describe('probe', () => {
    it('names the filesystem and answers by trying', async () => {
      const result = await api.probe(dir);
      expect(result.platform).toBe(process.platform);
      expect(result.native).toBe(name === 'native');
      expect(result.filesystem).toBe(
        ({ 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs' } as Record<number, string>)[
          fs.statfsSync(dir).type
        ] ?? result.filesystem,
      );
      expect(result.hardlink).toBe(true);
      expect(api.probeSync(src)).toEqual(result);
      expect(fs.readdirSync(dir).filter((n) => n.includes('probe'))).toEqual([]);
    });

    it('fails like fs for a missing path', async () => {
      const err = await failure(() => api.probe(path.join(dir, 'missing')));
      expect(err.code).toBe('ENOENT');
      expect(err.path).toBe(path.join(dir, 'missing'));
    });
  });
});

describe('argument errors match node:fs word for word', () => {
  const cases: [string, unknown, unknown][] = [
    ['number src', 1, 'd'],
    ['undefined src', undefined, 'd'],
    ['object dest', 's', {}],
    ['null dest', 's', null],
    ['NUL in src', 'a\u0000b', 'd'],
    ['NUL in Buffer dest', 's', Buffer.from('a\u0000b')],
    ['function src', function named() {}, 'd'],
    ['http URL', new URL('http://example.com/a'), 'd'],
    ['long string', 's', 42n],
  ];
  it.each(cases)('%s', async (_label, from, to) => {
    const node = await failure(() => fs.promises.copyFile(from as string, to as string));
    for (const { api } of backends) {
      const ours = await failure(() => api.copyFile(from as string, to as string));
      expect(ours.code).toBe(node.code);
      expect(ours.message).toBe(node.message);
      expect(ours.constructor).toBe(node.constructor);
      expect(String(ours)).toBe(String(node));
    }
  });
});
