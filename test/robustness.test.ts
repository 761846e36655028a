// Bad input, faults, races, load: nothing lost, nothing written outside the
// destination, nothing left open.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, nativeUnderTest } from './helpers/backends.js';
import { CHILD_HANG, randomFile, sha256, tempDir, failure, waitFor } from './helpers/files.js';
import { filesystems, runsOn, scratchOn, titleOn } from './helpers/filesystems.js';
import { describeTree, diffTrees, makeWritable } from './helpers/trees.js';

const root = tempDir('robust');
// Tests that drop privileges need to reach their directories.
fs.chmodSync(root, 0o755);
const cleanup: string[] = [root];
afterAll(() => {
  for (const dir of cleanup) {
    makeWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
const dist = (file: string) => JSON.stringify(path.resolve('dist', file));


const openDescriptors = () => fs.readdirSync('/proc/self/fd').length;
const threads = () => fs.readdirSync('/proc/self/task').length;

/** Runs a script in a fresh node, as nobody when we are root; returns its parsed stdout. */
function runAsNobody(script: string, env: Record<string, string> = {}): unknown {
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, ...asNobody });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}

/** A directory nobody can write into and read from (made by root for the tests that drop privileges). */
function sharedDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(root, `${label}-`));
  fs.chmodSync(dir, 0o777);
  return dir;
}

