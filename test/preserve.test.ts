// preserve and special (issue #18's agreed semantics): a tree with every
// kind of entry and attribute, copied by `cp -a` and by cp() with preserve
// 'all', compared entry by entry on ext4, xfs and btrfs; hard-link groups
// (counted once, kept over an existing copy, never half-replaced when the
// disk fills); symlink and merged-directory attributes; FIFOs, sockets and
// devices skipped or made again; and what the node:fs walk cannot do
// (xattrs, mknod) refused as 'unsupported'.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusesExistingDir } from '../lib/cp.js';
import type { CpOptions, TreeResult } from '../lib/types.js';
import { binding, treeBackends, type BackendUnderTest } from './helpers/backends.js';
import { failure, randomFile, sha256 } from './helpers/files.js';
import { alone, runsOn, scratchOn, titleOn, type FsName } from './helpers/filesystems.js';
import { diffSnapshots, restoreTimes, setTimes, snapshotTree, type EntryAttributes } from './helpers/tree-attributes.js';
import { makeWritable } from './helpers/trees.js';

const asRoot = process.geteuid?.() === 0;
const linux = process.platform === 'linux';
const tools = ['getfattr', 'setfattr', 'getfacl', 'setfacl'].filter((t) => spawnSync(t, ['--version']).status !== 0);
// In CI the tools are installed: a missing one fails there, as a missing filesystem does.
const toolsHere = linux && (tools.length === 0 || Boolean(process.env.CI));
const whyNot = !linux ? 'Linux only' : `no ${tools.join(', ')} here: apt-get install attr acl`;

