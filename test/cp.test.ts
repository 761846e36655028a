// cp(): fs.promises.cp's contract on both backends, every option, and
// random trees on the real filesystems compared with their source and with
// what fs.promises.cp makes of them.
import { spawnSync } from 'node:child_process';
import fs, { constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { CpOptions } from '../lib/types.js';
import { binding, treeBackends } from './helpers/backends.js';
import { fingerprint, randomFile, sha256, tempDir, failure, timeResolution, truncateTime } from './helpers/files.js';
import { fullyShared, runsOn, scratchOn, titleOn, type FsName } from './helpers/filesystems.js';
import { describeTree, diffTrees, makeTree, makeWritable } from './helpers/trees.js';

const root = tempDir('cp');
const hasSetfacl = spawnSync('setfacl', ['--version']).status === 0;
const scratches: string[] = [root];
afterAll(() => {
  for (const dir of scratches) {
    makeWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});


/** A small fixed tree: files, a subdirectory, relative and absolute links, an empty dir. */
function smallTree(dir: string): void {
  fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'empty'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'alpha');
  fs.writeFileSync(path.join(dir, 'sub', 'b.txt'), 'bravo');
  fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'c.txt'), 'charlie');
  fs.symlinkSync('../a.txt', path.join(dir, 'sub', 'rel-link'));
  fs.symlinkSync('/etc/hostname', path.join(dir, 'abs-link'));
  fs.chmodSync(path.join(dir, 'sub', 'b.txt'), 0o600);
  fs.chmodSync(path.join(dir, 'sub', 'deeper'), 0o750);
}