describe.each(backends)('$name backend: bad input', ({ name, api }) => {
  it('names of 255 bytes, newlines, and paths near PATH_MAX', async () => {
    const dir = fs.mkdtempSync(path.join(root, `names-${name}-`));
    const long = 'n'.repeat(250) + '.txt'; // 254 bytes
    const longest = 'é'.repeat(127) + 'x'; // 255 bytes in UTF-8
    fs.writeFileSync(path.join(dir, long), 'long');
    await api.copyFile(path.join(dir, long), path.join(dir, longest));
    expect(fs.readFileSync(path.join(dir, longest), 'utf8')).toBe('long');
    const tooLong = await failure(() => api.copyFile(path.join(dir, long), path.join(dir, `${longest}x`)));
    expect(tooLong.code).toBe('ENAMETOOLONG');

    fs.writeFileSync(path.join(dir, 'line\nbreak'), 'nl');
    expect((await api.clone(path.join(dir, 'line\nbreak'), path.join(dir, 'copy\nof'))).bytes).toBe(2);

    // A tree whose deepest path is close to PATH_MAX (4096).
    let deep = path.join(dir, 'tree');
    while (deep.length < 3900) deep = path.join(deep, 'd'.repeat(120));
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(path.join(deep, 'leaf'), 'bottom');
    const copied = path.join(dir, 'copy');
    await api.cp(path.join(dir, 'tree'), copied, { recursive: true });
    expect(diffTrees(path.join(dir, 'tree'), copied)).toEqual([]);
  });

  it('an unreadable directory mid-tree: EACCES naming it, as nobody', () => {
    const dir = sharedDir(`unreadable-${name}`);
    const src = path.join(dir, 'src');
    for (const d of ['a', 'b', 'c']) {
      fs.mkdirSync(path.join(src, d), { recursive: true });
      fs.writeFileSync(path.join(src, d, 'f'), d);
    }
    fs.chmodSync(src, 0o755);
    fs.chmodSync(path.join(src, 'b'), 0o000);
    const script = `require(${dist('index.js')}).cp(${JSON.stringify(src)}, ${JSON.stringify(path.join(dir, 'dest'))}, { recursive: true })
      .then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, syscall: e.syscall, path: e.path })));`;
    const result = runAsNobody(script, { COWCOPY_DISABLE_NATIVE: name === 'fallback' ? '1' : '' });
    expect(result).toMatchObject({ code: 'EACCES', syscall: 'opendir', path: path.join(src, 'b') }); // as fs.cp says
    fs.chmodSync(path.join(src, 'b'), 0o755);
  });

  it('a read-only destination directory: EACCES, nothing written, as nobody', () => {
    const dir = sharedDir(`rodest-${name}`);
    const src = path.join(dir, 'src.txt');
    fs.writeFileSync(src, 'content');
    fs.chmodSync(src, 0o644);
    const dest = path.join(dir, 'ro');
    fs.mkdirSync(dest);
    fs.chmodSync(dest, 0o555);
    const script = `const c = require(${dist('index.js')});
      Promise.allSettled([
        c.clone(${JSON.stringify(src)}, ${JSON.stringify(path.join(dest, 'x'))}),
        c.cp(${JSON.stringify(src)}, ${JSON.stringify(path.join(dest, 'y'))}),
      ]).then((r) => console.log(JSON.stringify(r.map((s) => s.status === 'rejected' ? [s.reason.code, s.reason.dest] : 'ok'))));`;
    expect(runAsNobody(script, { COWCOPY_DISABLE_NATIVE: name === 'fallback' ? '1' : '' })).toEqual([
      ['EACCES', path.join(dest, 'x')],
      ['EACCES', path.join(dest, 'y')],
    ]);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  it('a symlink in the source is copied as a symlink, never as what it points to', async () => {
    const dir = fs.mkdtempSync(path.join(root, `passwd-${name}-`));
    fs.mkdirSync(path.join(dir, 'src'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'src', 'passwd'));
    await api.cp(path.join(dir, 'src'), path.join(dir, 'dest'), { recursive: true });
    expect(fs.lstatSync(path.join(dir, 'dest', 'passwd')).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(dir, 'dest', 'passwd'))).toBe('/etc/passwd');
  });

  it('setuid and setgid bits are kept, as fs.promises.cp keeps them, by a user (whose writes clear them)', () => {
    const dir = sharedDir(`suid-${name}`);
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'tool'), '#!/bin/sh\n');
    fs.chmodSync(path.join(dir, 'src', 'tool'), 0o6755);
    const at = (rel: string) => JSON.stringify(path.join(dir, rel));
    const script = `const c = require(${dist('index.js')}); const fs = require('node:fs');
      const mode = (p) => (fs.statSync(p).mode & 0o7777).toString(8);
      (async () => {
        // Node's fs.promises.cp sets the mode again after the data on every
        // line; its cpSync (C++ from Node 22) loses the bits on 22 and 24.
        await fs.promises.cp(${at('src')}, ${at('node')}, { recursive: true });
        await c.cp(${at('src')}, ${at('dest')}, { recursive: true });
        c.cpSync(${at('src')}, ${at('dest-sync')}, { recursive: true });
        await c.copyFile(${at('src/tool')}, ${at('single')});
        c.copyFileSync(${at('src/tool')}, ${at('single-sync')});
        console.log(JSON.stringify([${at('node/tool')}, ${at('dest/tool')}, ${at('dest-sync/tool')}, ${at('single')}, ${at('single-sync')}].map(mode)));
      })();`;
    expect(runAsNobody(script, { COWCOPY_DISABLE_NATIVE: name === 'fallback' ? '1' : '' })).toEqual(Array(5).fill('6755'));
  });

  it('read-only source directories with files in them copy as nobody, their modes kept', () => {
    const dir = sharedDir(`ro-tree-${name}`);
    const src = path.join(dir, 'src');
    fs.mkdirSync(path.join(src, 'shut', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(src, 'shut', 'a'), 'a');
    fs.writeFileSync(path.join(src, 'shut', 'deeper', 'b'), 'b');
    fs.chmodSync(path.join(src, 'shut', 'deeper'), 0o555);
    fs.chmodSync(path.join(src, 'shut'), 0o555);
    const dest = path.join(dir, 'dest');
    const script = `const c = require(${dist('index.js')});
      c.cp(${JSON.stringify(src)}, ${JSON.stringify(dest)}, { recursive: true }).then(
        (r) => console.log(JSON.stringify({ files: r.files, directories: r.directories })),
        (e) => console.log(JSON.stringify({ code: e.code, path: e.path })));`;
    expect(runAsNobody(script, { COWCOPY_DISABLE_NATIVE: name === 'fallback' ? '1' : '' })).toEqual({ files: 2, directories: 3 });
    expect(diffTrees(src, dest)).toEqual([]);
  });
});