const scratches: string[] = [];
afterAll(() => {
  for (const dir of scratches) {
    makeWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function run(command: string, ...args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`);
}

/** Old times with nanoseconds, each entry one of them: [atime, mtime]. */
const OLD_TIMES: [bigint, bigint][] = [0, 1, 2, 3, 4].map((i) => {
  const mtime = (1_000_000_000n + BigInt(i) * 86_400n) * 1_000_000_000n + 123_456_789n + BigInt(i) * 1_111n;
  return [mtime + 3_600_000_000_000n + 987_654_321n - BigInt(i), mtime];
});

/** Every path below root ('' for root), a directory's before its own. */
function pathsBelow(root: string): string[] {
  const out = [''];
  const visit = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = rel === '' ? e.name : path.join(rel, e.name);
      out.push(child);
      if (e.isDirectory()) visit(child);
    }
  };
  visit('');
  return out;
}

/** Gives every entry below root (root too, symlinks their own) one of OLD_TIMES. */
function ageTree(root: string): void {
  const times = new Map<string, { atimeNs: bigint; mtimeNs: bigint }>();
  pathsBelow(root).forEach((rel, i) => {
    const [atimeNs, mtimeNs] = OLD_TIMES[i % OLD_TIMES.length]!;
    times.set(rel, { atimeNs, mtimeNs });
  });
  restoreTimes(root, times);
}

// A capability (VFS_CAP_REVISION_2, effective): cap_net_raw+ep.
const CAPABILITY = '0x0100000200200000000000000000000000000000';

interface TreeKinds {
  /** user.* and trusted.* xattrs, ACLs, a capability. */
  xattrs: boolean;
  /** A FIFO. */
  fifo: boolean;
}

/**
 * The tree `cp -a` is compared on: a few hundred files in six directories
 * with hard-link groups in one directory and across them (more files than
 * the native walk's batches of 64, for its threads), modes (setuid, setgid,
 * sticky, read-only), symlinks of every kind, as root entries of other
 * owners; xattrs, ACLs (a default one too) and a capability; a FIFO; old
 * times everywhere, set last.
 */
function makePreserveTree(root: string, kinds: TreeKinds): void {
  const many = path.join(root, 'many');
  for (let d = 0; d < 6; d++) fs.mkdirSync(path.join(many, `d${d}`), { recursive: true });
  for (let d = 0; d < 6; d++) {
    for (let i = 0; i < 60; i++) {
      const file = path.join(many, `d${d}`, `f${i}`);
      const size = i % 20 === 19 ? 70_000 + i : ((d * 60 + i) * 37) % 5000;
      fs.writeFileSync(file, Buffer.concat([Buffer.from(`d${d}/f${i}\n`), Buffer.alloc(size, (d * 60 + i) % 251)]));
      if (i % 7 === 0) fs.linkSync(file, path.join(many, `d${d}`, `f${i}-same`));
      if (i % 11 === 0) fs.linkSync(file, path.join(many, `d${(d + 1) % 6}`, `x${d}-${i}`));
    }
  }
  // Four names of one file, in three directories and the root.
  for (const other of ['d3/t1', 'd5/t2']) fs.linkSync(path.join(many, 'd0', 'f1'), path.join(many, other));
  fs.linkSync(path.join(many, 'd0', 'f1'), path.join(root, 'top-link'));
  // A group of read-only names.
  fs.chmodSync(path.join(many, 'd2', 'f22'), 0o444);
  fs.linkSync(path.join(many, 'd2', 'f22'), path.join(many, 'd4', 'ro-link'));

  const modes = path.join(root, 'modes');
  fs.mkdirSync(path.join(modes, 'readonly'), { recursive: true });
  fs.mkdirSync(path.join(modes, 'sticky'));
  fs.mkdirSync(path.join(modes, 'private'));
  fs.writeFileSync(path.join(modes, 'readonly', 'inside'), 'in a read-only directory');
  fs.writeFileSync(path.join(modes, 'sticky', 'inside'), 'in a sticky directory');
  for (const [name, mode] of [['setuid', 0o4755], ['setgid', 0o2755], ['ro', 0o444], ['exec', 0o750]] as const) {
    const file = path.join(modes, name);
    fs.writeFileSync(file, `#!/bin/sh\necho ${name}\n`);
    // Another owner first (chown clears setuid), the mode after.
    if (asRoot && name !== 'ro') fs.chownSync(file, 1234, 5678);
    fs.chmodSync(file, mode);
  }
  fs.chmodSync(path.join(modes, 'sticky'), 0o1777);
  fs.chmodSync(path.join(modes, 'private'), 0o700);

  const links = path.join(root, 'links');
  fs.mkdirSync(links);
  fs.symlinkSync('../modes/exec', path.join(links, 'relative'));
  fs.symlinkSync('/etc/hostname', path.join(links, 'absolute'));
  fs.symlinkSync('nowhere', path.join(links, 'dangling'));
  fs.symlinkSync('../modes', path.join(links, 'to-dir'));
  if (asRoot) {
    fs.lchownSync(path.join(links, 'relative'), 4321, 8765);
    fs.mkdirSync(path.join(root, 'owned'));
    fs.writeFileSync(path.join(root, 'owned', 'file'), 'owned by another');
    fs.chownSync(path.join(root, 'owned', 'file'), 1234, 5678);
    fs.chownSync(path.join(root, 'owned'), 1234, 5678);
  }

  if (kinds.xattrs) {
    const attrs = path.join(root, 'attrs');
    fs.mkdirSync(path.join(attrs, 'acl-dir'), { recursive: true });
    for (const name of ['colored', 'acl-file']) fs.writeFileSync(path.join(attrs, name), name);
    run('setfattr', '-n', 'user.color', '-v', 'blue', path.join(attrs, 'colored'));
    run('setfattr', '-n', 'user.binary', '-v', '0x00ff017f', path.join(attrs, 'colored'));
    run('setfattr', '-n', 'user.on-dir', '-v', 'yes', attrs);
    // A hard-linked file with an xattr: the inode's, once.
    run('setfattr', '-n', 'user.linked', '-v', 'group', path.join(many, 'd1', 'f0'));
    run('setfacl', '-m', 'u:1234:rw-,g:5678:r--', path.join(attrs, 'acl-file'));
    run('setfacl', '-m', 'u:1234:rwx', path.join(attrs, 'acl-dir'));
    run('setfacl', '-d', '-m', 'u:1234:r-x,g::r-x,o::---', path.join(attrs, 'acl-dir'));
    // Made after the default ACL: inherits it.
    fs.writeFileSync(path.join(attrs, 'acl-dir', 'inherited'), 'inherited');
    if (asRoot) {
      run('setfattr', '-n', 'trusted.mine', '-v', 'root only', path.join(attrs, 'colored'));
      const capped = path.join(attrs, 'capped');
      fs.writeFileSync(capped, '#!/bin/sh\n');
      fs.chownSync(capped, 1234, 5678);
      fs.chmodSync(capped, 0o755);
      run('setfattr', '-n', 'security.capability', '-v', CAPABILITY, capped);
    }
  }
  if (kinds.fifo) {
    fs.mkdirSync(path.join(root, 'special'));
    run('mkfifo', '-m', '0640', path.join(root, 'special', 'fifo'));
  }
  fs.chmodSync(path.join(modes, 'readonly'), 0o555);
  ageTree(root);
}

/** What a copy of `tree` (its snapshot) must count: every name of a file, each inode's bytes once. */
function expectedCounts(tree: Map<string, EntryAttributes>): Omit<TreeResult, 'strategies' | 'skipped'> & { hardlinks: number } {
  const entries = [...tree.values()];
  const files = entries.filter((e) => e.type === 'file');
  const inodes = new Map(files.map((e) => [e.ino, e.size!]));
  return {
    files: files.length,
    directories: entries.filter((e) => e.type === 'dir').length,
    symlinks: entries.filter((e) => e.type === 'symlink').length,
    bytes: [...inodes.values()].reduce((a, b) => a + b, 0),
    specials: entries.filter((e) => !['file', 'dir', 'symlink'].includes(e.type)).length,
    hardlinks: files.length - inodes.size,
  };
}

/** The two forms cp() comes in, as one async call. */
const FORMS = ['cp', 'cpSync'] as const;
type Form = (typeof FORMS)[number];
function copy(b: BackendUnderTest, form: Form, src: string, dest: string, options: CpOptions): Promise<TreeResult> {
  return form === 'cp' ? b.api.cp(src, dest, options) : Promise.resolve().then(() => b.api.cpSync(src, dest, options));
}

/**
 * node:fs sets times as a double of seconds (a few hundred ns off) that
 * libuv cuts to the microsecond: up to 1.3 µs behind. Only the addon's walk
 * sets every time exactly.
 */
const slackOf = (b: BackendUnderTest): bigint => (b.name === 'native' ? 0n : 2000n);

/** The walks that have no xattr or mknod calls (node:fs): everything but the native walk. */
/** In base: src with 'a' and 'b', two names of one file ('source data'), and dest holding a file of its own ('was there') as `there`. */
function linkedPair(base: string, there: 'a' | 'b'): { src: string; dest: string } {
  const src = path.join(base, 'src');
  const dest = path.join(base, 'dest');
  fs.mkdirSync(src);
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(src, 'a'), 'source data');
  fs.linkSync(path.join(src, 'a'), path.join(src, 'b'));
  fs.writeFileSync(path.join(dest, there), 'was there');
  return { src, dest };
}

/**
 * Whether cp() with preserveTimestamps clones a whole new directory in one
 * call there: the addon built for macOS (test/macos-build.test.ts runs this
 * suite on it) on a volume whose stand-in clonefile clones.
 */
const wholeClone = (b: BackendUnderTest, fsName: FsName): boolean => b.name === 'native' && binding.platform === 'darwin' && fsName !== 'ext4';
const jsWalk = (b: BackendUnderTest): boolean => b.name !== 'native';
/** No mknod: node:fs's (the JavaScript walk over the addon's copies makes special files with the addon). */
const noMknod = (b: BackendUnderTest): boolean => b.name === 'fallback';

// The comparator itself, first: the same tree twice is the same, and one
// thing broken is found, whatever it is.
describe.runIf(runsOn('ext4') && toolsHere)(titleOn('ext4', 'the tree comparator') + (toolsHere ? '' : ` (skipped: ${whyNot})`), () => {
  let base: string;
  let src: string;
  let source: Map<string, EntryAttributes>;
  beforeAll(() => {
    base = scratchOn('ext4', 'compare');
    scratches.push(base);
    src = path.join(base, 'src');
    makePreserveTree(src, { xattrs: true, fifo: true });
    source = snapshotTree(src);
    restoreTimes(src, source);
  });
  const cpA = (label: string): string => {
    const dest = path.join(base, label);
    run('cp', '-a', src, dest);
    restoreTimes(src, source);
    return dest;
  };

  it('finds cp -a and cp -a the same, and cp -a the same as its source', () => {
    // Each snapshot once: taking one reads the tree, which moves its atimes.
    const [one, two] = [snapshotTree(cpA('one')), snapshotTree(cpA('two'))];
    expect(diffSnapshots(one, two)).toEqual([]);
    expect(diffSnapshots(source, one)).toEqual([]);
    // What there is to compare is there.
    expect(source.get(path.join('attrs', 'colored'))!.xattrs).toMatchObject({ 'user.color': '0x626c7565' });
    expect(Object.keys(source.get(path.join('attrs', 'acl-dir'))!.xattrs).sort()).toEqual(['system.posix_acl_access', 'system.posix_acl_default']);
    if (asRoot) expect(source.get(path.join('attrs', 'capped'))!.xattrs['security.capability']).toBe(CAPABILITY);
    expect(source.get(path.join('links', 'relative'))!.mtimeNs).toBe(OLD_TIMES[pathsBelow(src).indexOf(path.join('links', 'relative')) % 5]![1]);
  });

  it(`finds a dropped xattr, an ACL, a broken link group, a symlink time, a mode${asRoot ? ', an owner' : ' (an owner: as root only)'}`, () => {
    const breaks: [string, (dest: string) => void, RegExp][] = [
      ['xattr', (d) => run('setfattr', '-x', 'user.color', path.join(d, 'attrs', 'colored')), /^attrs\/colored: xattr user\.color 0x626c7565 != \(none\)$/],
      ['acl', (d) => run('setfacl', '-b', path.join(d, 'attrs', 'acl-file')), /^attrs\/acl-file: xattr system\.posix_acl_access /],
      [
        'group',
        (d) => {
          // The same data, its own inode.
          const file = path.join(d, 'many', 'd3', 't1');
          fs.copyFileSync(file, `${file}.new`);
          fs.renameSync(`${file}.new`, file);
        },
        /^many\/d3\/t1: links /,
      ],
      ['symlink time', (d) => setTimes(path.join(d, 'links', 'dangling'), OLD_TIMES[0]![0], OLD_TIMES[0]![1] + 1n), /^links\/dangling: mtimeNs /],
      ['mode', (d) => fs.chmodSync(path.join(d, 'modes', 'sticky'), 0o777), /^modes\/sticky: mode /],
    ];
    // Another owner: root's to give.
    if (asRoot) breaks.push(['owner', (d) => fs.lchownSync(path.join(d, 'links', 'absolute'), 4321, 8765), /^links\/absolute: uid /]);
    for (const [label, breakIt, found] of breaks) {
      const [good, bad] = [cpA(`good-${label.replace(' ', '-')}`), cpA(`bad-${label.replace(' ', '-')}`)];
      breakIt(bad);
      const diffs = diffSnapshots(snapshotTree(good), snapshotTree(bad));
      expect(diffs.some((line) => found.test(line)), `${label}: ${diffs.join('\n')}`).toBe(true);
      // Only what was broken (and the directory it is in): an entry not touched shows no difference.
      expect(diffs.filter((line) => line.startsWith('many/d5/f59:')), label).toEqual([]);
    }
  });
});

for (const fsName of ['ext4', 'xfs', 'btrfs'] as FsName[]) {
  describe.runIf(runsOn(fsName) && toolsHere)(titleOn(fsName, 'preserve, as cp -a keeps a tree') + (toolsHere ? '' : ` (skipped: ${whyNot})`), () => {
    let base: string;
    /** Everything (xattrs, ACLs, a FIFO). */
    let full: string;
    let fullSource: Map<string, EntryAttributes>;
    let fullCpA: Map<string, EntryAttributes>;
    /** No xattrs, ACLs or special files: what the node:fs walk can copy. */
    let plain: string;
    let plainSource: Map<string, EntryAttributes>;
    let plainCpA: Map<string, EntryAttributes>;

    beforeAll(() => {
      base = scratchOn(fsName, 'preserve');
      scratches.push(base);
      full = path.join(base, 'full');
      plain = path.join(base, 'plain');
      makePreserveTree(full, { xattrs: true, fifo: true });
      makePreserveTree(plain, { xattrs: false, fifo: false });
      fullSource = snapshotTree(full);
      restoreTimes(full, fullSource);
      plainSource = snapshotTree(plain);
      restoreTimes(plain, plainSource);
      // Reading the source moves its atimes: put back after each copy.
      run('cp', '-a', full, path.join(base, 'full-cp-a'));
      restoreTimes(full, fullSource);
      run('cp', '-a', plain, path.join(base, 'plain-cp-a'));
      restoreTimes(plain, plainSource);
      fullCpA = snapshotTree(path.join(base, 'full-cp-a'));
      plainCpA = snapshotTree(path.join(base, 'plain-cp-a'));
    });

    it("cp -a's copies are their sources (what the copies below are held to)", () => {
      expect(diffSnapshots(fullSource, fullCpA)).toEqual([]);
      expect(diffSnapshots(plainSource, plainCpA)).toEqual([]);
      expect(expectedCounts(fullSource)).toMatchObject({ specials: 1 });
      expect(expectedCounts(fullSource).files).toBeGreaterThan(400);
      expect(expectedCounts(fullSource).hardlinks).toBeGreaterThan(80);
    });

    describe.each(treeBackends)('$name backend', (b) => {
      for (const form of FORMS) {
        it(`${form}: preserve 'all', special 'recreate' gives what cp -a gives${jsWalk(b) ? ": the node:fs walk refuses, before it makes anything" : ''}`, async () => {
          const dest = path.join(base, `full-${b.name.replace(/\W+/g, '-')}-${form}`);
          const copied = copy(b, form, full, dest, { recursive: true, preserve: 'all', special: 'recreate', concurrency: 4 });
          try {
            if (jsWalk(b)) {
              // No xattr calls in node:fs: nothing made, ENOTSUP, named by the tree's roots.
              const err = await failure(() => copied);
              expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'getxattr', path: full, dest });
              expect(fs.existsSync(dest)).toBe(false);
              return;
            }
            const result = await copied;
            expect(diffSnapshots(fullCpA, snapshotTree(dest), { timeSlackNs: slackOf(b) })).toEqual([]);
            const want = expectedCounts(fullSource);
            expect(result).toMatchObject({ files: want.files, directories: want.directories, symlinks: want.symlinks, bytes: want.bytes, specials: 1, skipped: 0 });
            expect(result.strategies.hardlink).toBe(want.hardlinks);
          } finally {
            await copied.catch(() => undefined);
            restoreTimes(full, fullSource);
          }
        });

        it(`${form}: preserve links, timestamps, mode and ownership give what cp -a gives on a tree without xattrs`, async () => {
          const dest = path.join(base, `plain-${b.name.replace(/\W+/g, '-')}-${form}`);
          try {
            const result = await copy(b, form, plain, dest, { recursive: true, preserve: ['links', 'timestamps', 'mode', 'ownership'], concurrency: 4 });
            expect(diffSnapshots(plainCpA, snapshotTree(dest), { timeSlackNs: slackOf(b) })).toEqual([]);
            const want = expectedCounts(plainSource);
            expect(result).toMatchObject({ files: want.files, directories: want.directories, symlinks: want.symlinks, bytes: want.bytes, specials: 0, skipped: 0 });
            expect(result.strategies.hardlink).toBe(want.hardlinks);
          } finally {
            restoreTimes(plain, plainSource);
          }
        });

        // Into directories that are there (read-only ones too), over files, links and symlinks that are there.
        it.skipIf(!asRoot)(
          `${form}: copied again over its own copy, still what cp -a gives${asRoot ? '' : ' (skipped: needs root, to write into the read-only directories of the copy)'}`,
          async () => {
            const dest = path.join(base, `again-${b.name.replace(/\W+/g, '-')}-${form}`);
            const options: CpOptions = { recursive: true, preserve: ['links', 'timestamps', 'mode', 'ownership'], concurrency: 4 };
            try {
              await copy(b, form, plain, dest, options);
              restoreTimes(plain, plainSource);
              const result = await copy(b, form, plain, dest, options);
              expect(diffSnapshots(plainCpA, snapshotTree(dest), { timeSlackNs: slackOf(b) })).toEqual([]);
              const want = expectedCounts(plainSource);
              expect(result).toMatchObject({ files: want.files, directories: want.directories, symlinks: want.symlinks, skipped: 0 });
              expect(result.strategies.hardlink).toBe(want.hardlinks);
              expect(temporaries(dest)).toEqual([]);
            } finally {
              restoreTimes(plain, plainSource);
            }
          },
        );
      }
    });
  });
}