describe.each(treeBackends)('$name backend', ({ name, api }) => {
  let dir: string;
  let src: string;
  let before: Map<string, unknown>;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(root, `${name}-`));
    src = path.join(dir, 'src');
    smallTree(src);
    before = describeTree(src);
    return () => {
      // Whatever a test did, the source is as it was.
      if (fs.existsSync(src)) expect(describeTree(src)).toEqual(before);
    };
  });

  const cpBoth = async (options: CpOptions, label = 'x') => {
    const ours = path.join(dir, `ours-${label}`);
    const node = path.join(dir, `node-${label}`);
    const result = await api.cp(src, ours, options);
    const { signal: _s, onProgress: _p, strategy: _st, concurrency: _c, ...fsOptions } = options;
    await fs.promises.cp(src, node, fsOptions);
    return { ours, node, result };
  };

  it('copies a tree like fs.cp, counting what it did', async () => {
    const { ours, node, result } = await cpBoth({ recursive: true, verbatimSymlinks: true });
    expect(diffTrees(node, ours)).toEqual([]);
    expect(diffTrees(src, ours)).toEqual([]);
    expect(result).toMatchObject({ files: 3, directories: 4, symlinks: 2, bytes: 17, skipped: 0 });
    expect(result.strategies.kernel + result.strategies.reflink + result.strategies.userspace).toBe(3);
  });

  it("modes come out as the source's whatever the umask, and under a setgid directory", async () => {
    // Modes that a umask strips, that leave the owner out, sticky, read-only.
    fs.mkdirSync(path.join(src, 'modes', 'shut'), { recursive: true });
    fs.mkdirSync(path.join(src, 'modes', 'sticky'));
    fs.mkdirSync(path.join(src, 'modes', 'open'));
    for (const [file, mode] of [['rw-all', 0o666], ['exec', 0o775], ['ro', 0o444], ['private', 0o600]] as const) {
      fs.writeFileSync(path.join(src, 'modes', 'open', file), file);
      fs.chmodSync(path.join(src, 'modes', 'open', file), mode);
    }
    fs.chmodSync(path.join(src, 'modes', 'open'), 0o777);
    fs.chmodSync(path.join(src, 'modes', 'sticky'), 0o1777);
    fs.writeFileSync(path.join(src, 'modes', 'shut', 'inside'), 'filled while read-only');
    fs.chmodSync(path.join(src, 'modes', 'shut'), 0o555);
    before = describeTree(src);
    const same = (copy: string) => expect(diffTrees(src, copy)).toEqual([]);
    // The native walk's shortcut (modes given at creation) is only taken on
    // ext4, xfs, btrfs and tmpfs; in CI this directory is on one of them.
    if (process.env.CI) expect([0xef53, 0x58465342, 0x9123683e, 0x01021994]).toContain(fs.statfsSync(dir).type);

    for (const mask of [0o022, 0o077, 0o000, 0o027]) {
      const old = process.umask(mask);
      try {
        const { ours, node } = await cpBoth({ recursive: true, verbatimSymlinks: true }, `umask-${mask.toString(8)}`);
        same(node);
        same(ours);
      } finally {
        process.umask(old);
      }
    }

    const setgid = path.join(dir, 'setgid');
    fs.mkdirSync(setgid);
    fs.chmodSync(setgid, 0o2775);
    await api.cp(src, path.join(setgid, 'copy'), { recursive: true });
    await fs.promises.cp(src, path.join(setgid, 'node'), { recursive: true, verbatimSymlinks: true });
    same(path.join(setgid, 'node'));
    same(path.join(setgid, 'copy'));
  });

  // A default ACL stands in for the umask in what is created below it.
  // POSIX.1e default ACLs: Linux only (macOS has NFSv4-style ACLs and no setfacl).
  const aclHere = process.platform === 'linux' && (hasSetfacl || Boolean(process.env.CI));
  it.skipIf(!aclHere)(
    `modes come out as the source's under a default ACL${aclHere ? '' : process.platform === 'linux' ? ' (skipped: no setfacl here; apt-get install acl)' : ' (Linux only)'}`,
    async () => {
      fs.chmodSync(path.join(src, 'sub'), 0o777);
      fs.chmodSync(path.join(src, 'a.txt'), 0o664);
      before = describeTree(src);
      const acl = path.join(dir, 'acl');
      fs.mkdirSync(acl);
      const set = spawnSync('setfacl', ['-d', '-m', 'u::rwx,g::---,o::---', acl], { encoding: 'utf8' });
      expect(set.error ?? set.status, set.stderr).toBe(0);
      // What the ACL does to a plain create, which the copies must undo.
      fs.writeFileSync(path.join(acl, 'probe'), '', { mode: 0o664 });
      expect(fs.statSync(path.join(acl, 'probe')).mode & 0o777).toBe(0o600);
      await api.cp(src, path.join(acl, 'copy'), { recursive: true });
      await fs.promises.cp(src, path.join(acl, 'node'), { recursive: true, verbatimSymlinks: true });
      expect(diffTrees(src, path.join(acl, 'node'))).toEqual([]);
      expect(diffTrees(src, path.join(acl, 'copy'))).toEqual([]);
    },
  );

  it('keeps relative link targets by default; verbatimSymlinks: false resolves them as fs.cp does', async () => {
    await api.cp(src, path.join(dir, 'default'), { recursive: true });
    expect(fs.readlinkSync(path.join(dir, 'default', 'sub', 'rel-link'))).toBe('../a.txt');
    expect(fs.readlinkSync(path.join(dir, 'default', 'abs-link'))).toBe('/etc/hostname');
    const { ours, node } = await cpBoth({ recursive: true, verbatimSymlinks: false }, 'resolved');
    expect(fs.readlinkSync(path.join(ours, 'sub', 'rel-link'))).toBe(path.join(src, 'a.txt'));
    expect(diffTrees(node, ours)).toEqual([]);
  });

  it('recursive: false refuses a directory with ERR_FS_EISDIR', async () => {
    const ours = await failure(() => api.cp(src, path.join(dir, 'd')));
    const node = await failure(() => fs.promises.cp(src, path.join(dir, 'd')));
    expect(ours.code).toBe('ERR_FS_EISDIR');
    expect(ours.message).toBe(node.message);
    expect(String(ours)).toBe(String(node));
    expect(ours.info).toEqual(node.info);
    expect(fs.existsSync(path.join(dir, 'd'))).toBe(false);
  });

  it('a single file, and its missing parents', async () => {
    const dest = path.join(dir, 'made', 'on', 'the', 'way.txt');
    const result = await api.cp(path.join(src, 'a.txt'), dest);
    expect(fs.readFileSync(dest, 'utf8')).toBe('alpha');
    expect(result).toMatchObject({ files: 1, directories: 0, bytes: 5 });
  });

  it('force (default): replaces files and links with new ones, merges directories', async () => {
    const dest = path.join(dir, 'dest');
    await api.cp(src, dest, { recursive: true });
    fs.writeFileSync(path.join(dest, 'a.txt'), 'changed');
    fs.writeFileSync(path.join(dest, 'only-in-dest'), 'keep');
    const keptInode = fs.statSync(path.join(dest, 'a.txt')).ino;
    // A hard link elsewhere to the file being replaced must not change.
    fs.linkSync(path.join(dest, 'a.txt'), path.join(dir, 'outside-link'));
    await api.cp(src, dest, { recursive: true });
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('alpha');
    expect(fs.statSync(path.join(dest, 'a.txt')).ino).not.toBe(keptInode);
    expect(fs.readFileSync(path.join(dir, 'outside-link'), 'utf8')).toBe('changed');
    expect(fs.readFileSync(path.join(dest, 'only-in-dest'), 'utf8')).toBe('keep');
    expect(fs.readdirSync(path.join(dest)).filter((n) => n.includes('cowcopy'))).toEqual([]);
  });

  it('force: false skips what exists; errorOnExist makes it an error', async () => {
    const dest = path.join(dir, 'dest');
    await api.cp(src, dest, { recursive: true });
    fs.writeFileSync(path.join(dest, 'a.txt'), 'mine');
    const skipped = await api.cp(src, dest, { recursive: true, force: false });
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('mine');
    expect(skipped.files).toBe(0);
    expect(skipped.skipped).toBeGreaterThanOrEqual(3);
    const err = await failure(() => api.cp(src, dest, { recursive: true, force: false, errorOnExist: true }));
    expect(err.code).toBe('ERR_FS_CP_EEXIST');
    expect(err.message).toMatch(/^Target already exists: cp returned EEXIST \(.* already exists\) /);
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('mine');
  });

  it('dereference: copies what links point to', async () => {
    fs.symlinkSync('sub', path.join(src, 'dir-link'));
    before = describeTree(src);
    const { ours, node } = await cpBoth({ recursive: true, dereference: true }, 'deref');
    expect(fs.lstatSync(path.join(ours, 'sub', 'rel-link')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(ours, 'sub', 'rel-link'), 'utf8')).toBe('alpha');
    expect(fs.lstatSync(path.join(ours, 'dir-link')).isDirectory()).toBe(true);
    expect(diffTrees(node, ours)).toEqual([]);
    const pair = await failure(() => api.cp(src, path.join(dir, 'x'), { dereference: true, verbatimSymlinks: true }));
    expect(pair.code).toBe('ERR_INCOMPATIBLE_OPTION_PAIR');
  });

  it('dereference: a link back to an ancestor is an error, not an endless copy', async () => {
    fs.symlinkSync('..', path.join(src, 'sub', 'up'));
    before = describeTree(src);
    const err = await failure(() => api.cp(src, path.join(dir, 'loop'), { recursive: true, dereference: true }));
    expect(err.code).toBe('ELOOP');
    expect(err.message).toMatch(/leads back into its own ancestor/);
  });

  it('preserveTimestamps: files and the directories it creates', async () => {
    fs.utimesSync(path.join(src, 'sub'), new Date('2001-01-01T00:00:00.123Z'), new Date('2002-02-02T00:00:00.456Z'));
    fs.utimesSync(path.join(src, 'a.txt'), new Date('2003-03-03T00:00:00Z'), new Date('2004-04-04T00:00:00.789Z'));
    before = describeTree(src);
    const { ours, node } = await cpBoth({ recursive: true, preserveTimestamps: true, verbatimSymlinks: true }, 'times');
    expect(diffTrees(node, ours, { timestamps: 'ms' })).toEqual([]);
    // As finely as this filesystem keeps times (HFS+: whole seconds).
    const kept = new Date(Number(truncateTime(1012608000456000000n, timeResolution(dir)) / 1_000_000n));
    expect(fs.statSync(path.join(ours, 'sub')).mtime.toISOString()).toBe(kept.toISOString());
    const plain = path.join(dir, 'plain');
    await api.cp(src, plain, { recursive: true });
    expect(fs.statSync(path.join(plain, 'a.txt')).mtime.getFullYear()).toBeGreaterThan(2020);
  });

  it('filter: sync, async, per entry, with fs.cp paths; a throw rejects the copy', async () => {
    const seen: [string, string][] = [];
    const dest = path.join(dir, 'filtered');
    const result = await api.cp(src, dest, {
      recursive: true,
      filter: (s, d) => {
        seen.push([s, d]);
        return !s.endsWith('b.txt') && path.basename(s) !== 'deeper';
      },
    });
    expect(seen).toContainEqual([src, dest]);
    expect(seen).toContainEqual([path.join(src, 'sub', 'b.txt'), path.join(dest, 'sub', 'b.txt')]);
    expect(seen.some(([s]) => s.endsWith('c.txt'))).toBe(false); // below a filtered directory
    expect(fs.existsSync(path.join(dest, 'sub', 'b.txt'))).toBe(false);
    expect(fs.existsSync(path.join(dest, 'sub', 'deeper'))).toBe(false);
    expect(result.skipped).toBe(2);

    await api.cp(src, path.join(dir, 'async'), { recursive: true, filter: async (s) => !s.endsWith('a.txt') });
    expect(fs.existsSync(path.join(dir, 'async', 'a.txt'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'async', 'sub', 'b.txt'))).toBe(true);

    const boom = new Error('filter says no');
    const err = await failure(() =>
      api.cp(src, path.join(dir, 'throws'), {
        recursive: true,
        filter: (s) => {
          if (s.endsWith('c.txt')) throw boom;
          return true;
        },
      }),
    );
    expect(err).toBe(boom);
    expect((await api.cp(src, path.join(dir, 'none'), { recursive: true, filter: () => false })).skipped).toBe(1);
    expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
  });

  it('mode: COPYFILE_FICLONE_FORCE where nothing clones fails the copy', async () => {
    const err = await failure(() => api.cp(src, path.join(dir, 'forced'), { recursive: true, mode: constants.COPYFILE_FICLONE_FORCE }));
    expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'copyfile' });
    const bad = await failure(() => api.cp(src, path.join(dir, 'x'), { mode: 8 }));
    expect(bad.code).toBe('ERR_OUT_OF_RANGE');
  });

  it('strategy: hardlink links every file; copy never clones', async () => {
    const linked = await api.cp(src, path.join(dir, 'linked'), { recursive: true, strategy: 'hardlink' });
    expect(linked.strategies.hardlink).toBe(3);
    expect(fs.statSync(path.join(dir, 'linked', 'a.txt')).ino).toBe(fs.statSync(path.join(src, 'a.txt')).ino);
    const copied = await api.cp(src, path.join(dir, 'copied'), { recursive: true, strategy: 'copy' });
    expect(copied.strategies.reflink + copied.strategies.hardlink).toBe(0);
    expect(diffTrees(src, path.join(dir, 'copied'))).toEqual([]);
  });

  it('concurrency and onProgress', async () => {
    const big = path.join(dir, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(big, `f${i}`), `${i}`);
    const progress: { files: number; bytes: number }[] = [];
    const result = await api.cp(big, path.join(dir, 'big-copy'), { recursive: true, concurrency: 1, onProgress: (p) => progress.push(p) });
    expect(result.files).toBe(300);
    expect(progress.at(-1)).toEqual({ files: 300, bytes: result.bytes });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.files).toBeGreaterThanOrEqual(progress[i - 1]!.files);
    for (const concurrency of [0, 0.5, -1, 65]) {
      const bad = await failure(() => api.cp(src, path.join(dir, 'x'), { recursive: true, concurrency }));
      expect(bad.code).toBe('ERR_OUT_OF_RANGE');
      expect(bad.message).toContain('an integer >= 1 && <= 64');
      expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    }
  });

  it('errors before anything is written: same path, dest inside src, missing src', async () => {
    const same = await failure(() => api.cp(src, src, { recursive: true }));
    expect(same.code).toBe('ERR_FS_CP_EINVAL');
    expect(same.message).toBe((await failure(() => fs.promises.cp(src, src, { recursive: true }))).message);
    const inside = path.join(src, 'sub', 'copy');
    const sub = await failure(() => api.cp(src, inside, { recursive: true }));
    expect(sub.message).toBe(`Invalid src or dest: cp returned EINVAL (cannot copy ${src} to a subdirectory of self ${inside}) ${inside}`);
    expect(fs.existsSync(inside)).toBe(false);
    const missing = await failure(() => api.cp(path.join(dir, 'nope'), path.join(dir, 'd'), { recursive: true }));
    expect(missing).toMatchObject({ code: 'ENOENT', syscall: 'lstat', path: path.join(dir, 'nope') });
    expect(fs.existsSync(path.join(dir, 'd'))).toBe(false);
  });

  it('directory over file and file over directory: fs.cp errors', async () => {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    const a = await failure(() => api.cp(src, path.join(dir, 'file'), { recursive: true }));
    expect(a.code).toBe('ERR_FS_CP_DIR_TO_NON_DIR');
    const b = await failure(() => api.cp(path.join(src, 'a.txt'), path.join(src, 'sub')));
    expect(b.code).toBe('ERR_FS_CP_NON_DIR_TO_DIR');
    // And inside a tree.
    const dest = path.join(dir, 'dest');
    fs.mkdirSync(path.join(dest, 'a.txt'), { recursive: true });
    const c = await failure(() => api.cp(src, dest, { recursive: true }));
    expect(c.code).toBe('ERR_FS_CP_NON_DIR_TO_DIR');
    expect(c.message).toBe(
      `Cannot overwrite directory with non-directory: cp returned ENOTDIR (cannot overwrite directory ${path.join(dest, 'a.txt')} with non-directory ${path.join(src, 'a.txt')}) ${path.join(dest, 'a.txt')}`,
    );
  });

  it('a symlink at dest is never written through', async () => {
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    const dest = path.join(dir, 'dest');
    fs.mkdirSync(dest);
    fs.symlinkSync(outside, path.join(dest, 'sub'));
    const err = await failure(() => api.cp(src, dest, { recursive: true }));
    expect(err.code).toBe('ERR_FS_CP_DIR_TO_NON_DIR');
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('FIFOs, sockets and devices are errors, at once', async () => {
    spawnSync('mkfifo', [path.join(src, 'sub', 'fifo')]);
    const fifo = await failure(() => api.cp(src, path.join(dir, 'f'), { recursive: true }));
    expect(fifo.code).toBe('ERR_FS_CP_FIFO_PIPE');
    expect(fifo.message).toBe(`Cannot copy a FIFO pipe: cp returned EINVAL (cannot copy a FIFO pipe: ${path.join(dir, 'f', 'sub', 'fifo')}) ${path.join(dir, 'f', 'sub', 'fifo')}`);
    fs.rmSync(path.join(src, 'sub', 'fifo'));

    const server = net.createServer().listen(path.join(src, 'sock'));
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      expect((await failure(() => api.cp(src, path.join(dir, 's'), { recursive: true }))).code).toBe('ERR_FS_CP_SOCKET');
    } finally {
      server.close();
    }
    if (fs.existsSync(path.join(src, 'sock'))) fs.rmSync(path.join(src, 'sock'));
    expect((await failure(() => api.cp('/dev/null', path.join(dir, 'null')))).code).toBe('ERR_FS_CP_UNKNOWN');
    before = describeTree(src);
  });

  it('an AbortSignal: AbortError, before or during', async () => {
    const aborted = AbortSignal.abort(new Error('no thanks'));
    const err = await failure(() => api.cp(src, path.join(dir, 'x'), { recursive: true, signal: aborted }));
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);

    const wide = path.join(dir, 'wide');
    for (let d = 0; d < 40; d++) {
      fs.mkdirSync(path.join(wide, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(wide, `d${d}`, `f${f}`), 'x'.repeat(f));
    }
    const controller = new AbortController();
    let seenFiles = 0;
    const during = await failure(() =>
      api.cp(wide, path.join(dir, 'wide-copy'), {
        recursive: true,
        concurrency: 1,
        // Abort from inside the walk: after the first directories are done.
        filter: () => {
          if (++seenFiles === 300) controller.abort();
          return true;
        },
        signal: controller.signal,
      }),
    );
    expect(during).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    const copied = fs.readdirSync(path.join(dir, 'wide-copy'), { recursive: true }).length;
    expect(copied).toBeLessThan(4040);
  });

  it('an abort while the top-level checks wait: AbortError, nothing written', async () => {
    const controller = new AbortController();
    const err = await failure(() =>
      api.cp(src, path.join(dir, 'later', 'x'), {
        recursive: true,
        signal: controller.signal,
        filter: async () => {
          controller.abort();
          return true;
        },
      }),
    );
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(fs.existsSync(path.join(dir, 'later'))).toBe(false);
  });

  it('a file over a symlink or a FIFO replaces that entry, as fs.cp does, never what it leads to', async () => {
    const file = path.join(src, 'a.txt');
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    const cases: Record<string, (at: string) => void> = {
      dangling: (at) => fs.symlinkSync(path.join(outside, 'made'), at),
      'to src': (at) => fs.symlinkSync(file, at),
      'to a file': (at) => {
        fs.writeFileSync(path.join(outside, 'kept'), 'kept');
        fs.symlinkSync(path.join(outside, 'kept'), at);
      },
      'to a dir': (at) => fs.symlinkSync(outside, at),
      fifo: (at) => spawnSync('mkfifo', [at]),
    };
    for (const [label, make] of Object.entries(cases)) {
      for (const who of ['ours', 'node']) make(path.join(dir, `${who}-${label}`));
      await api.cp(file, path.join(dir, `ours-${label}`));
      await fs.promises.cp(file, path.join(dir, `node-${label}`));
      for (const who of ['ours', 'node']) {
        const at = path.join(dir, `${who}-${label}`);
        expect(fs.lstatSync(at).isFile(), `${who} ${label}`).toBe(true);
        expect(fs.readFileSync(at, 'utf8')).toBe('alpha');
      }
    }
    expect(fs.readdirSync(outside)).toEqual(['kept']);
    expect(fs.readFileSync(path.join(outside, 'kept'), 'utf8')).toBe('kept');
  });

  it('dereference: a destination that is a symlink to a directory is copied into, as fs.cp does', async () => {
    for (const who of ['ours', 'node']) {
      fs.mkdirSync(path.join(dir, `${who}-real`));
      fs.symlinkSync(path.join(dir, `${who}-real`), path.join(dir, `${who}-link`));
    }
    await api.cp(src, path.join(dir, 'ours-link'), { recursive: true, dereference: true });
    await fs.promises.cp(src, path.join(dir, 'node-link'), { recursive: true, dereference: true });
    expect(fs.lstatSync(path.join(dir, 'ours-link')).isSymbolicLink()).toBe(true);
    expect(diffTrees(path.join(dir, 'node-real'), path.join(dir, 'ours-real'))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'ours-real', 'sub', 'b.txt'), 'utf8')).toBe('bravo');
  });

  it('options are validated as fs.cp validates them', async () => {
    const modes = [1.5, NaN, Infinity, 8, -1, '1'].map((mode) => ({ mode }));
    for (const bad of [{ recursive: 1 }, { force: 'yes' }, { filter: 1 }, { recursive: undefined }, null, 'x', ...modes]) {
      const ours = await failure(() => api.cp(src, path.join(dir, 'v'), bad as CpOptions));
      const node = await failure(() => fs.promises.cp(src, path.join(dir, 'v'), bad as never));
      expect(ours.code).toBe(node.code);
      expect(ours.message).toBe(node.message);
    }
    const strategy = await failure(() => api.cp(src, path.join(dir, 'v'), { strategy: 'fast' as never }));
    expect(strategy.code).toBe('ERR_INVALID_ARG_VALUE');
    const signal = await failure(() => api.cp(src, path.join(dir, 'v'), { signal: {} as AbortSignal }));
    expect(signal.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(fs.existsSync(path.join(dir, 'v'))).toBe(false);
  });
});

