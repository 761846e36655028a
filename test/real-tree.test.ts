// #18's measure of a faithful copy: on a real tree (this checkout's
// dependencies, a git repository of its sources and a local clone of it,
// whose objects are hard links, and the socket and FIFO a working tree can
// hold), cp() with
// preserve ['links', 'xattr', 'timestamps', 'mode'] gives what `cp -a` gives,
// compared entry by entry on ext4, xfs and btrfs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeUnderTest } from './helpers/backends.js';
import { CHILD_HANG } from './helpers/files.js';
import { runsOn, scratchOn, titleOn, type FsName } from './helpers/filesystems.js';
import { diffSnapshots, snapshotTree } from './helpers/tree-attributes.js';

const checkout = path.resolve(__dirname, '..');
const api = nativeUnderTest.api;
const scratches: string[] = [];
const servers: net.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  for (const dir of scratches) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The tree at src: node_modules (without the build tools' cache), a git
 * repository of this checkout's sources and a clone of it beside it, which
 * git makes with hard links to its objects; git's fsmonitor socket
 * and a FIFO in it. Every atime is put an hour ahead: relatime then leaves
 * them alone when the copies read the tree.
 */
async function realTree(src: string): Promise<{ entries: number; linked: number }> {
  const modules = path.join(checkout, 'node_modules');
  fs.mkdirSync(path.join(src, 'node_modules'), { recursive: true });
  const packages = fs.readdirSync(modules).filter((name) => name !== '.cache').map((name) => path.join(modules, name));
  execFileSync('cp', ['-a', '--no-preserve=ownership', '--', ...packages, path.join(src, 'node_modules')]);
  // A repository of this checkout's sources (its objects loose, as in one
  // not yet packed), made here: the checkout need not be a git clone.
  const git = (...args: string[]) => execFileSync('git', ['-c', 'safe.directory=*', '-c', 'user.name=cowcopy', '-c', 'user.email=cowcopy@example.invalid', ...args], { stdio: 'pipe' });
  const origin = path.join(src, 'origin');
  fs.mkdirSync(origin);
  const sources = ['lib', 'native', 'test', 'docs', 'bench', 'scripts', 'README.md', 'package.json', 'binding.gyp'];
  execFileSync('cp', ['-a', '--no-preserve=ownership', '--', ...sources.map((name) => path.join(checkout, name)).filter((p) => fs.existsSync(p)), origin]);
  git('init', '-q', origin);
  git('-C', origin, 'add', '-A');
  git('-C', origin, 'commit', '-q', '-m', 'the sources');
  git('clone', '-q', origin, path.join(src, 'work'));
  const ipc = path.join(src, 'work', '.git', 'fsmonitor--daemon.ipc');
  const server = net.createServer().listen(ipc);
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  execFileSync('mkfifo', [path.join(src, 'work', '.git', 'pipe')]);
  const ahead = `@${Math.floor(Date.now() / 1000) + 3600}`;
  execFileSync('find', [src, '-exec', 'touch', '-h', '-a', '-d', ahead, '--', '{}', '+']);
  // Names beyond the first of each inode with more than one.
  const inodes = execFileSync('find', [src, '-type', 'f', '-links', '+1', '-printf', '%i\\n'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const entries = execFileSync('find', [src, '-printf', '.'], { encoding: 'utf8' }).length;
  return { entries, linked: inodes.length - new Set(inodes).size };
}

describe.each(['ext4', 'xfs', 'btrfs'] as FsName[])('a real tree', (fsName) => {
  describe.runIf(runsOn(fsName))(titleOn(fsName, 'a real tree'), () => {
    it(
      "cp() with preserve links, xattr, timestamps, mode gives what cp -a gives, entry by entry",
      async () => {
        const base = scratchOn(fsName, 'real');
        scratches.push(base);
        const src = path.join(base, 'src');
        const { entries, linked } = await realTree(src);
        // What makes it a test of links and of many directories.
        expect(entries).toBeGreaterThan(2000);
        expect(linked).toBeGreaterThan(10);
        const before = snapshotTree(src);

        execFileSync('cp', ['-a', '--', src, path.join(base, 'cp-a')]);
        const result = await api.cp(src, path.join(base, 'cowcopy'), {
          recursive: true,
          preserve: ['links', 'xattr', 'timestamps', 'mode'],
          special: 'recreate',
        });
        // Reading the tree moved none of its times: both copies saw the same source.
        expect(diffSnapshots(before, snapshotTree(src))).toEqual([]);
        expect(result.specials).toBe(2);
        expect(result.strategies.hardlink).toBe(linked);

        const diffs = diffSnapshots(snapshotTree(path.join(base, 'cp-a')), snapshotTree(path.join(base, 'cowcopy')));
        expect(diffs).toEqual([]);
      },
      CHILD_HANG,
    );
  });
});