/** A listening Unix socket at `at` (gone when closed). */
async function socketAt(at: string): Promise<net.Server> {
  const server = net.createServer().listen(at);
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

/** Every name below root that is a cowcopy temporary. */
function temporaries(root: string): string[] {
  return pathsBelow(root).filter((rel) => path.basename(rel).startsWith('.cowcopy-'));
}

/** The paths of root grouped by inode: each group's paths sorted, the groups sorted. */
function linkGroups(root: string, rels: string[]): string[][] {
  const byInode = new Map<bigint, string[]>();
  for (const rel of rels) {
    const ino = fs.lstatSync(path.join(root, rel), { bigint: true }).ino;
    byInode.set(ino, [...(byInode.get(ino) ?? []), rel]);
  }
  return [...byInode.values()].map((g) => g.sort()).sort();
}

for (const fsName of ['ext4', 'xfs', 'btrfs'] as FsName[]) {
  describe.runIf(runsOn(fsName))(titleOn(fsName, 'preserve and special, each rule'), () => {
    describe.each(treeBackends)('$name backend', (b) => {
      let dir: string;
      beforeAll(() => {
        dir = scratchOn(fsName, `rules-${b.name.replace(/\W+/g, '-')}`);
        scratches.push(dir);
      });
      let n = 0;
      const fresh = (label: string): string => fs.mkdtempSync(path.join(dir, `${label}-${n++}-`));

      for (const form of FORMS) {
        it(`${form}: a link group is copied once: its bytes counted once, each other name a 'hardlink'`, async () => {
          const base = fresh('links');
          const src = path.join(base, 'src');
          fs.mkdirSync(path.join(src, 'a'), { recursive: true });
          fs.mkdirSync(path.join(src, 'b'));
          randomFile(path.join(src, 'a', 'big'), 10_000);
          fs.linkSync(path.join(src, 'a', 'big'), path.join(src, 'a', 'big2'));
          fs.linkSync(path.join(src, 'a', 'big'), path.join(src, 'b', 'big3'));
          fs.writeFileSync(path.join(src, 'b', 'single'), Buffer.alloc(100, 1));
          const dest = path.join(base, 'dest');
          const result = await copy(b, form, src, dest, { recursive: true, preserve: ['links'] });
          expect(result).toMatchObject({ files: 4, bytes: 10_100, skipped: 0 });
          expect(result.strategies.hardlink).toBe(2);
          expect(Object.values(result.strategies).reduce((x, y) => x + y, 0)).toBe(4);
          const rels = ['a/big', 'a/big2', 'b/big3', 'b/single'];
          expect(linkGroups(dest, rels)).toEqual([['a/big', 'a/big2', 'b/big3'], ['b/single']]);
          expect(sha256(path.join(dest, 'b', 'big3'))).toBe(sha256(path.join(src, 'a', 'big')));
          // Without preserve 'links': fs.cp's copy, a file per name.
          const apart = path.join(base, 'apart');
          const plain = await copy(b, form, src, apart, { recursive: true });
          expect(plain).toMatchObject({ files: 4, bytes: 30_100 });
          expect(plain.strategies.hardlink).toBe(0);
          expect(linkGroups(apart, rels)).toHaveLength(4);
        });

        it(`${form}: copied again over its copy, each group stays one inode, with the new data`, async () => {
          const base = fresh('relink');
          const src = path.join(base, 'src');
          fs.mkdirSync(path.join(src, 'd1'), { recursive: true });
          fs.mkdirSync(path.join(src, 'd2'));
          for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(src, 'd1', `f${i}`), `first ${i}`);
          for (let i = 0; i < 20; i += 2) fs.linkSync(path.join(src, 'd1', `f${i}`), path.join(src, 'd2', `l${i}`));
          const rels = pathsBelow(src).filter((rel) => fs.lstatSync(path.join(src, rel)).isFile());
          const dest = path.join(base, 'dest');
          await copy(b, form, src, dest, { recursive: true, preserve: ['links'], concurrency: 4 });
          const groups = linkGroups(src, rels);
          expect(linkGroups(dest, rels)).toEqual(groups);
          // Unchanged: each other name is already its group's inode, or made so again.
          const again = await copy(b, form, src, dest, { recursive: true, preserve: ['links'], concurrency: 4 });
          expect(again).toMatchObject({ files: 30, skipped: 0 });
          expect(again.strategies.hardlink).toBe(10);
          expect(linkGroups(dest, rels)).toEqual(groups);
          // New data in place (the source's groups unchanged).
          for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(src, 'd1', `f${i}`), `second, longer ${i}`);
          const third = await copy(b, form, src, dest, { recursive: true, preserve: ['links'], concurrency: 4 });
          expect(third.strategies.hardlink).toBe(10);
          expect(linkGroups(dest, rels)).toEqual(groups);
          for (const rel of rels) expect(fs.readFileSync(path.join(dest, rel), 'utf8'), rel).toBe(fs.readFileSync(path.join(src, rel), 'utf8'));
          expect(temporaries(dest)).toEqual([]);
        });

        it(`${form}: a group's first name not copied (force: false): the others are copied on their own`, async () => {
          const { src, dest } = linkedPair(fresh('first-kept'), 'a');
          // Whichever name the walk meets first (readdir's order), 'a' stays and 'b' is a copy of its own.
          const result = await copy(b, form, src, dest, { recursive: true, preserve: ['links'], force: false });
          expect(result).toMatchObject({ files: 1, skipped: 1 });
          expect(result.strategies.hardlink).toBe(0);
          expect(fs.readFileSync(path.join(dest, 'a'), 'utf8')).toBe('was there');
          expect(fs.readFileSync(path.join(dest, 'b'), 'utf8')).toBe('source data');
          expect(fs.statSync(path.join(dest, 'b')).ino).not.toBe(fs.statSync(path.join(dest, 'a')).ino);
        });

        it(`${form}: a linked name over another file there follows a file's rules: errorOnExist refuses, naming it`, async () => {
          const { src, dest } = linkedPair(fresh('link-exists'), 'b');
          // Whichever name comes first, 'b' is refused: as a copy, or as a link.
          // Where this Node's fs.cp refuses an existing directory, dest itself is, first.
          const refused = refusesExistingDir(process.versions.node, form === 'cpSync') ? dest : path.join(dest, 'b');
          const err = await failure(() => copy(b, form, src, dest, { recursive: true, preserve: ['links'], force: false, errorOnExist: true }));
          expect(err).toMatchObject({ code: 'ERR_FS_CP_EEXIST', path: refused });
          expect(fs.readFileSync(path.join(dest, 'b'), 'utf8')).toBe('was there');
          expect(temporaries(dest)).toEqual([]);
        });

        it(`${form}: special 'skip' counts FIFOs, sockets${asRoot ? ' and devices' : ''} as skipped and makes none of them${asRoot ? '' : ' (devices skipped: mknod needs root)'}`, async () => {
          const base = fresh('skip');
          const src = path.join(base, 'src');
          fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
          fs.writeFileSync(path.join(src, 'sub', 'file'), 'kept');
          run('mkfifo', path.join(src, 'sub', 'fifo'));
          if (asRoot) run('mknod', path.join(src, 'null'), 'c', '1', '3');
          const server = await socketAt(path.join(src, 'sock'));
          try {
            const dest = path.join(base, 'dest');
            const result = await copy(b, form, src, dest, { recursive: true, special: 'skip' });
            expect(result).toMatchObject({ files: 1, directories: 2, skipped: asRoot ? 3 : 2, specials: 0 });
            expect(pathsBelow(dest).sort()).toEqual(['', 'sub', 'sub/file']);
            // The top level too.
            const top = await copy(b, form, path.join(src, 'sub', 'fifo'), path.join(base, 'top-fifo'), { special: 'skip' });
            expect(top).toMatchObject({ files: 0, skipped: 1, specials: 0 });
            expect(fs.existsSync(path.join(base, 'top-fifo'))).toBe(false);
          } finally {
            server.close();
          }
        });

        it(`${form}: special 'recreate' makes FIFOs, sockets${asRoot ? ' and devices' : ''} again${noMknod(b) ? ': node:fs has no mknod, and says so' : ''}`, async () => {
          const base = fresh('recreate');
          const src = path.join(base, 'src');
          fs.mkdirSync(src);
          run('mkfifo', '-m', '0620', path.join(src, 'fifo'));
          if (asRoot) run('mknod', '-m', '0604', path.join(src, 'null'), 'c', '1', '3');
          const server = await socketAt(path.join(src, 'sock'));
          try {
            const dest = path.join(base, 'dest');
            const copied = copy(b, form, src, dest, { recursive: true, special: 'recreate', preserve: ['timestamps'] });
            if (noMknod(b)) {
              const err = await failure(() => copied);
              expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'mknod' });
              const name = path.basename(String(err.path));
              expect(['fifo', 'sock', 'null']).toContain(name);
              expect(err).toMatchObject({ path: path.join(src, name), dest: path.join(dest, name) });
              expect(fs.existsSync(path.join(dest, name))).toBe(false);
              return;
            }
            const result = await copied;
            expect(result).toMatchObject({ specials: asRoot ? 3 : 2, files: 0, skipped: 0 });
            const made = (name: string) => fs.lstatSync(path.join(dest, name), { bigint: true });
            const was = (name: string) => fs.lstatSync(path.join(src, name), { bigint: true });
            expect(made('fifo').isFIFO()).toBe(true);
            expect(made('sock').isSocket()).toBe(true);
            expect(made('fifo').mode).toBe(was('fifo').mode);
            expect(made('fifo').mtimeNs).toBe(was('fifo').mtimeNs);
            if (asRoot) {
              expect(made('null').isCharacterDevice()).toBe(true);
              expect(made('null').rdev).toBe(was('null').rdev);
              expect(made('null').mode).toBe(was('null').mode);
            }
          } finally {
            server.close();
          }
        });

        it(`${form}: a FIFO as the source itself, special 'recreate'${noMknod(b) ? ': node:fs has no mknod, and says so' : ': made, then made again over the one there'}`, async () => {
          const base = fresh('recreate-top');
          const fifo = path.join(base, 'fifo');
          run('mkfifo', '-m', '0604', fifo);
          setTimes(fifo, 1_000_000_001_000_000_001n, 1_000_000_002_000_000_002n);
          const dest = path.join(base, 'copy');
          const options: CpOptions = { special: 'recreate', preserve: ['timestamps'] };
          if (noMknod(b)) {
            const err = await failure(() => copy(b, form, fifo, dest, options));
            expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'mknod', path: fifo, dest });
            expect(fs.existsSync(dest)).toBe(false);
            return;
          }
          for (let round = 0; round < 2; round++) {
            const before = round === 0 ? null : fs.lstatSync(dest, { bigint: true }).ino;
            expect(await copy(b, form, fifo, dest, options)).toMatchObject({ specials: 1, files: 0, skipped: 0 });
            const st = fs.lstatSync(dest, { bigint: true });
            expect(st.isFIFO()).toBe(true);
            expect(Number(st.mode & 0o7777n)).toBe(0o604);
            expect(st.mtimeNs).toBe(1_000_000_002_000_000_002n);
            // The second time, a new one renamed over the first.
            if (before !== null) expect(st.ino).not.toBe(before);
          }
          expect(fs.readdirSync(base).sort()).toEqual(['copy', 'fifo']);
        });

        it(`${form}: a FIFO, socket or device (special 'error') is an error naming its source and its destination`, async () => {
          const base = fresh('error');
          const kinds: [string, (at: string) => Promise<net.Server | null>, string][] = [
            ['fifo', async (at) => (run('mkfifo', at), null), 'ERR_FS_CP_FIFO_PIPE'],
            ['sock', socketAt, 'ERR_FS_CP_SOCKET'],
          ];
          if (asRoot) kinds.push(['null', async (at) => (run('mknod', at, 'c', '1', '3'), null), 'ERR_FS_CP_UNKNOWN']);
          for (const [name, make, code] of kinds) {
            const src = path.join(base, `src-${name}`);
            fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
            const server = await make(path.join(src, 'sub', name));
            try {
              const dest = path.join(base, `dest-${name}`);
              const err = await failure(() => copy(b, form, src, dest, { recursive: true }));
              expect(err).toMatchObject({ code, path: path.join(src, 'sub', name), dest: path.join(dest, 'sub', name) });
              expect(fs.existsSync(path.join(dest, 'sub', name))).toBe(false);
            } finally {
              server?.close();
            }
          }
        });

        it(`${form}: preserve 'timestamps' gives symlinks the source's times; preserveTimestamps alone does not (fs.cp)`, async () => {
          const base = fresh('link-times');
          const src = path.join(base, 'src');
          fs.mkdirSync(src);
          fs.symlinkSync('target', path.join(src, 'dangling'));
          fs.symlinkSync('/etc/hostname', path.join(src, 'absolute'));
          for (const name of ['dangling', 'absolute']) setTimes(path.join(src, name), OLD_TIMES[1]![0], OLD_TIMES[1]![1]);
          // Read before the copies read the links (readlink may move their atime).
          const times = (root: string, name: string) => {
            const st = fs.lstatSync(path.join(root, name), { bigint: true });
            return [st.atimeNs, st.mtimeNs];
          };
          const want = times(src, 'dangling');
          const dest = path.join(base, 'dest');
          await copy(b, form, src, dest, { recursive: true, preserve: ['timestamps'] });
          for (const name of ['dangling', 'absolute']) {
            const [atime, mtime] = times(dest, name);
            const slack = slackOf(b);
            expect(mtime! - want[1]! <= slack && want[1]! - mtime! <= slack, `${name} mtime ${mtime} != ${want[1]}`).toBe(true);
            expect(atime! - want[0]! <= slack && want[0]! - atime! <= slack, `${name} atime ${atime} != ${want[0]}`).toBe(true);
          }
          const plain = path.join(base, 'plain');
          await copy(b, form, src, plain, { recursive: true, preserveTimestamps: true });
          if (wholeClone(b, fsName)) {
            // One clonefile of the whole directory (macOS) keeps every time there is.
            expect(times(plain, 'dangling')[1]).toBe(want[1]);
          } else {
            // Made now, a year and more after the source's time.
            expect(times(plain, 'dangling')[1]! - want[1]!).toBeGreaterThan(365n * 86_400n * 1_000_000_000n);
          }
        });

        it(`${form}: with preserve 'mode' and 'timestamps', directories that were there get the source's mode and times`, async () => {
          const base = fresh('merged');
          const src = path.join(base, 'src');
          fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
          fs.writeFileSync(path.join(src, 'sub', 'file'), 'data');
          fs.chmodSync(path.join(src, 'sub'), 0o751);
          setTimes(path.join(src, 'sub'), OLD_TIMES[2]![0], OLD_TIMES[2]![1]);
          const makeDest = (label: string): string => {
            const dest = path.join(base, label);
            fs.mkdirSync(path.join(dest, 'sub'), { recursive: true });
            fs.chmodSync(path.join(dest, 'sub'), 0o700);
            return dest;
          };
          // Default: fs.cp's merge, the directory's own mode and times kept.
          const plain = makeDest('plain');
          const plainBefore = fs.statSync(path.join(plain, 'sub'), { bigint: true });
          await copy(b, form, src, plain, { recursive: true, preserveTimestamps: true });
          const plainAfter = fs.statSync(path.join(plain, 'sub'), { bigint: true });
          expect(Number(plainAfter.mode & 0o7777n)).toBe(0o700);
          expect(plainAfter.mtimeNs).toBeGreaterThanOrEqual(plainBefore.mtimeNs);

          const dest = makeDest('dest');
          // As the copy sees it (the copy before read it: its atime moved).
          const srcSub = fs.statSync(path.join(src, 'sub'), { bigint: true });
          await copy(b, form, src, dest, { recursive: true, preserve: ['mode', 'timestamps'] });
          const sub = fs.statSync(path.join(dest, 'sub'), { bigint: true });
          expect(Number(sub.mode & 0o7777n)).toBe(0o751);
          const slack = slackOf(b);
          for (const f of ['atimeNs', 'mtimeNs'] as const) {
            const apart = sub[f] > srcSub[f] ? sub[f] - srcSub[f] : srcSub[f] - sub[f];
            expect(apart <= slack, `${f} ${sub[f]} != ${srcSub[f]}`).toBe(true);
          }
          expect(fs.readFileSync(path.join(dest, 'sub', 'file'), 'utf8')).toBe('data');
        });
      }

      it('preserve and special are validated like fs options', async () => {
        const base = fresh('validate');
        fs.writeFileSync(path.join(base, 'f'), 'x');
        const bad: [unknown, string][] = [
          [{ preserve: ['bogus'] }, 'ERR_INVALID_ARG_VALUE'],
          [{ preserve: ['links', 'bogus'] }, 'ERR_INVALID_ARG_VALUE'],
          [{ preserve: 5 }, 'ERR_INVALID_ARG_TYPE'],
          [{ preserve: 'links' }, 'ERR_INVALID_ARG_TYPE'],
          [{ special: 'x' }, 'ERR_INVALID_ARG_VALUE'],
        ];
        for (const [options, code] of bad) {
          for (const form of FORMS) {
            const err = await failure(() => copy(b, form, path.join(base, 'f'), path.join(base, 'g'), options as CpOptions));
            expect(err.code, JSON.stringify(options)).toBe(code);
          }
        }
        expect(fs.existsSync(path.join(base, 'g'))).toBe(false);
      });

      it("the node:fs walk's 'xattr' refusal: ENOTSUP naming both roots, nothing made" + (jsWalk(b) ? '' : ' (the native walk copies them)'), async () => {
        const base = fresh('xattr');
        const src = path.join(base, 'src');
        fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
        fs.writeFileSync(path.join(src, 'sub', 'f'), 'x');
        for (const form of FORMS) {
          const dest = path.join(base, `dest-${form}`);
          const copied = copy(b, form, src, dest, { recursive: true, preserve: ['xattr'] });
          if (!jsWalk(b)) {
            expect(await copied).toMatchObject({ files: 1, directories: 2 });
            continue;
          }
          const err = await failure(() => copied);
          expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'getxattr', path: src, dest });
          expect(fs.existsSync(dest)).toBe(false);
        }
      });

      it('a file as the source itself, preserve xattr: the addon copies them' + (noMknod(b) ? '; node:fs cannot, and says so' : ''), async () => {
        const base = fresh('xattr-top');
        const file = path.join(base, 'f');
        fs.writeFileSync(file, 'x');
        run('setfattr', '-n', 'user.cowcopy', '-v', 'kept', file);
        for (const form of FORMS) {
          const dest = path.join(base, `copy-${form}`);
          const copied = copy(b, form, file, dest, { preserve: ['xattr'] });
          if (noMknod(b)) {
            const err = await failure(() => copied);
            expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'getxattr', path: file, dest });
            expect(fs.existsSync(dest)).toBe(false);
            continue;
          }
          expect(await copied).toMatchObject({ files: 1 });
          expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.cowcopy', dest], { encoding: 'utf8' })).toBe('kept');
        }
        if (noMknod(b) || !asRoot) return;
        // Another owner's file with a capability: the owner first, then the
        // xattrs (a chown after them would drop the capability).
        const capped = path.join(base, 'capped');
        fs.writeFileSync(capped, '#!/bin/sh\n');
        fs.chownSync(capped, 1234, 5678);
        run('setfattr', '-n', 'security.capability', '-v', CAPABILITY, capped);
        const dest = path.join(base, 'capped-copy');
        await copy(b, 'cp', capped, dest, { preserve: ['xattr', 'ownership'] });
        expect(fs.statSync(dest)).toMatchObject({ uid: 1234, gid: 5678 });
        const cap = (file: string) => execFileSync('getfattr', ['--absolute-names', '-e', 'hex', '--only-values', '-n', 'security.capability', file]).toString('hex');
        expect(cap(dest)).toBe(cap(capped));
      });
    });
  });
}