// Random trees on each real filesystem, both backends, against the source
// and against fs.promises.cp.
for (const fsName of ['xfs', 'btrfs', 'ext4'] as FsName[]) {
  describe.runIf(runsOn(fsName))(titleOn(fsName, 'random trees'), () => {
    describe.each(treeBackends)('$name backend', ({ name, api }) => {
      for (const seed of [1, 2, 3]) {
        it(`seed ${seed}`, async () => {
          const base = scratchOn(fsName, `tree-${name}-${seed}`);
          scratches.push(base);
          const src = path.join(base, 'src');
          makeTree(src, seed, { maxSize: seed === 3 ? 3 * 1024 * 1024 : 256 * 1024 });
          const before = describeTree(src);
          const options: CpOptions = { recursive: true, preserveTimestamps: seed !== 2, verbatimSymlinks: true };
          const ours = path.join(base, 'ours');
          const result = await api.cp(src, ours, options);
          expect(diffTrees(src, ours, { timestamps: seed !== 2 && name === 'native' ? 'ns' : undefined })).toEqual([]);
          const node = path.join(base, 'node');
          await fs.promises.cp(src, node, options);
          expect(diffTrees(node, ours, { timestamps: seed !== 2 ? 'ms' : undefined })).toEqual([]);
          expect(describeTree(src)).toEqual(before);

          const files = [...before.values()].filter((e) => e.type === 'file');
          expect(result.files).toBe(files.length);
          if (fsName !== 'ext4') {
            expect(result.strategies.reflink).toBe(files.length);
            // Clones, really: every non-empty file shares its blocks.
            for (const [rel, e] of before) {
              if (e.type === 'file' && e.allocated! > 0) expect(fullyShared(path.join(ours, rel))).toBe(true);
            }
          } else {
            expect(result.strategies.kernel).toBe(files.length);
            if (name === 'native') {
              // Holes stay holes.
              const copied = describeTree(ours);
              for (const [rel, e] of before) {
                if (e.type === 'file') expect(copied.get(rel)!.allocated!).toBeLessThanOrEqual(e.allocated! + 64 * 1024);
              }
            }
          }
        });
      }
    });
  });
}