describe('native: what only descriptors can do', () => {
  const { api } = nativeUnderTest;

  it('names that are not UTF-8, inside a tree, keep their bytes', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'bytes-'));
    const src = Buffer.from(path.join(dir, 'src'));
    fs.mkdirSync(src);
    const odd = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]);
    fs.writeFileSync(Buffer.concat([src, Buffer.from('/'), odd]), 'bytes');
    await api.cp(path.join(dir, 'src'), path.join(dir, 'dest'), { recursive: true });
    const names = fs.readdirSync(path.join(dir, 'dest'), { encoding: 'buffer' });
    expect(names).toEqual([odd]);
  });

  it('a destination directory swapped for a symlink mid-walk: nothing is written outside', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'swap-'));
    const src = path.join(dir, 'src');
    for (const sub of ['a/b/c', 'a/b/d', 'a/e']) {
      fs.mkdirSync(path.join(src, sub), { recursive: true });
      for (let f = 0; f < 5; f++) fs.writeFileSync(path.join(src, sub, `f${f}`), 'data');
    }
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    const dest = path.join(dir, 'dest');
    let swapped = false;
    const err = await failure(() =>
      api.cp(src, dest, {
        recursive: true,
        concurrency: 1,
        // The filter runs when a directory's entries are known, before they
        // are copied: the moment to swap dest/a/b for a link to outside.
        filter: (s) => {
          if (!swapped && s === path.join(src, 'a', 'b', 'c')) {
            fs.renameSync(path.join(dest, 'a', 'b'), path.join(dir, 'moved-away'));
            fs.symlinkSync(outside, path.join(dest, 'a', 'b'));
            swapped = true;
          }
          return true;
        },
      }),
    );
    expect(swapped).toBe(true);
    expect(err.code).toMatch(/^(ELOOP|ENOTDIR|EXDEV)$/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('a source directory swapped for a symlink mid-walk is not followed', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'srcswap-'));
    const src = path.join(dir, 'src');
    for (const sub of ['a/x', 'a/y', 'b']) {
      fs.mkdirSync(path.join(src, sub), { recursive: true });
      fs.writeFileSync(path.join(src, sub, 'f'), 'data');
    }
    const secret = path.join(dir, 'secret');
    fs.mkdirSync(secret);
    fs.writeFileSync(path.join(secret, 'key'), 'do not copy');
    let swapped = false;
    const outcome = await api
      .cp(src, path.join(dir, 'dest'), {
        recursive: true,
        concurrency: 1,
        filter: (s) => {
          if (!swapped && s === path.join(src, 'a', 'x')) {
            fs.renameSync(path.join(src, 'a', 'y'), path.join(dir, 'y-moved'));
            fs.symlinkSync(secret, path.join(src, 'a', 'y'));
            swapped = true;
          }
          return true;
        },
      })
      .then(
        () => 'ok',
        (e: NodeJS.ErrnoException) => e.code,
      );
    expect(swapped).toBe(true);
    // Either it failed (the directory it listed is gone) or it copied the link as a link.
    expect(['ok', 'ELOOP', 'ENOTDIR', 'ENOENT']).toContain(outcome);
    expect(fs.existsSync(path.join(dir, 'dest', 'a', 'y', 'key')) && fs.lstatSync(path.join(dir, 'dest', 'a', 'y')).isDirectory()).toBe(
      false,
    );
  });

  // On ext4: a kernel copy long enough to change the file under it.
  it.runIf(runsOn('ext4'))('a file that shrinks or grows while it is copied: no hang, a prefix of what was there', async () => {
    const dir = scratchOn('ext4', 'changing');
    cleanup.push(dir);
    const src = randomFile(path.join(dir, 'src'), 64 * 1024 * 1024);
    const head = fs.readFileSync(src).subarray(0, 1024 * 1024);
    // The copy runs on a worker thread; truncate it from here meanwhile.
    const copying = api.clone(src, path.join(dir, 'shrunk'), { strategy: 'copy' });
    fs.truncateSync(src, 1024 * 1024);
    const shrunk = await copying;
    const copied = fs.readFileSync(path.join(dir, 'shrunk'));
    expect(copied.length).toBe(shrunk.bytes);
    expect(copied.subarray(0, 1024 * 1024).equals(head)).toBe(true);

    const growing = api.clone(src, path.join(dir, 'grown'), { strategy: 'copy' });
    fs.appendFileSync(src, Buffer.alloc(8 * 1024 * 1024, 7));
    const grown = await growing;
    expect(grown.bytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(fs.readFileSync(path.join(dir, 'grown')).equals(fs.readFileSync(src).subarray(0, grown.bytes))).toBe(true);
  });
});