// Out of space while copying over an existing copy: each file is replaced
// by a whole new one renamed over it (a link group's names by links made
// beside them), so each is its old copy or its new one.
describe.runIf(runsOn('small') && runsOn('ext4'))(titleOn('small', 'preserve links, out of space'), () => {
  describe.each(treeBackends)('$name backend', (b) => {
    for (const form of FORMS) {
      it(`${form}: a re-copy stopped by ENOSPC leaves each file old or new, never mixed, and no temporaries`, async () => {
        const from = scratchOn('ext4', 'enospc-links');
        scratches.push(from);
        const src = path.join(from, 'src');
        const rels: string[] = [];
        for (let d = 0; d < 3; d++) {
          fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
          for (let f = 0; f < 10; f++) rels.push(path.join(`d${d}`, `f${f}`));
        }
        for (const rel of rels) randomFile(path.join(src, rel), 100 * 1024);
        // Groups in one directory and across.
        for (let f = 0; f < 10; f += 3) {
          fs.linkSync(path.join(src, 'd0', `f${f}`), path.join(src, 'd1', `l${f}`));
          fs.linkSync(path.join(src, 'd0', `f${f}`), path.join(src, 'd0', `l${f}`));
          rels.push(path.join('d1', `l${f}`), path.join('d0', `l${f}`));
        }
        await alone('small', async () => {
          const dest = path.join(scratchOn('small', 'enospc-links'), 'dest');
          try {
            await copy(b, form, src, dest, { recursive: true, preserve: ['links'] });
            const old = new Map(rels.map((rel) => [rel, sha256(path.join(dest, rel))]));
            // Six times the data, in place (the groups stay): more than the 16 MiB there.
            for (const rel of rels) if (path.basename(rel).startsWith('f')) randomFile(path.join(src, rel), 600 * 1024);
            const fresh = new Map(rels.map((rel) => [rel, sha256(path.join(src, rel))]));
            const err = await failure(() => copy(b, form, src, dest, { recursive: true, preserve: ['links'], concurrency: 4 }));
            expect(err.code).toBe('ENOSPC');
            const neither = rels.filter((rel) => ![old.get(rel), fresh.get(rel)].includes(sha256(path.join(dest, rel))));
            expect(neither).toEqual([]);
            // Midway: some of each.
            expect(rels.some((rel) => sha256(path.join(dest, rel)) === old.get(rel))).toBe(true);
            expect(temporaries(dest)).toEqual([]);
          } finally {
            fs.rmSync(path.dirname(dest), { recursive: true, force: true });
          }
        });
      });
    }
  });
});

