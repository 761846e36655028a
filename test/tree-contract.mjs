// cp()'s tree contract, the same on every platform and every backend:
// written once, run by vitest here (test/cp.test.ts) and by node:test in
// the Windows node.exe (test/windows/tree.test.mjs). Plain JavaScript and
// node:assert, so both run it as it is. What only POSIX has (modes under a
// umask, FIFOs, sockets, ACLs) stays in test/cp.test.ts.
import assert from 'node:assert/strict';
import fs, { constants } from 'node:fs';
import path from 'node:path';
import { describeTree, diffTrees } from './helpers/tree-compare.mjs';

/**
 * fs.cp's message, as Node 22 and later word it: Node 20's fs.cp on Windows
 * names its paths in the \\?\ namespace.
 */
const worded = (message) => message.replaceAll('\\\\?\\', '');

/** The error a call throws (sync) or rejects with (async). */
async function failure(run) {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** cp()'s options less the ones fs.cp does not know. */
export function fsCpOptions(options) {
  const { signal: _s, onProgress: _p, strategy: _st, concurrency: _c, ...fsOptions } = options;
  return fsOptions;
}

/**
 * Registers the suite.
 * @param {object} t the runner: describe, test(name, fn, skipReason?), beforeEach, afterEach, after
 * @param {object} env
 * @param {{ name: string, api: any }[]} env.backends every way cp() runs here
 * @param {string} env.root a scratch directory (removed by the caller)
 * @param {string | null} env.noSymlinks why this system makes no symlinks, or null
 * @param {boolean} env.clones whether the volume of env.root clones
 * @param {bigint} env.timeResolution the finest step of file times there, in ns
 *
 * Every backend runs it twice: through cp() and through cpSync() (as a
 * promise here, so that one test reads for both).
 */
export function treeContract(t, env) {
  const { describe, test, beforeEach, afterEach } = t;
  const links = env.noSymlinks;

  for (const backend of env.backends) {
    for (const form of ['cp', 'cpSync']) {
      const sync = form === 'cpSync';
      const api = sync
        ? {
            cp: (src, dest, options) =>
              new Promise((resolve) => {
                resolve(backend.api.cpSync(src, dest, options));
              }),
          }
        : backend.api;
      contract(backend.name, form, sync, api);
    }
  }

  function contract(name, form, sync, api) {
    // node:fs's own form, for what its checks refuse: fs.cpSync words them
    // anew from Node 22 on (cowcopy's cpSync as the running line does).
    const nodeCp = sync ? (src, dest, options) => new Promise((resolve) => resolve(fs.cpSync(src, dest, options))) : fs.promises.cp;
    describe(`${name} backend, ${form}: the tree contract`, () => {
      let dir;
      let src;
      let outside; // an absolute link target outside the tree
      let before;

      /** A small fixed tree: files (one read-only), subdirectories, an empty one, relative and absolute links. */
      const smallTree = () => {
        fs.mkdirSync(path.join(src, 'sub', 'deeper'), { recursive: true });
        fs.mkdirSync(path.join(src, 'empty'));
        fs.writeFileSync(path.join(src, 'a.txt'), 'alpha');
        fs.writeFileSync(path.join(src, 'sub', 'b.txt'), 'bravo');
        fs.writeFileSync(path.join(src, 'sub', 'deeper', 'c.txt'), 'charlie');
        fs.chmodSync(path.join(src, 'sub', 'b.txt'), 0o444);
        fs.chmodSync(path.join(src, 'sub', 'deeper'), 0o750);
        if (!links) {
          fs.symlinkSync(path.join('..', 'a.txt'), path.join(src, 'sub', 'rel-link'));
          fs.symlinkSync(outside, path.join(src, 'abs-link'));
        }
      };
      const counts = { files: 3, directories: 4, symlinks: links ? 0 : 2, bytes: 17 };

      beforeEach(() => {
        dir = fs.mkdtempSync(path.join(env.root, `${name.replace(/\W+/g, '-')}-`));
        src = path.join(dir, 'src');
        outside = path.join(dir, 'outside.txt');
        fs.writeFileSync(outside, 'outside');
        smallTree();
        before = describeTree(src);
      });
      afterEach(() => {
        // Whatever a test did, the source is as it was.
        if (fs.existsSync(src)) assert.deepEqual(describeTree(src), before);
      });

      /** cp() and fs.promises.cp, side by side, with the options fs.cp knows. */
      const cpBoth = async (options, label = 'x') => {
        const ours = path.join(dir, `ours-${label}`);
        const node = path.join(dir, `node-${label}`);
        const result = await api.cp(src, ours, options);
        await fs.promises.cp(src, node, fsCpOptions(options));
        return { ours, node, result };
      };

      test('copies a tree like fs.cp, counting what it did', async () => {
        const { ours, node, result } = await cpBoth({ recursive: true, verbatimSymlinks: true });
        assert.deepEqual(diffTrees(node, ours), []);
        assert.deepEqual(diffTrees(src, ours), []);
        assert.deepEqual({ ...result, strategies: undefined }, { ...counts, skipped: 0, specials: 0, strategies: undefined });
        const s = result.strategies;
        assert.equal(s.kernel + s.reflink + s.userspace, 3);
      });

      test('keeps link targets by default; verbatimSymlinks: false resolves relative ones as fs.cp does', async () => {
        await api.cp(src, path.join(dir, 'default'), { recursive: true });
        assert.equal(fs.readlinkSync(path.join(dir, 'default', 'sub', 'rel-link')), path.join('..', 'a.txt'));
        assert.equal(fs.readlinkSync(path.join(dir, 'default', 'abs-link')), outside);
        const { ours, node } = await cpBoth({ recursive: true, verbatimSymlinks: false }, 'resolved');
        assert.equal(fs.readlinkSync(path.join(ours, 'sub', 'rel-link')), path.join(src, 'a.txt'));
        assert.equal(fs.readFileSync(path.join(ours, 'sub', 'rel-link'), 'utf8'), 'alpha');
        assert.deepEqual(diffTrees(node, ours), []);
      }, links);

      test('recursive: false refuses a directory with ERR_FS_EISDIR, as fs.cp words it', async () => {
        const ours = await failure(() => api.cp(src, path.join(dir, 'd')));
        const node = await failure(() => nodeCp(src, path.join(dir, 'd')));
        assert.equal(ours.code, 'ERR_FS_EISDIR');
        assert.equal(ours.message, worded(node.message));
        assert.equal(String(ours), worded(String(node)));
        if (node.info) assert.deepEqual(ours.info, { ...node.info, message: worded(node.info.message), path: worded(node.info.path) });
        else assert.equal(ours.info, undefined);
        assert.equal(fs.existsSync(path.join(dir, 'd')), false);
      });

      test('a single file, and its missing parents', async () => {
        const dest = path.join(dir, 'made', 'on', 'the', 'way.txt');
        const result = await api.cp(path.join(src, 'a.txt'), dest);
        assert.equal(fs.readFileSync(dest, 'utf8'), 'alpha');
        assert.deepEqual([result.files, result.directories, result.bytes], [1, 0, 5]);
      });

      test('force (default): replaces files with new ones, merges directories, leaves no temporaries', async () => {
        const dest = path.join(dir, 'dest');
        await api.cp(src, dest, { recursive: true });
        fs.writeFileSync(path.join(dest, 'a.txt'), 'changed');
        fs.writeFileSync(path.join(dest, 'only-in-dest'), 'keep');
        const keptInode = fs.statSync(path.join(dest, 'a.txt')).ino;
        // A hard link elsewhere to the file being replaced must not change.
        fs.linkSync(path.join(dest, 'a.txt'), path.join(dir, 'outside-link'));
        await api.cp(src, dest, { recursive: true });
        assert.equal(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8'), 'alpha');
        assert.notEqual(fs.statSync(path.join(dest, 'a.txt')).ino, keptInode);
        assert.equal(fs.readFileSync(path.join(dir, 'outside-link'), 'utf8'), 'changed');
        assert.equal(fs.readFileSync(path.join(dest, 'only-in-dest'), 'utf8'), 'keep');
        assert.deepEqual(diffTrees(src, dest, { rootMode: false }).filter((d) => !d.includes('only-in-dest')), []);
        for (const sub of ['', 'sub', path.join('sub', 'deeper')]) {
          assert.deepEqual(fs.readdirSync(path.join(dest, sub)).filter((n) => n.includes('cowcopy')), []);
        }
      });

      test('a read-only file at dest is replaced, as rename replaces it; never one with other links on Windows', async () => {
        const dest = path.join(dir, 'dest');
        await api.cp(src, dest, { recursive: true });
        const ro = path.join(dest, 'sub', 'b.txt');
        fs.chmodSync(ro, 0o644);
        fs.writeFileSync(ro, 'mine');
        fs.chmodSync(ro, 0o444);
        await api.cp(src, dest, { recursive: true });
        assert.equal(fs.readFileSync(ro, 'utf8'), 'bravo');
        assert.equal(fs.statSync(ro).mode & 0o222, 0);

        // With a second name: Windows would have to clear the attribute
        // that name shares, so the copy fails there, as fs.cp's does.
        fs.chmodSync(ro, 0o644);
        fs.writeFileSync(ro, 'mine');
        fs.chmodSync(ro, 0o444);
        fs.linkSync(ro, path.join(dir, 'second-name'));
        const err = await api.cp(src, dest, { recursive: true }).then(() => null, (e) => e);
        if (process.platform === 'win32') {
          assert.equal(err?.code, 'EPERM');
          assert.equal(fs.readFileSync(ro, 'utf8'), 'mine');
        } else {
          assert.equal(err, null);
          assert.equal(fs.readFileSync(ro, 'utf8'), 'bravo');
        }
        assert.equal(fs.readFileSync(path.join(dir, 'second-name'), 'utf8'), 'mine');
        assert.equal(fs.statSync(path.join(dir, 'second-name')).mode & 0o222, 0);
        fs.chmodSync(path.join(dir, 'second-name'), 0o644);
      });

      test('force: false skips what exists; errorOnExist makes it an error', async () => {
        const dest = path.join(dir, 'dest');
        await api.cp(src, dest, { recursive: true });
        fs.writeFileSync(path.join(dest, 'a.txt'), 'mine');
        const skipped = await api.cp(src, dest, { recursive: true, force: false });
        assert.equal(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8'), 'mine');
        assert.equal(skipped.files, 0);
        assert.ok(skipped.skipped >= 3, `skipped ${skipped.skipped}`);
        const err = await failure(() => api.cp(src, dest, { recursive: true, force: false, errorOnExist: true }));
        assert.equal(err.code, 'ERR_FS_CP_EEXIST');
        assert.match(err.message, /^Target already exists: cp returned EEXIST \(.* already exists\) /);
        assert.equal(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8'), 'mine');
      });

      test("update: 'older' replaces only what is older than the source, 'none' nothing that exists", async () => {
        const dest = path.join(dir, 'dest');
        await api.cp(src, dest, { recursive: true, preserveTimestamps: true });
        const later = (file, seconds) => {
          const t = fs.statSync(file).mtimeMs / 1000 + seconds;
          fs.utimesSync(file, t, t);
        };
        // Newer in the source: a.txt. Newer at dest: c.txt. The same: b.txt.
        fs.writeFileSync(path.join(src, 'a.txt'), 'ALPHA');
        later(path.join(src, 'a.txt'), 10);
        fs.writeFileSync(path.join(dest, 'sub', 'deeper', 'c.txt'), 'mine');
        later(path.join(dest, 'sub', 'deeper', 'c.txt'), 20);
        before = describeTree(src);
        const contents = () => ['a.txt', 'sub/b.txt', 'sub/deeper/c.txt'].map((f) => fs.readFileSync(path.join(dest, f), 'utf8'));

        const none = await api.cp(src, dest, { recursive: true, update: 'none' });
        assert.deepEqual(contents(), ['alpha', 'bravo', 'mine']);
        assert.equal(none.files, 0);
        assert.equal(none.skipped, 3 + counts.symlinks);
        const older = await api.cp(src, dest, { recursive: true, update: 'older' });
        assert.deepEqual(contents(), ['ALPHA', 'bravo', 'mine']);
        assert.equal(older.files, 1);
        // The links at dest were made after the source's: not older.
        assert.equal(older.skipped, 2 + counts.symlinks);
        const all = await api.cp(src, dest, { recursive: true, update: 'all' });
        assert.deepEqual(contents(), ['ALPHA', 'bravo', 'charlie']);
        assert.equal(all.files, 3);
        const bad = await failure(() => api.cp(src, dest, { recursive: true, update: 'newer' }));
        assert.equal(bad.code, 'ERR_INVALID_ARG_VALUE');
        assert.match(bad.message, /^The property 'options.update' must be one of: 'all', 'none', 'older'\. Received 'newer'$/);
      });

      // Node refused an existing directory here from some release of each
      // line on (fs.cp first, fs.cpSync later); before, it merged into it.
      // Whatever this Node does, cp() and cpSync() do the same.
      test('errorOnExist over an existing directory, at the top or below: as this Node\'s fs.cp', async () => {
        const options = { recursive: true, force: false, errorOnExist: true, verbatimSymlinks: true };
        /** How a copy into `dest` went, with dest's own path left out. */
        const outcome = async (cp, dest, extra = {}) => {
          try {
            await cp(src, dest, { ...options, ...extra });
            return { merged: true };
          } catch (err) {
            const named = (p) => worded(p).replaceAll(dest, 'DEST');
            return { code: err.code, path: named(err.path), message: named(err.message) };
          }
        };
        const top = (cp, dest) => (fs.mkdirSync(dest), outcome(cp, dest));
        // Below the top: the filter makes sub at dest just before it is copied.
        const makesSub = (s, d) => (s.endsWith(`${path.sep}sub`) && fs.mkdirSync(d), true);
        const below = (cp, dest) => outcome(cp, dest, { filter: makesSub });
        for (const [form, run] of [['top', top], ['below', below]]) {
          const ours = await run(api.cp, path.join(dir, form));
          assert.deepEqual(ours, await run(nodeCp, path.join(dir, `node-${form}`)), form);
          assert.ok(ours.merged || ours.code === 'ERR_FS_CP_EEXIST', JSON.stringify(ours));
          // Merged: the source's tree (Node 22's fs.cpSync leaves sub/deeper at 0755).
          if (ours.merged) assert.deepEqual(diffTrees(src, path.join(dir, form), { rootMode: false }), [], form);
        }
      });

      test('dereference: copies what links point to, directories too', async () => {
        fs.symlinkSync('sub', path.join(src, 'dir-link'), 'dir');
        before = describeTree(src);
        const { ours, node } = await cpBoth({ recursive: true, dereference: true }, 'deref');
        assert.equal(fs.lstatSync(path.join(ours, 'sub', 'rel-link')).isFile(), true);
        assert.equal(fs.readFileSync(path.join(ours, 'sub', 'rel-link'), 'utf8'), 'alpha');
        assert.equal(fs.lstatSync(path.join(ours, 'dir-link')).isDirectory(), true);
        assert.deepEqual(diffTrees(node, ours), []);
        const pair = await failure(() => api.cp(src, path.join(dir, 'x'), { dereference: true, verbatimSymlinks: true }));
        assert.equal(pair.code, 'ERR_INCOMPATIBLE_OPTION_PAIR');
      }, links);

      test('dereference: a link back to an ancestor is an error, not an endless copy', async () => {
        fs.symlinkSync('..', path.join(src, 'sub', 'up'), 'dir');
        before = describeTree(src);
        const err = await failure(() => api.cp(src, path.join(dir, 'loop'), { recursive: true, dereference: true }));
        assert.equal(err.code, 'ELOOP');
        assert.match(err.message, /leads back into its own ancestor/);
      }, links);

      test('preserveTimestamps: files and the directories it creates', async () => {
        fs.utimesSync(path.join(src, 'sub'), new Date('2001-01-01T00:00:00.123Z'), new Date('2002-02-02T00:00:00.456Z'));
        fs.utimesSync(path.join(src, 'a.txt'), new Date('2003-03-03T00:00:00Z'), new Date('2004-04-04T00:00:00.789Z'));
        before = describeTree(src);
        const { ours, node } = await cpBoth({ recursive: true, preserveTimestamps: true, verbatimSymlinks: true }, 'times');
        assert.deepEqual(diffTrees(node, ours, { timestamps: 'ms' }), []);
        // As finely as this filesystem keeps times (HFS+: whole seconds).
        const ns = 1012608000456000000n;
        const kept = new Date(Number((ns - (ns % env.timeResolution)) / 1_000_000n));
        assert.equal(fs.statSync(path.join(ours, 'sub')).mtime.toISOString(), kept.toISOString());
      });

      test("preserve links and timestamps: a link group stays one file, counted once; merged directories and symlinks get the source's times", async () => {
        fs.linkSync(path.join(src, 'a.txt'), path.join(src, 'sub', 'a-link.txt'));
        fs.utimesSync(path.join(src, 'sub'), new Date('2001-01-01T00:00:00Z'), new Date('2002-02-02T00:00:00Z'));
        if (!links) fs.lutimesSync(path.join(src, 'sub', 'rel-link'), new Date('2003-03-03T00:00:00Z'), new Date('2004-04-04T00:00:00Z'));
        before = describeTree(src);
        const dest = path.join(dir, 'kept');
        fs.mkdirSync(path.join(dest, 'sub'), { recursive: true });
        const result = await api.cp(src, dest, { recursive: true, preserve: ['links', 'timestamps'] });
        assert.deepEqual([result.files, result.bytes, result.strategies.hardlink], [4, 17, 1]);
        assert.equal(fs.statSync(path.join(dest, 'sub', 'a-link.txt')).ino, fs.statSync(path.join(dest, 'a.txt')).ino);
        // 'sub' was there already: preserve 'timestamps' gives it the source's times too (fs.cp leaves them).
        assert.equal(fs.statSync(path.join(dest, 'sub')).mtime.toISOString(), '2002-02-02T00:00:00.000Z');
        if (!links) assert.equal(fs.lstatSync(path.join(dest, 'sub', 'rel-link')).mtime.toISOString(), '2004-04-04T00:00:00.000Z');
      });

      test('filter: sync, async, per entry, with fs.cp paths; a throw rejects the copy', async () => {
        const seen = [];
        const dest = path.join(dir, 'filtered');
        const result = await api.cp(src, dest, {
          recursive: true,
          filter: (s, d) => {
            seen.push([s, d]);
            return !s.endsWith('b.txt') && path.basename(s) !== 'deeper';
          },
        });
        const saw = (s, d) => seen.some(([a, b]) => a === s && b === d);
        assert.ok(saw(src, dest));
        assert.ok(saw(path.join(src, 'sub', 'b.txt'), path.join(dest, 'sub', 'b.txt')));
        assert.equal(seen.some(([s]) => s.endsWith('c.txt')), false); // below a filtered directory
        assert.equal(fs.existsSync(path.join(dest, 'sub', 'b.txt')), false);
        assert.equal(fs.existsSync(path.join(dest, 'sub', 'deeper')), false);
        assert.equal(result.skipped, 2);

        const asyncFilter = { recursive: true, filter: async (s) => !s.endsWith('a.txt') };
        if (sync) {
          // fs.cpSync refuses a filter that answers with a promise, and so does cpSync.
          const ours = await failure(() => api.cp(src, path.join(dir, 'async'), asyncFilter));
          const node = await failure(() => fs.cpSync(src, path.join(dir, 'async-node'), asyncFilter));
          assert.equal(ours.code, 'ERR_INVALID_RETURN_VALUE');
          assert.equal(ours.message, node.message);
        } else {
          await api.cp(src, path.join(dir, 'async'), asyncFilter);
          assert.equal(fs.existsSync(path.join(dir, 'async', 'a.txt')), false);
          assert.equal(fs.existsSync(path.join(dir, 'async', 'sub', 'b.txt')), true);
        }

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
        assert.equal(err, boom);
        assert.equal((await api.cp(src, path.join(dir, 'none'), { recursive: true, filter: () => false })).skipped, 1);
        assert.equal(fs.existsSync(path.join(dir, 'none')), false);
      });

      test(`mode: COPYFILE_FICLONE_FORCE ${env.clones ? 'clones every file' : 'where nothing clones fails the copy'}`, async () => {
        const forced = path.join(dir, 'forced');
        if (env.clones) {
          const result = await api.cp(src, forced, { recursive: true, mode: constants.COPYFILE_FICLONE_FORCE });
          assert.equal(result.strategies.reflink, 3);
          assert.deepEqual(diffTrees(src, forced), []);
        } else {
          const err = await failure(() => api.cp(src, forced, { recursive: true, mode: constants.COPYFILE_FICLONE_FORCE }));
          assert.equal(err.code, 'ENOTSUP');
          assert.equal(err.syscall, 'copyfile');
        }
        const bad = await failure(() => api.cp(src, path.join(dir, 'x'), { mode: 8 }));
        assert.equal(bad.code, 'ERR_OUT_OF_RANGE');
      });

      test('strategy: hardlink links every file; copy never clones', async () => {
        const linked = await api.cp(src, path.join(dir, 'linked'), { recursive: true, strategy: 'hardlink' });
        assert.equal(linked.strategies.hardlink, 3);
        assert.equal(fs.statSync(path.join(dir, 'linked', 'a.txt')).ino, fs.statSync(path.join(src, 'a.txt')).ino);
        const copied = await api.cp(src, path.join(dir, 'copied'), { recursive: true, strategy: 'copy' });
        assert.equal(copied.strategies.reflink + copied.strategies.hardlink, 0);
        assert.deepEqual(diffTrees(src, path.join(dir, 'copied')), []);
      });

      test('concurrency and onProgress', async () => {
        const big = path.join(dir, 'big');
        fs.mkdirSync(big);
        for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(big, `f${i}`), `${i}`);
        const progress = [];
        const result = await api.cp(big, path.join(dir, 'big-copy'), { recursive: true, concurrency: 1, onProgress: (p) => progress.push(p) });
        assert.equal(result.files, 300);
        assert.deepEqual(progress.at(-1), { files: 300, bytes: result.bytes });
        for (let i = 1; i < progress.length; i++) assert.ok(progress[i].files >= progress[i - 1].files);
        for (const concurrency of [0, 0.5, -1, 65]) {
          const bad = await failure(() => api.cp(src, path.join(dir, 'x'), { recursive: true, concurrency }));
          assert.equal(bad.code, 'ERR_OUT_OF_RANGE');
          assert.ok(bad.message.includes('an integer >= 1 && <= 64'), bad.message);
          assert.equal(fs.existsSync(path.join(dir, 'x')), false);
        }
      });

      test('errors before anything is written: same path, dest inside src, missing src', async () => {
        const same = await failure(() => api.cp(src, src, { recursive: true }));
        assert.equal(same.code, 'ERR_FS_CP_EINVAL');
        assert.equal(same.message, worded((await failure(() => nodeCp(src, src, { recursive: true }))).message));
        const inside = path.join(src, 'sub', 'copy');
        const sub = await failure(() => api.cp(src, inside, { recursive: true }));
        assert.equal(sub.code, 'ERR_FS_CP_EINVAL');
        assert.equal(sub.message, worded((await failure(() => nodeCp(src, inside, { recursive: true }))).message));
        assert.equal(fs.existsSync(inside), false);
        const missing = await failure(() => api.cp(path.join(dir, 'nope'), path.join(dir, 'd'), { recursive: true }));
        assert.deepEqual([missing.code, missing.syscall, missing.path], ['ENOENT', 'lstat', path.join(dir, 'nope')]);
        assert.equal(fs.existsSync(path.join(dir, 'd')), false);
      });

      test('directory over file and file over directory: fs.cp errors', async () => {
        fs.writeFileSync(path.join(dir, 'file'), 'x');
        const a = await failure(() => api.cp(src, path.join(dir, 'file'), { recursive: true }));
        assert.equal(a.code, 'ERR_FS_CP_DIR_TO_NON_DIR');
        assert.equal(a.message, worded((await failure(() => nodeCp(src, path.join(dir, 'file'), { recursive: true }))).message));
        const b = await failure(() => api.cp(path.join(src, 'a.txt'), path.join(src, 'sub')));
        assert.equal(b.code, 'ERR_FS_CP_NON_DIR_TO_DIR');
        assert.equal(b.message, worded((await failure(() => nodeCp(path.join(src, 'a.txt'), path.join(src, 'sub')))).message));
        // And inside a tree.
        const dest = path.join(dir, 'dest');
        fs.mkdirSync(path.join(dest, 'a.txt'), { recursive: true });
        const c = await failure(() => api.cp(src, dest, { recursive: true }));
        assert.equal(c.code, 'ERR_FS_CP_NON_DIR_TO_DIR');
        assert.equal(
          c.message,
          `Cannot overwrite directory with non-directory: cp returned ENOTDIR (cannot overwrite directory ${path.join(dest, 'a.txt')} with non-directory ${path.join(src, 'a.txt')}) ${path.join(dest, 'a.txt')}`,
        );
      });

      test('a symlink at dest is never written through', async () => {
        const elsewhere = path.join(dir, 'elsewhere');
        fs.mkdirSync(elsewhere);
        const dest = path.join(dir, 'dest');
        fs.mkdirSync(dest);
        fs.symlinkSync(elsewhere, path.join(dest, 'sub'), 'dir');
        const err = await failure(() => api.cp(src, dest, { recursive: true }));
        assert.equal(err.code, 'ERR_FS_CP_DIR_TO_NON_DIR');
        assert.deepEqual(fs.readdirSync(elsewhere), []);
      }, links);

      test('a file over a symlink replaces that entry, as fs.cp does, never what it leads to', async () => {
        const file = path.join(src, 'a.txt');
        const away = path.join(dir, 'away');
        fs.mkdirSync(away);
        const cases = {
          dangling: (at) => fs.symlinkSync(path.join(away, 'made'), at, 'file'),
          'to src': (at) => fs.symlinkSync(file, at, 'file'),
          'to a file': (at) => {
            fs.writeFileSync(path.join(away, 'kept'), 'kept');
            fs.symlinkSync(path.join(away, 'kept'), at, 'file');
          },
        };
        for (const [label, make] of Object.entries(cases)) {
          for (const who of ['ours', 'node']) make(path.join(dir, `${who}-${label}`));
          await api.cp(file, path.join(dir, `ours-${label}`));
          await fs.promises.cp(file, path.join(dir, `node-${label}`));
          for (const who of ['ours', 'node']) {
            const at = path.join(dir, `${who}-${label}`);
            assert.equal(fs.lstatSync(at).isFile(), true, `${who} ${label}`);
            assert.equal(fs.readFileSync(at, 'utf8'), 'alpha');
          }
        }
        assert.deepEqual(fs.readdirSync(away), ['kept']);
        assert.equal(fs.readFileSync(path.join(away, 'kept'), 'utf8'), 'kept');
      }, links);

      test('a link over a link: replaced by the source\'s, as fs.cp replaces it', async () => {
        const { ours, node } = await cpBoth({ recursive: true, verbatimSymlinks: true }, 'links');
        // The copied links pointed elsewhere: copied again, they are the source's once more.
        for (const copy of [ours, node]) {
          fs.unlinkSync(path.join(copy, 'abs-link'));
          fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(copy, 'abs-link'), 'file');
          fs.unlinkSync(path.join(copy, 'sub', 'rel-link'));
          fs.symlinkSync('b.txt', path.join(copy, 'sub', 'rel-link'), 'file');
        }
        const again = await api.cp(src, ours, { recursive: true, verbatimSymlinks: true });
        await fs.promises.cp(src, node, { recursive: true, verbatimSymlinks: true });
        assert.equal(again.symlinks, 2);
        assert.deepEqual(diffTrees(node, ours), []);
        assert.deepEqual(diffTrees(src, ours), []);
      }, links);

      test('dereference: a destination that is a symlink to a directory is copied into, as fs.cp does', async () => {
        for (const who of ['ours', 'node']) {
          fs.mkdirSync(path.join(dir, `${who}-real`));
          fs.symlinkSync(path.join(dir, `${who}-real`), path.join(dir, `${who}-link`), 'dir');
        }
        await api.cp(src, path.join(dir, 'ours-link'), { recursive: true, dereference: true });
        await fs.promises.cp(src, path.join(dir, 'node-link'), { recursive: true, dereference: true });
        assert.equal(fs.lstatSync(path.join(dir, 'ours-link')).isSymbolicLink(), true);
        assert.deepEqual(diffTrees(path.join(dir, 'node-real'), path.join(dir, 'ours-real')), []);
        assert.equal(fs.readFileSync(path.join(dir, 'ours-real', 'sub', 'b.txt'), 'utf8'), 'bravo');
      }, links);

      test('an AbortSignal: AbortError, before or during', async () => {
        const aborted = AbortSignal.abort(new Error('no thanks'));
        const err = await failure(() => api.cp(src, path.join(dir, 'x'), { recursive: true, signal: aborted }));
        assert.deepEqual([err.name, err.code], ['AbortError', 'ABORT_ERR']);
        assert.equal(fs.existsSync(path.join(dir, 'x')), false);

        const wide = path.join(dir, 'wide');
        for (let d = 0; d < 20; d++) {
          fs.mkdirSync(path.join(wide, `d${d}`), { recursive: true });
          for (let f = 0; f < 50; f++) fs.writeFileSync(path.join(wide, `d${d}`, `f${f}`), 'x'.repeat(f));
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
        assert.deepEqual([during.name, during.code], ['AbortError', 'ABORT_ERR']);
        const copied = fs.readdirSync(path.join(dir, 'wide-copy'), { recursive: true }).length;
        assert.ok(copied < 1020, `${copied} entries copied`);
      });

      test('an abort while the top-level checks wait: AbortError, nothing written', async () => {
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
        assert.deepEqual([err.name, err.code], ['AbortError', 'ABORT_ERR']);
        assert.equal(fs.existsSync(path.join(dir, 'later')), false);
      }, sync ? "cpSync's checks do not wait: its filter answers at once" : null);

      test('Unicode and long names, at both ends', async () => {
        const deep = path.join(src, 'ünïcødé-日本', 'x'.repeat(120), 'y'.repeat(120));
        fs.mkdirSync(deep, { recursive: true });
        fs.writeFileSync(path.join(deep, `${'z'.repeat(100)}-🐄.txt`), 'moo');
        before = describeTree(src);
        const { ours, node } = await cpBoth({ recursive: true, verbatimSymlinks: true }, 'names-ü');
        assert.ok(path.join(ours, 'ünïcødé-日本', 'x'.repeat(120), 'y'.repeat(120), `${'z'.repeat(100)}-🐄.txt`).length > 260);
        assert.deepEqual(diffTrees(node, ours), []);
      });

      test('options are validated as fs.cp validates them', async () => {
        const modes = [1.5, NaN, Infinity, 8, -1, '1'].map((mode) => ({ mode }));
        for (const bad of [{ recursive: 1 }, { force: 'yes' }, { filter: 1 }, { recursive: undefined }, null, 'x', ...modes]) {
          const ours = await failure(() => api.cp(src, path.join(dir, 'v'), bad));
          const node = await failure(() => fs.promises.cp(src, path.join(dir, 'v'), bad));
          assert.equal(ours.code, node.code);
          assert.equal(ours.message, node.message);
        }
        const strategy = await failure(() => api.cp(src, path.join(dir, 'v'), { strategy: 'fast' }));
        assert.equal(strategy.code, 'ERR_INVALID_ARG_VALUE');
        const signal = await failure(() => api.cp(src, path.join(dir, 'v'), { signal: {} }));
        assert.equal(signal.code, 'ERR_INVALID_ARG_TYPE');
        assert.equal(fs.existsSync(path.join(dir, 'v')), false);
      });
    });
  }
}