describe.runIf(runsOn('eio') && runsOn('ext4'))(titleOn('eio', 'an I/O error mid-tree'), () => {
  describe.each(backends)('$name backend', ({ api }) => {
    it('EIO: the failing path is named, the walk stops, nothing pre-existing is overwritten', async () => {
      const tree = path.join(filesystems.eio.root!, 'tree');
      const dest = path.join(scratchOn('ext4', 'eio'), 'dest');
      cleanup.push(path.dirname(dest));
      fs.mkdirSync(path.join(dest, 'd5'), { recursive: true });
      fs.writeFileSync(path.join(dest, 'd5', 'f0'), 'mine');
      const err = await failure(() => api.cp(tree, dest, { recursive: true, force: false, concurrency: 1 }));
      expect(err).toMatchObject({ code: 'EIO', path: path.join(tree, 'd5', 'f5') });
      expect(fs.readFileSync(path.join(dest, 'd5', 'f0'), 'utf8')).toBe('mine');
      expect(fs.existsSync(path.join(dest, 'd5', 'f5'))).toBe(false);
      // Whatever was copied is whole.
      for (const [rel, e] of describeTree(dest)) {
        if (e.type === 'file' && rel !== path.join('d5', 'f0')) expect(e.hash).toBe(sha256(path.join(tree, rel)));
      }
    });
  });
});