// Not root, ownership is what the OS lets this user give (GNU cp's rule): a
// file of another owner is copied as this user's, with no error. Run as
// nobody, in a child (the addon's backend and the fallback, by the env).
describe.runIf(runsOn('ext4'))(titleOn('ext4', 'preserve ownership, not root') + (asRoot ? '' : ' (skipped: needs root, to make files of another owner and run as nobody)'), () => {
  it.skipIf(!asRoot)('a chown the OS refuses is left out, not an error', () => {
    const base = scratchOn('ext4', 'not-root');
    scratches.push(base);
    fs.chmodSync(base, 0o755);
    const src = path.join(base, 'src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'sub', 'theirs'), 'root owns this');
    fs.chownSync(path.join(src, 'sub', 'theirs'), 0, 65534);
    fs.symlinkSync('sub/theirs', path.join(src, 'link'));
    fs.chmodSync(src, 0o755);
    const out = path.join(base, 'out');
    fs.mkdirSync(out);
    fs.chownSync(out, 65534, 65534);
    for (const disable of ['', '1']) {
      const dest = path.join(out, `copy${disable}`);
      const script = `require(${JSON.stringify(path.resolve('dist/index.js'))})
        .cp(${JSON.stringify(src)}, ${JSON.stringify(dest)}, { recursive: true, preserve: ['ownership', 'mode', 'timestamps'] })
        .then((r) => console.log(JSON.stringify(r)), (e) => console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })));`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, COWCOPY_DISABLE_NATIVE: disable }, uid: 65534, gid: 65534 });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout), `COWCOPY_DISABLE_NATIVE=${disable}`).toMatchObject({ files: 1, symlinks: 1, directories: 2 });
      for (const rel of ['', 'sub', 'sub/theirs', 'link']) {
        const st = fs.lstatSync(path.join(dest, rel));
        // nobody's: root's uid could not be given; the group (nobody's own) could.
        expect([st.uid, st.gid], rel).toEqual([65534, 65534]);
      }
      expect(fs.readFileSync(path.join(dest, 'sub', 'theirs'), 'utf8')).toBe('root owns this');
    }
  });

  it.skipIf(!asRoot)("a read-only file's user xattrs: given to its copy all the same (only a writer may set them)", () => {
    const base = scratchOn('ext4', 'not-root-xattr');
    scratches.push(base);
    fs.chmodSync(base, 0o755);
    const src = path.join(base, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'f'), 'read only');
    run('setfattr', '-n', 'user.cowcopy', '-v', 'kept', path.join(src, 'f'));
    fs.chmodSync(path.join(src, 'f'), 0o444);
    fs.chownSync(src, 65534, 65534);
    fs.chownSync(path.join(src, 'f'), 65534, 65534);
    const out = path.join(base, 'out');
    fs.mkdirSync(out);
    fs.chownSync(out, 65534, 65534);
    for (const [label, from] of [['tree', src], ['file', path.join(src, 'f')]]) {
      const dest = path.join(out, label);
      const script = `require(${JSON.stringify(path.resolve('dist/index.js'))})
        .cp(${JSON.stringify(from)}, ${JSON.stringify(dest)}, { recursive: true, preserve: ['xattr'] })
        .then((r) => console.log(JSON.stringify(r)), (e) => console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })));`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', uid: 65534, gid: 65534 });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout), label).toMatchObject({ files: 1 });
      const file = label === 'tree' ? path.join(dest, 'f') : dest;
      expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.cowcopy', file], { encoding: 'utf8' })).toBe('kept');
      expect(fs.statSync(file).mode & 0o7777).toBe(0o444);
    }
  });
});
