// cp(): the tree contract every platform shares (test/tree-contract.mjs,
// which the Windows node.exe runs too), what only POSIX has (modes under a
// umask, ACLs, FIFOs, sockets, devices), and random trees on the real
// filesystems compared with their source and with fs.promises.cp's copy.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refusesExistingDir } from '../lib/cp.js';
import type { CpOptions } from '../lib/types.js';
import { binding, treeBackends } from './helpers/backends.js';
import { randomFile, sha256, tempDir, failure, timeResolution } from './helpers/files.js';
import { alone, notShared, runsOn, scratchOn, titleOn, type FsName } from './helpers/filesystems.js';
import { describeTree, diffTrees, makeTree, makeWritable } from './helpers/trees.js';
import { fsCpOptions, treeContract } from './tree-contract.mjs';

const root = tempDir('cp');
const hasSetfacl = spawnSync('setfacl', ['--version']).status === 0;
const scratches: string[] = [root];
afterAll(() => {
  for (const dir of scratches) {
    makeWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

treeContract(
  {
    describe,
    beforeEach,
    afterEach,
    test: (name: string, fn: () => Promise<void>, skip?: string | null) => (skip ? it.skip(`${name} (${skip})`, fn) : it(name, fn)),
  },
  {
    backends: treeBackends,
    root,
    noSymlinks: null,
    clones: (await treeBackends[0]!.api.probe(root)).reflink,
    timeResolution: timeResolution(root),
  },
);

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
    await fs.promises.cp(src, node, fsCpOptions(options));
    return { ours, node, result };
  };

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

  it('FIFOs, sockets and devices are errors, at once', async () => {
    spawnSync('mkfifo', [path.join(src, 'sub', 'fifo')]);
    const fifo = await failure(() => api.cp(src, path.join(dir, 'f'), { recursive: true }));
    expect(fifo.code).toBe('ERR_FS_CP_FIFO_PIPE');
    // Named by its source (fs.cp names only the destination, which is never made), the destination as err.dest.
    const [srcFifo, destFifo] = [path.join(src, 'sub', 'fifo'), path.join(dir, 'f', 'sub', 'fifo')];
    expect(fifo.message).toBe(`Cannot copy a FIFO pipe: cp returned EINVAL (cannot copy a FIFO pipe: ${srcFifo}) ${srcFifo} => ${destFifo}`);
    expect(fifo).toMatchObject({ path: srcFifo, dest: destFifo, syscall: 'cp', errno: os.constants.errno.EINVAL });
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

  it('a file over a FIFO or a link to a directory replaces that entry, as fs.cp does', async () => {
    const file = path.join(src, 'a.txt');
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'kept'), 'kept');
    const cases: Record<string, (at: string) => void> = {
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
});

// Random trees on each real filesystem, both backends, against the source
// and against fs.promises.cp. Under qemu (the arm64 prebuild: QEMU_LD_PREFIX
// is qemu-user's), where each tree takes 10-35 s, on xfs only: the native
// runs make the same trees on all three.
const emulated = process.env.QEMU_LD_PREFIX !== undefined;
for (const fsName of ['xfs', 'btrfs', 'ext4'] as FsName[]) {
  const skipEmulated = emulated && fsName !== 'xfs';
  const title = skipEmulated ? `random trees [${fsName}: skipped under qemu, xfs only]` : titleOn(fsName, 'random trees');
  describe.runIf(runsOn(fsName) && !skipEmulated)(title, () => {
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
            const allocated = [...before].filter(([, e]) => e.type === 'file' && e.allocated! > 0);
            expect(notShared(allocated.map(([rel]) => path.join(ours, rel)))).toEqual([]);
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
      await alone('small', async () => {
        const dest = path.join(scratchOn('small', 'enospc-tree'), 'dest');
        try {
          const err = await failure(() => api.cp(src, dest, { recursive: true, concurrency: 1 }));
          expect(err).toMatchObject({ code: 'ENOSPC', syscall: 'copyfile' });
          expect(String(err.path)).toMatch(/\/d\d\/big$/);
          expect(describeTree(src)).toEqual(before);
          // Nothing half-written: every file there is whole.
          for (const [rel, e] of describeTree(dest)) {
            if (e.type === 'file') expect(e.hash).toBe(before.get(rel)!.hash);
          }
        } finally {
          fs.rmSync(path.dirname(dest), { recursive: true, force: true });
        }
      });
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
      errorOnExistingDir: false,
      update: 'all',
      preserve: [],
      special: 'error',
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
  // Still there, still unreadable (not read here: as a user, neither can the test).
  expect(fs.statSync(path.join(src, 'd7', 'f3'))).toMatchObject({ size: 4, mode: fs.constants.S_IFREG });
});

// Over an existing copy, where the filesystem clones (the native walk on
// Linux): a file that is still a clone of its source keeps its inode and
// blocks and gets only what a new copy would; anything else is replaced by
// a new file.
const hasSetfattr = spawnSync('setfattr', ['--version']).status === 0;
for (const fsName of ['xfs', 'btrfs'] as FsName[]) {
  describe.runIf(runsOn(fsName))(titleOn(fsName, 'copying over an existing copy'), () => {
    const { api } = treeBackends.find((b) => b.name === 'native')!;
    it('clones of the source stay, data untouched; changed, linked, regrouped or xattr-holding files are replaced', async () => {
      const base = scratchOn(fsName, 'recopy');
      scratches.push(base);
      const src = path.join(base, 'src');
      makeTree(src, 4, { maxSize: 256 * 1024, readOnly: false });
      const dest = path.join(base, 'dest');
      await api.cp(src, dest, { recursive: true, verbatimSymlinks: true });
      const files = [...describeTree(src)].filter(([, e]) => e.type === 'file' && e.size! > 0).map(([rel]) => rel);
      expect(files.length).toBeGreaterThan(6);
      const [changed, chmodded, xattr, linked, ownBlocks, regrouped] = files as [string, string, string, string, string, string];
      // Another group (as root): a new copy would have ours.
      const asRoot = process.getuid?.() === 0;
      if (asRoot) fs.chownSync(path.join(dest, regrouped), 0, 1);
      fs.writeFileSync(path.join(src, changed), 'changed since');
      fs.chmodSync(path.join(src, chmodded), 0o600);
      if (hasSetfattr) expect(spawnSync('setfattr', ['-n', 'user.mine', '-v', '1', path.join(dest, xattr)]).status).toBe(0);
      fs.linkSync(path.join(dest, linked), path.join(base, 'second-link'));
      // The same bytes in blocks of its own: a new copy would share them.
      fs.writeFileSync(path.join(dest, ownBlocks), fs.readFileSync(path.join(src, ownBlocks)));
      const inode = (rel: string) => fs.statSync(path.join(dest, rel)).ino;
      const before = new Map(files.map((rel) => [rel, inode(rel)]));

      const result = await api.cp(src, dest, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      expect(diffTrees(src, dest)).toEqual([]);
      // Times kept for every file, the ones that stayed too (the directories, merged into, keep their own).
      const copied = describeTree(dest);
      for (const [rel, e] of describeTree(src)) if (e.type === 'file') expect(copied.get(rel)!.mtimeNs, rel).toBe(e.mtimeNs);
      expect(result.strategies.reflink).toBe(result.files);
      // Only Linux asks which blocks files share (the macOS build, run here on emulated calls, replaces all).
      const replaced =
        binding.platform === 'linux' ? [changed, linked, ownBlocks, ...(hasSetfattr ? [xattr] : []), ...(asRoot ? [regrouped] : [])] : files;
      expect(files.filter((rel) => inode(rel) !== before.get(rel)).sort()).toEqual(replaced.sort());
      expect(fs.statSync(path.join(dest, chmodded)).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(base, 'second-link'))).toEqual(fs.readFileSync(path.join(src, linked)));
      if (hasSetfattr) expect(spawnSync('getfattr', ['-d', path.join(dest, xattr)], { encoding: 'utf8' }).stdout).toBe('');
      const allocated = [...describeTree(src)].filter(([, e]) => e.type === 'file' && e.allocated! > 0);
      expect(notShared(allocated.map(([rel]) => path.join(dest, rel)))).toEqual([]);
    });

    it('stopped midway, every file at dest is its old copy or its new one, and nothing else is there', async () => {
      const base = scratchOn(fsName, 'recopy-abort');
      scratches.push(base);
      const src = path.join(base, 'src');
      const files: string[] = [];
      for (let d = 0; d < 8; d++) {
        fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
        for (let f = 0; f < 40; f++) files.push(path.join(`d${d}`, `f${f}`));
      }
      files.forEach((rel, i) => randomFile(path.join(src, rel), 4096 + 997 * i));
      const dest = path.join(base, 'dest');
      await api.cp(src, dest, { recursive: true });
      // Every other file changes in the source (replaced), the rest are still clones (kept).
      const old = new Map(files.map((rel) => [rel, sha256(path.join(dest, rel))]));
      files.forEach((rel, i) => i % 2 === 0 && randomFile(path.join(src, rel), 4096 + 997 * i));
      const fresh = new Map(files.map((rel) => [rel, sha256(path.join(src, rel))]));
      // Stopped from the filter, a third of the way: before the walk can be done.
      const stop = new AbortController();
      let asked = 0;
      const filter = () => (++asked === 110 && stop.abort(), true);
      const err = await failure(() => api.cp(src, dest, { recursive: true, signal: stop.signal, filter }));
      expect(err.name).toBe('AbortError');
      const neither = files.filter((rel) => ![old.get(rel), fresh.get(rel)].includes(sha256(path.join(dest, rel))));
      expect(neither).toEqual([]);
      for (let d = 0; d < 8; d++) expect(fs.readdirSync(path.join(dest, `d${d}`)).sort()).toEqual(fs.readdirSync(path.join(src, `d${d}`)).sort());
    });
  });
}

// The releases each side of every change, as run (lib/cp.ts REFUSING); each
// Node line's own behaviour is the tree contract's test above.
describe('which Node refuses an existing directory with errorOnExist', () => {
  it.each([
    ['20.20.2', false, false],
    ['22.22.0', false, false],
    ['22.22.1', true, false],
    ['22.23.5', true, false],
    ['23.11.1', false, false],
    ['24.13.0', false, false],
    ['24.13.1', true, false],
    ['24.21.0', true, false],
    ['24.22.1', true, true],
    ['25.4.0', false, false],
    ['25.5.0', true, false],
    ['25.9.0', true, false],
    ['26.0.0', true, false],
    ['26.9.0', true, false],
    ['26.10.0', true, true],
    ['v27.1.0', true, true],
  ])('Node %s: fs.cp %s, fs.cpSync %s', (version, async, sync) => {
    expect([refusesExistingDir(version, false), refusesExistingDir(version, true)]).toEqual([async, sync]);
  });
});