describe('load and resources (native)', () => {
  const { api } = nativeUnderTest;

  it('10,000 concurrent copyFile calls, half failing, leave no descriptor behind', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'load-'));
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(dir, `s${i}`), `source ${i}`);
    const fdsBefore = openDescriptors();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10_000 }, (_, i) =>
        i % 2 === 0
          ? api.copyFile(path.join(dir, `s${i % 100}`), path.join(dir, `d${i}`))
          : api.copyFile(path.join(dir, `missing${i}`), path.join(dir, `d${i}`)),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5000);
    expect(outcomes.filter((o) => o.status === 'rejected' && (o.reason as NodeJS.ErrnoException).code === 'ENOENT')).toHaveLength(5000);
    for (let i = 0; i < 10_000; i += 2) expect(fs.readFileSync(path.join(dir, `d${i}`), 'utf8')).toBe(`source ${i % 100}`);
    expect(await waitFor(openDescriptors, (n) => n === fdsBefore)).toBe(fdsBefore);
  });

  it('an aborted tree copy leaves no descriptor and no thread behind', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'abort-'));
    for (let d = 0; d < 30; d++) {
      fs.mkdirSync(path.join(dir, 'src', `d${d}`), { recursive: true });
      for (let f = 0; f < 50; f++) fs.writeFileSync(path.join(dir, 'src', `d${d}`, `f${f}`), 'x');
    }
    const fdsBefore = openDescriptors();
    const threadsBefore = threads();
    for (let round = 0; round < 5; round++) {
      const controller = new AbortController();
      let seen = 0;
      const err = await failure(() =>
        api.cp(path.join(dir, 'src'), path.join(dir, `dest${round}`), {
          recursive: true,
          signal: controller.signal,
          filter: () => {
            if (++seen === 200) controller.abort();
            return true;
          },
        }),
      );
      expect(err.name).toBe('AbortError');
    }
    // A walk's thread ends just after it answers: waited for, on a loaded machine.
    expect(await waitFor(openDescriptors, (n) => n === fdsBefore)).toBe(fdsBefore);
    expect(await waitFor(threads, (n) => n === threadsBefore)).toBe(threadsBefore);
  });

  it('a filter still answering when the walk is aborted: AbortError, its late answers are dropped', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'late-filter-'));
    const src = path.join(dir, 'src');
    for (let d = 0; d < 4; d++) {
      fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
      fs.writeFileSync(path.join(src, `d${d}`, 'f'), 'x');
    }
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const controller = new AbortController();
    let asked = 0;
    let answered = 0;
    const err = await failure(() =>
      api.cp(src, path.join(dir, 'dest'), {
        recursive: true,
        signal: controller.signal,
        filter: async (s) => {
          if (s === src) return true; // the top level, asked before the walk
          // The root's four entries: aborted while they wait.
          if (++asked === 1) setTimeout(() => controller.abort(), 50);
          await sleep(300);
          answered++;
          return true;
        },
      }),
    );
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(answered).toBe(0);
    // The walk stopped waiting at the abort; the answers come later, into
    // what the walk has let go of (AddressSanitizer watches under
    // npm run test:asan).
    while (answered < asked) await sleep(20);
    await sleep(20);
    const after = await api.cp(src, path.join(dir, 'after'), { recursive: true });
    expect(after.files).toBe(4);
  });

  it('a filter awaiting fs.promises does not wait forever for libuv\'s pool (UV_THREADPOOL_SIZE=1, 4 walks)', () => {
    const dir = fs.mkdtempSync(path.join(root, 'pool-'));
    const src = path.join(dir, 'src');
    for (let d = 0; d < 5; d++) {
      fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(src, `d${d}`, `f${f}`), `${d}/${f}`);
    }
    // A walk must not hold a pool thread while its workers wait for the
    // filter: the filter's stat needs one.
    const script = `
      const fs = require('node:fs');
      const c = require(${dist('index.js')});
      const filter = async (s) => { await fs.promises.stat(s); return true; };
      Promise.all([0, 1, 2, 3].map((i) => c.cp(${JSON.stringify(src)}, ${JSON.stringify(dir)} + '/dest' + i, { recursive: true, filter })))
        .then((rs) => console.log(JSON.stringify(rs.map((r) => r.files))), (e) => { console.error(e); process.exit(1); });`;
    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
      // A hang is what this catches.
      timeout: CHILD_HANG,
    });
    expect(run.signal).toBe(null);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([100, 100, 100, 100]);
  });

  it('an abort during a large byte copy stops within the file and removes it', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'big-abort-'));
    fs.mkdirSync(path.join(dir, 'src'));
    // 256 MiB of data, no holes: many 64 MiB steps of the byte copy.
    const chunk = Buffer.alloc(1 << 20);
    const fd = fs.openSync(path.join(dir, 'src', 'big'), 'w');
    for (let i = 0; i < 256; i++) {
      chunk.fill(i);
      fs.writeSync(fd, chunk);
    }
    fs.closeSync(fd);
    // Aborted once the copy has begun: as soon as the new file has bytes.
    const controller = new AbortController();
    const watch = setInterval(() => {
      const size = fs.statSync(path.join(dir, 'dest', 'big'), { throwIfNoEntry: false })?.size ?? 0;
      if (size > 0) controller.abort();
    }, 1);
    const err = await failure(() =>
      api.cp(path.join(dir, 'src'), path.join(dir, 'dest'), { recursive: true, strategy: 'copy', signal: controller.signal }),
    ).finally(() => clearInterval(watch));
    expect(controller.signal.aborted).toBe(true);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    // Stopped within the file: a file copied to its end would have stayed.
    expect(fs.readdirSync(path.join(dir, 'dest'))).toEqual([]);
    fs.rmSync(path.join(dir, 'src'), { recursive: true });
  });

  it('tree copies from 8 worker threads at once, and a worker terminated mid-copy', () => {
    const dir = fs.mkdtempSync(path.join(root, 'workers-'));
    const src = path.join(dir, 'src');
    for (let d = 0; d < 20; d++) {
      fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(src, `d${d}`, `f${f}`), `${d}/${f}`);
    }
    // In a child process: if terminating a worker crashed the addon, only it dies.
    const script = `
      const { Worker } = require('node:worker_threads');
      const path = require('node:path');
      const code = (dest) => \`
        const { parentPort } = require('node:worker_threads');
        const c = require(${dist('index.js')});
        parentPort.postMessage('loaded ' + c.backend);
        c.cp(\${JSON.stringify(${JSON.stringify(src)})}, \${JSON.stringify(dest)}, { recursive: true })
          .then((r) => parentPort.postMessage(r.files), (e) => parentPort.postMessage('error ' + e.message));\`;
      const run = (dest) => new Promise((resolve, reject) => {
        const w = new Worker(code(dest), { eval: true });
        const messages = [];
        w.on('message', (m) => { messages.push(m); if (typeof m === 'number' || String(m).startsWith('error')) resolve(messages); });
        w.on('error', reject);
      });
      (async () => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => run(path.join(${JSON.stringify(dir)}, 'w' + i))));
        // Terminated while its copy runs: the process must carry on.
        const doomed = new Worker(code(path.join(${JSON.stringify(dir)}, 'doomed')), { eval: true });
        await new Promise((resolve) => doomed.once('message', resolve));
        await new Promise((resolve) => setTimeout(resolve, 5));
        await doomed.terminate();
        const after = await run(path.join(${JSON.stringify(dir)}, 'after'));
        const c = require(${dist('index.js')});
        const main = await c.cp(${JSON.stringify(src)}, path.join(${JSON.stringify(dir)}, 'main'), { recursive: true });
        console.log(JSON.stringify({ results, after, main: main.files }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.results).toEqual(Array.from({ length: 8 }, () => ['loaded native', 2000]));
    expect(out.after).toEqual(['loaded native', 2000]);
    expect(out.main).toBe(2000);
    for (let i = 0; i < 8; i++) expect(diffTrees(src, path.join(dir, `w${i}`))).toEqual([]);
  });

  it('memory stays flat across 100 tree clones', () => {
    // Memory, not the disk, is measured: on tmpfs where there is one (a slow
    // disk made this take most of a minute).
    const dir = fs.mkdtempSync(fs.existsSync('/dev/shm') ? '/dev/shm/cowcopy-memory-' : path.join(root, 'memory-'));
    cleanup.push(dir);
    const src = path.join(dir, 'src');
    for (let d = 0; d < 10; d++) {
      fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 50; f++) fs.writeFileSync(path.join(src, `d${d}`, `f${f}`), 'm'.repeat(f));
    }
    const script = `
      const fs = require('node:fs');
      const c = require(${dist('index.js')});
      const once = async (i) => {
        const dest = ${JSON.stringify(dir)} + '/dest';
        await c.cp(${JSON.stringify(src)}, dest, { recursive: true, onProgress: () => {}, filter: () => true });
        fs.rmSync(dest, { recursive: true });
      };
      (async () => {
        for (let i = 0; i < 20; i++) await once(i);
        global.gc();
        const before = process.memoryUsage();
        for (let i = 0; i < 100; i++) await once(i);
        global.gc();
        const after = process.memoryUsage();
        console.log(JSON.stringify({ rss: after.rss - before.rss, external: after.external - before.external, heap: after.heapUsed - before.heapUsed }));
      })();`;
    // Under npm run test:asan, freed memory waits in AddressSanitizer's
    // quarantine (up to 256 MB): without it, RSS measures this code again.
    const asan = process.env.ASAN_OPTIONS;
    const env = asan ? { ...process.env, ASAN_OPTIONS: `${asan}:quarantine_size_mb=0` } : process.env;
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env });
    expect(run.stderr).toBe('');
    const growth = JSON.parse(run.stdout) as { rss: number; external: number; heap: number };
    expect(growth.rss).toBeLessThan(8 * 1024 * 1024);
    expect(growth.heap).toBeLessThan(2 * 1024 * 1024);
  });
});