describe.runIf(runsOn('small') && runsOn('ext4'))(titleOn('small', 'cp out of space'), () => {
  describe.each(treeBackends)('$name backend', ({ api }) => {
    it('ENOSPC mid-tree: a clear error, no partial file, the source intact', async () => {
      const from = scratchOn('ext4', 'enospc-tree');
      scratches.push(from);
      const src = path.join(from, 'src');
      for (let d = 0; d < 6; d++) {
        fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
        randomFile(path.join(src, `d${d}`, 'big'), 4 * 1024 * 1024);
      }
      const before = describeTree(src);
      const dest = path.join(scratchOn('small', 'enospc-tree'), 'dest');
      scratches.push(path.dirname(dest));
      const err = await failure(() => api.cp(src, dest, { recursive: true, concurrency: 1 }));
      expect(err).toMatchObject({ code: 'ENOSPC', syscall: 'copyfile' });
      expect(String(err.path)).toMatch(/\/d\d\/big$/);
      expect(describeTree(src)).toEqual(before);
      // Nothing half-written: every file there is whole.
      for (const [rel, e] of describeTree(dest)) {
        if (e.type === 'file') expect(e.hash).toBe(before.get(rel)!.hash);
      }
    });
  });
});

// Linux: 120 levels of names are longer than macOS's PATH_MAX for the test's own mkdir.
it('a whole-directory clone where the OS has none (Linux): nothing made, the walk copies', async () => {
  const base = tempDir('whole');
  scratches.push(base);
  smallTree(path.join(base, 'src'));
  const handle = binding.copyTree(
    path.join(base, 'src'),
    path.join(base, 'dest'),
    {
      request: 'auto',
      preserveTimestamps: false,
      noKernelCopy: false,
      force: true,
      errorOnExist: false,
      dereference: false,
      verbatimSymlinks: true,
      destExists: false,
      concurrency: 0,
      srcAbsolute: Buffer.from(path.join(base, 'src')),
      destAbsolute: Buffer.from(path.join(base, 'dest')),
      wholeClone: true,
    },
    null,
    null,
  );
  if (!('promise' in handle)) throw new Error(`no walk: ${handle.syscall} ${handle.errno}`);
  expect(await handle.promise).toMatchObject({ errno: 0, kind: 'system', files: 3, directories: 4, symlinks: 2 });
  expect(diffTrees(path.join(base, 'src'), path.join(base, 'dest'))).toEqual([]);
});

it.runIf(process.platform === 'linux')('runs with 256 descriptors on a deep and wide tree', () => {
  const base = tempDir('ulimit');
  scratches.push(base);
  let deep = path.join(base, 'src');
  for (let i = 0; i < 120; i++) deep = path.join(deep, `level-${i}`);
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(deep, 'bottom'), 'deep');
  for (let d = 0; d < 50; d++) {
    fs.mkdirSync(path.join(base, 'src', `wide-${d}`));
    for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(base, 'src', `wide-${d}`, `f${f}`), 'w');
  }
  const script = `require(${JSON.stringify(path.resolve('dist/index.js'))})
    .cp(${JSON.stringify(path.join(base, 'src'))}, ${JSON.stringify(path.join(base, 'dest'))}, { recursive: true, concurrency: 16 })
    .then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
  const run = spawnSync('bash', ['-c', `ulimit -n 256 && exec "${process.execPath}" -e '${script.replace(/'/g, "'\\''")}'`], {
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toMatchObject({ files: 1001, directories: 171 });
  expect(diffTrees(path.join(base, 'src'), path.join(base, 'dest'))).toEqual([]);
});

it('an unreadable file mid-tree: the error names it, the walk stops, nothing pre-existing is touched', () => {
  const base = tempDir('eacces');
  scratches.push(base);
  fs.chmodSync(base, 0o755);
  const src = path.join(base, 'src');
  for (let d = 0; d < 20; d++) {
    fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(src, `d${d}`, `f${f}`), 'data');
  }
  fs.chmodSync(path.join(src, 'd7', 'f3'), 0o000);
  const dest = path.join(base, 'dest');
  fs.mkdirSync(dest, { mode: 0o777 });
  fs.chmodSync(dest, 0o777);
  fs.mkdirSync(path.join(dest, 'd0'), { mode: 0o777 });
  fs.chmodSync(path.join(dest, 'd0'), 0o777);
  fs.writeFileSync(path.join(dest, 'd0', 'f0'), 'pre-existing');
  fs.chmodSync(path.join(dest, 'd0', 'f0'), 0o666);
  const results: Record<string, unknown>[] = [];
  for (const disable of ['', '1']) {
    const script = `require(${JSON.stringify(path.resolve('dist/index.js'))})
      .cp(${JSON.stringify(src)}, ${JSON.stringify(dest)}, { recursive: true, force: false })
      .then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, syscall: e.syscall, path: e.path, message: e.message })));`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, COWCOPY_DISABLE_NATIVE: disable },
      ...asNobody,
    });
    expect(run.stderr).toBe('');
    results.push(JSON.parse(run.stdout));
  }
  for (const r of results) {
    expect(r).toMatchObject({ code: 'EACCES', syscall: 'copyfile', path: path.join(src, 'd7', 'f3') });
  }
  expect(fs.readFileSync(path.join(dest, 'd0', 'f0'), 'utf8')).toBe('pre-existing');
  expect(fs.existsSync(path.join(dest, 'd7', 'f3'))).toBe(false);
  expect(sha256(path.join(src, 'd0', 'f0'))).toBe(sha256(path.join(src, 'd1', 'f0')));
  expect(fingerprint(path.join(src, 'd7', 'f3')).size).toBe(4);
});
