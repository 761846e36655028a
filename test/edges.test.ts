// The edges an adversarial probe found: a process that may not make more
// threads or open more descriptors, a worker terminated at the worst moment,
// paths that are bytes, pseudo-files, names near NAME_MAX, probe per
// directory, a throwing onProgress. Each test fails on the code before its fix.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, nativeUnderTest } from './helpers/backends.js';
import { CHILD_HANG, failure, tempDir } from './helpers/files.js';
import { runsOn, scratchOn, titleOn } from './helpers/filesystems.js';
import { makeWritable } from './helpers/trees.js';

const root = tempDir('edges');
fs.chmodSync(root, 0o755); // tests that drop privileges reach their directories
const cleanup: string[] = [root];
afterAll(() => {
  for (const dir of cleanup) {
    makeWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
const dist = (file: string) => JSON.stringify(path.resolve('dist', file));
const asRoot = process.getuid?.() === 0;
const onLinux = process.platform === 'linux';

/** A tree of `dirs` x `files` small files, readable by everyone. */
function smallTree(dir: string, dirs = 5, files = 20): string {
  for (let d = 0; d < dirs; d++) {
    fs.mkdirSync(path.join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < files; f++) fs.writeFileSync(path.join(dir, `d${d}`, `f${f}`), `${d}/${f}`);
  }
  return dir;
}

function sharedDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(root, `${label}-`));
  fs.chmodSync(dir, 0o777);
  return dir;
}

describe.runIf(onLinux && asRoot)('a process that may not make another thread (RLIMIT_NPROC, as a user)', () => {
  // RLIMIT_NPROC counts every task of the user: a uid no one else runs as
  // (not nobody, which other suites and the machine use meanwhile), so the
  // count below stays what it was when the limit was set.
  const uid = 61000 + (process.pid % 4000);

  /** Tasks (threads) of that uid now. */
  function userTasks(): number {
    let count = 0;
    for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))) count += fs.readdirSync(`/proc/${pid}/task`).length;
      } catch {
        // gone meanwhile
      }
    }
    return count;
  }

  /** Node, as that user, once its pool has started (the threads it has from then on). */
  const warmUp = `const fs = require('node:fs');
    const warm = Promise.all(Array.from({ length: 8 }, () => fs.promises.stat('/')));`;

  /**
   * cp() three ways in a node child as that user whose RLIMIT_NPROC (ulimit -u)
   * leaves exactly `spare` more threads than it has once started.
   */
  function copiesWith(spare: number): unknown {
    const dir = sharedDir(`nproc-${spare}`);
    const src = smallTree(path.join(dir, 'src'));
    const count = spawnSync(process.execPath, ['-e', `${warmUp} warm.then(() => console.log(fs.readdirSync('/proc/self/task').length));`], {
      encoding: 'utf8',
      uid,
      gid: uid,
    });
    const threads = Number(count.stdout.trim());
    expect(threads, count.stderr).toBeGreaterThan(1);
    const script = `${warmUp}
      const c = require(${dist('index.js')});
      warm.then(async () => {
        const files = [];
        for (const concurrency of [undefined, 1, 64]) {
          const r = await c.cp(${JSON.stringify(src)}, ${JSON.stringify(dir)} + '/dest-' + concurrency, { recursive: true, concurrency });
          files.push(r.files);
          // cpSync's walk needs a thread of its own too.
          files.push(c.cpSync(${JSON.stringify(src)}, ${JSON.stringify(dir)} + '/sync-' + concurrency, { recursive: true, concurrency }).files);
        }
        console.log(JSON.stringify(files));
      }).catch((e) => { console.log(JSON.stringify(String(e))); process.exit(1); });`;
    const limit = userTasks() + threads + spare;
    const run = spawnSync('bash', ['-c', `ulimit -u ${limit} && exec "$0" -e "$1"`, process.execPath, script], {
      encoding: 'utf8',
      uid,
      gid: uid,
    });
    expect(run.signal, run.stderr).toBe(null);
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout.trim());
  }

  it('no thread to spare: the walk runs in JavaScript, each file natively; the process lives', () => {
    expect(copiesWith(0)).toEqual(Array(6).fill(100));
  });

  it('two to spare: the walk and the workers it can have (64 asked)', () => {
    expect(copiesWith(2)).toEqual(Array(6).fill(100));
  });
});

describe.runIf(onLinux)('a process that may not open many descriptors (ulimit -n 40)', () => {
  it('cp() with 8, 16 or 64 workers copies the tree: fewer workers, no EMFILE', () => {
    const dir = fs.mkdtempSync(path.join(root, 'emfile-'));
    const src = smallTree(path.join(dir, 'src'), 10, 30);
    const script = `
      const c = require(${dist('index.js')});
      (async () => {
        const files = [];
        for (const concurrency of [8, 16, 64]) {
          const r = await c.cp(${JSON.stringify(src)}, ${JSON.stringify(dir)} + '/dest-' + concurrency, { recursive: true, concurrency });
          files.push(r.files);
        }
        console.log(JSON.stringify(files));
      })().catch((e) => { console.log(JSON.stringify(e.code + ' ' + e.message)); process.exit(1); });`;
    const run = spawnSync('sh', ['-c', `ulimit -n 40 && exec "$0" -e "$1"`, process.execPath, script], { encoding: 'utf8' });
    expect(run.stdout.trim(), run.stderr).toBe('[300,300,300]');
  });
});

describe('an async filter on the JavaScript walk', () => {
  it('one name rejected, a later one thrown: cp() rejects, and no rejection is left unhandled', () => {
    const dir = fs.mkdtempSync(path.join(root, 'filter-throws-'));
    const src = smallTree(path.join(dir, 'src'), 1, 4);
    const script = `
      process.on('unhandledRejection', (e) => { console.log('unhandled: ' + e.message); });
      require(${dist('index.js')}).cp(${JSON.stringify(src)}, ${JSON.stringify(path.join(dir, 'dest'))}, {
        recursive: true,
        filter: (from) => {
          if (from.endsWith('f0')) return Promise.reject(new Error('async no'));
          if (from.endsWith('f1')) throw new Error('sync no');
          return true;
        },
      }).then(() => console.log('copied'), (e) => console.log('rejected: ' + e.message));
      setTimeout(() => {}, 300);`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, COWCOPY_DISABLE_NATIVE: '1' } });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toMatch(/^rejected: (async|sync) no$/);
  });
});

describe('a worker terminated at the worst moment', () => {
  it('inside the filter, while its answers are read back, inside onProgress: the process lives', () => {
    const dir = fs.mkdtempSync(path.join(root, 'exit-'));
    const src = smallTree(path.join(dir, 'src'), 3, 40);
    // process.exit() in a worker ends its environment there and then: the
    // addon's next Node-API calls fail, as when worker.terminate() lands
    // between them (the code before the fix died of it: FATAL ERROR
    // Error::New napi_get_last_error_info). The binding is called directly,
    // with a filter (or progress) that exits at one of these points.
    const readBack = `(rel, names, done) => {
      const keep = names.toString('latin1').split('\\0').slice(0, -1).map(() => true);
      Object.defineProperty(keep, 3, { get() { process.exit(0); } });
      done(true, keep);
    }`;
    // Keeps the walk going past its first progress report (every 100 ms).
    const slow = `(rel, names, done) => setTimeout(() => done(true, names.toString('latin1').split('\\0').slice(0, -1).map(() => true)), 400)`;
    const worker = (filter: string, progress: string) => `
      const b = require(${dist('binding.js')}).loadBinding({}).binding;
      b.copyTree(${JSON.stringify(src)}, ${JSON.stringify(dir)} + '/dest-' + Math.random(), {
        request: 'auto', preserveTimestamps: false, noKernelCopy: false, force: true, errorOnExist: false, errorOnExistingDir: false, update: 'all', preserve: [], special: 'error',
        dereference: false, verbatimSymlinks: true, destExists: false, concurrency: 1,
        srcAbsolute: Buffer.from(${JSON.stringify(src)}), destAbsolute: Buffer.from('/'), wholeClone: false,
      }, ${filter}, ${progress}).promise.then(() => setTimeout(() => {}, 1000));`;
    const script = `
      const { Worker } = require('node:worker_threads');
      const run = (code) => new Promise((resolve) => new Worker(code, { eval: true }).on('exit', resolve).on('error', resolve));
      (async () => {
        await run(${JSON.stringify(worker(readBack, 'null'))});
        await run(${JSON.stringify(worker('() => process.exit(0)', 'null'))});
        await run(${JSON.stringify(worker(slow, '() => process.exit(0)'))});
        console.log('alive');
      })();`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: CHILD_HANG });
    expect(run.signal, run.stderr.slice(-2000)).toBe(null);
    expect(run.stderr.slice(-2000)).not.toMatch(/FATAL/);
    expect(run.stdout.trim()).toBe('alive');
  });

  it('cpSync: a worker that exits inside the filter, while its answers are read, inside onProgress: the process lives', () => {
    const dir = fs.mkdtempSync(path.join(root, 'exit-sync-'));
    const src = smallTree(path.join(dir, 'src'), 3, 40);
    // The JS thread is inside copyTreeSync, serving the walk's questions;
    // after the exit the walk thread must still be stopped and joined.
    const names = `names.toString('latin1').split('\\0').slice(0, -1).map(() => true)`;
    const readBack = `(rel, names) => { const keep = ${names}; Object.defineProperty(keep, 3, { get() { process.exit(0); } }); return keep; }`;
    const slow = `(rel, names) => { const until = Date.now() + 150; while (Date.now() < until); return ${names}; }`;
    const worker = (filter: string, progress: string) => `
      const b = require(${dist('binding.js')}).loadBinding({}).binding;
      const r = b.copyTreeSync(${JSON.stringify(src)}, ${JSON.stringify(dir)} + '/dest-' + Math.random(), {
        request: 'auto', preserveTimestamps: false, noKernelCopy: false, force: true, errorOnExist: false, errorOnExistingDir: false, update: 'all', preserve: [], special: 'error',
        dereference: false, verbatimSymlinks: true, destExists: false, concurrency: 1,
        srcAbsolute: Buffer.from(${JSON.stringify(src)}), destAbsolute: Buffer.from('/'), wholeClone: false,
      }, ${filter}, ${progress});
      require('node:worker_threads').parentPort.postMessage(r.files);`;
    const script = `
      const { Worker } = require('node:worker_threads');
      const run = (code) => new Promise((resolve) => {
        let files = null;
        new Worker(code, { eval: true }).on('message', (m) => { files = m; }).on('exit', () => resolve(files)).on('error', () => resolve('error'));
      });
      (async () => {
        const seen = [];
        seen.push(await run(${JSON.stringify(worker(readBack, 'null'))}));
        seen.push(await run(${JSON.stringify(worker('() => process.exit(0)', 'null'))}));
        seen.push(await run(${JSON.stringify(worker(slow, '() => process.exit(0)'))}));
        seen.push(await run(${JSON.stringify(worker(slow, 'null'))}));
        console.log(JSON.stringify(seen));
      })();`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: CHILD_HANG });
    expect(run.signal, run.stderr.slice(-2000)).toBe(null);
    expect(run.stderr.slice(-2000)).not.toMatch(/FATAL/);
    // The last worker, left alone, copies all 120 files; the others stop
    // wherever they stopped, but the process goes on.
    expect(JSON.parse(run.stdout.trim()).at(-1)).toBe(120);
  });

  it('worker.terminate() 0 to 290 ms after a filter was asked about 100,000 entries: the process lives (30 runs)', () => {
    // tmpfs where there is one: making 100,000 files is no disk benchmark.
    const base = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/cowcopy-edges-') : fs.mkdtempSync(path.join(root, 'many-'));
    cleanup.push(base);
    const src = path.join(base, 'src');
    fs.mkdirSync(src);
    const entries = 100_000;
    for (let i = 0; i < entries; i++) fs.closeSync(fs.openSync(path.join(src, `e${i}`), 'w'));
    const script = `
      const { Worker } = require('node:worker_threads');
      const code = (dest) => \`
        const { parentPort } = require('node:worker_threads');
        const c = require(${dist('index.js')});
        let asked = 0;
        c.cp(\${JSON.stringify(${JSON.stringify(src)})}, \${JSON.stringify(dest)}, {
          recursive: true,
          onProgress: () => {},
          filter: async () => { if (++asked === ${entries}) parentPort.postMessage('asked'); return true; },
        }).then(() => parentPort.postMessage('done'), () => parentPort.postMessage('done'));\`;
      (async () => {
        for (let run = 0; run < 30; run++) {
          const w = new Worker(code(${JSON.stringify(base)} + '/dest' + run), { eval: true });
          await new Promise((resolve) => w.once('message', resolve));
          await new Promise((resolve) => setTimeout(resolve, run * 10));
          await w.terminate();
        }
        console.log('alive');
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: CHILD_HANG });
    expect(run.signal, run.stderr.slice(-2000)).toBe(null);
    expect(run.stdout.trim(), run.stderr.slice(-2000)).toBe('alive');
  });
});

/** Names as bytes, any but '/' and NUL: some not UTF-8. */
function byteName(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    let b = 1 + Math.floor(random() * 255);
    if (b === 0x2f) b = 0xff;
    bytes[i] = b;
  }
  if (bytes.equals(Buffer.from('.')) || bytes.equals(Buffer.from('..'))) bytes[0] = 0xfe;
  return bytes;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const join = (...parts: Buffer[]): Buffer => Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('/'), p])));

/** Every entry below dir, by its bytes: name -> content, link target, or 'dir'. */
function bytesTree(dir: Buffer, prefix: Buffer = Buffer.alloc(0)): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
    const full = join(dir, name);
    const rel = prefix.length > 0 ? join(prefix, name) : name;
    const key = rel.toString('hex');
    const st = fs.lstatSync(full);
    if (st.isDirectory()) {
      out.set(key, 'dir');
      for (const [k, v] of bytesTree(full, rel)) out.set(k, v);
    } else if (st.isSymbolicLink()) {
      out.set(key, `link ${fs.readlinkSync(full, { encoding: 'buffer' }).toString('hex')}`);
    } else {
      out.set(key, `file ${fs.readFileSync(full).toString('hex')}`);
    }
  }
  return out;
}

describe.runIf(onLinux).each(backends)('$name backend: paths that are bytes', ({ api }) => {
  it('a Buffer that is not UTF-8 names exactly its file, never the one its UTF-8 reading names (a decoy)', async () => {
    const dir = Buffer.from(fs.mkdtempSync(path.join(root, 'bytes-')));
    const ff = Buffer.from([0x66, 0xff]); // 'f' + 0xff
    const decoy = Buffer.from('f\uFFFD'); // what Buffer.toString() makes of it
    fs.writeFileSync(join(dir, ff), 'the file');
    fs.writeFileSync(join(dir, decoy), 'the decoy');
    const outFe = Buffer.from([0x6f, 0x75, 0x74, 0xfe]); // 'out' + 0xfe
    await api.cp(join(dir, ff), join(dir, outFe));
    expect(fs.readFileSync(join(dir, outFe), 'utf8')).toBe('the file');
    expect(fs.readdirSync(dir, { encoding: 'buffer' }).map((n) => n.toString('hex')).sort()).toEqual(
      [ff, decoy, outFe].map((n) => n.toString('hex')).sort(),
    );
  });

  it('random byte names for every function, and inside trees (property: 30 cases)', async () => {
    const random = seeded(Number(process.env.COWCOPY_SEED ?? 20261129));
    for (let round = 0; round < 30; round++) {
      const dir = Buffer.from(fs.mkdtempSync(path.join(root, `bytes-${round}-`)));
      const src = join(dir, byteName(random, 1 + Math.floor(random() * 12)));
      fs.writeFileSync(src, `round ${round}`);
      const targets = Array.from({ length: 5 }, () => join(dir, Buffer.concat([Buffer.from(`t${round}-`), byteName(random, 1 + Math.floor(random() * 12))])));
      await api.copyFile(src, targets[0]);
      api.copyFileSync(src, targets[1]);
      await api.clone(src, targets[2]);
      api.cloneSync(src, targets[3]);
      await api.cp(src, targets[4]);
      for (const t of targets) expect(fs.readFileSync(t, 'utf8'), t.toString('hex')).toBe(`round ${round}`);

      // A tree of byte names: files, a directory, a link to a byte name.
      const tree = join(dir, Buffer.from('tree'), byteName(random, 6));
      fs.mkdirSync(tree, { recursive: true });
      const sub = join(tree, byteName(random, 5));
      fs.mkdirSync(sub);
      for (let i = 0; i < 4; i++) fs.writeFileSync(join(sub, byteName(random, 1 + i * 3)), `entry ${i}`);
      const linked = byteName(random, 7);
      fs.writeFileSync(join(tree, linked), 'linked');
      fs.symlinkSync(linked, join(tree, byteName(random, 8)));
      const copy = join(dir, Buffer.from('copy'), byteName(random, 6));
      await api.cp(tree, copy, { recursive: true });
      expect(bytesTree(copy)).toEqual(bytesTree(tree));
    }
  });
});

describe.runIf(onLinux).each(backends)('$name backend: pseudo-files', ({ api }) => {
  // A sysfs attribute claims 4096 bytes in no blocks (sparse-looking) and has
  // a few; a procfs file claims none.
  const candidates = ['/sys/kernel/mm/transparent_hugepage/enabled', '/sys/kernel/mm/transparent_hugepage/defrag', '/proc/version'];
  const present = candidates.filter((f) => fs.existsSync(f));

  it.runIf(present.length > 0)(`are copied as what reading them gives (${present.join(', ')})`, async () => {
    const dir = fs.mkdtempSync(path.join(root, 'pseudo-'));
    for (const [i, file] of present.entries()) {
      const want = fs.readFileSync(file);
      await api.clone(file, path.join(dir, `c${i}`));
      await api.copyFile(file, path.join(dir, `f${i}`));
      expect(fs.readFileSync(path.join(dir, `c${i}`))).toEqual(want);
      expect(fs.readFileSync(path.join(dir, `f${i}`))).toEqual(want);
    }
  });
});

describe.each(backends)('$name backend: names near NAME_MAX', ({ api }) => {
  it('an entry of 250 bytes is replaced: a file, a top-level symlink, a symlink in a tree', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'long-'));
    const long = 'l'.repeat(250);
    // A file over a file (cp replaces the entry by a new file renamed over it).
    fs.writeFileSync(path.join(dir, 'a'), 'new');
    fs.writeFileSync(path.join(dir, long), 'old');
    await api.cp(path.join(dir, 'a'), path.join(dir, long));
    expect(fs.readFileSync(path.join(dir, long), 'utf8')).toBe('new');
    // A symlink over a symlink, at the top.
    fs.symlinkSync('a', path.join(dir, 'link'));
    fs.symlinkSync('old-target', path.join(dir, `${long}x`));
    await api.cp(path.join(dir, 'link'), path.join(dir, `${long}x`));
    expect(fs.readlinkSync(path.join(dir, `${long}x`))).toBe('a');
    // In a tree.
    fs.mkdirSync(path.join(dir, 'src'));
    fs.symlinkSync('to-here', path.join(dir, 'src', long));
    fs.mkdirSync(path.join(dir, 'dest'));
    fs.symlinkSync('elsewhere', path.join(dir, 'dest', long));
    await api.cp(path.join(dir, 'src'), path.join(dir, 'dest'), { recursive: true });
    expect(fs.readlinkSync(path.join(dir, 'dest', long))).toBe('to-here');
    expect(fs.readdirSync(dir).filter((n) => n.includes('.cowcopy-'))).toEqual([]);
  });
});

describe.runIf(asRoot && runsOn('xfs'))(titleOn('xfs', 'probe() answers for the directory asked about'), () => {
  it.each(backends)('$name backend: a read-only directory after a writable one on the same device says it cannot clone', ({ name }) => {
    const dir = scratchOn('xfs', 'probe-dirs');
    cleanup.push(dir);
    fs.chmodSync(dir, 0o755);
    const writable = path.join(dir, 'writable');
    const readOnly = path.join(dir, 'read-only');
    fs.mkdirSync(writable, { mode: 0o777 });
    fs.mkdirSync(readOnly, { mode: 0o555 });
    fs.chmodSync(writable, 0o777);
    const script = `
      const { createApi } = require(${dist('api.js')});
      const backend = ${name === 'native' ? `require(${dist('native.js')}).createNativeBackend(require(${dist('binding.js')}).loadBinding({}).binding)` : `require(${dist('fallback.js')}).fallbackBackend`};
      const api = createApi(backend);
      console.log(JSON.stringify([api.probeSync(${JSON.stringify(writable)}).reflink, api.probeSync(${JSON.stringify(readOnly)}).reflink]));`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', uid: 65534, gid: 65534 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([true, false]);
  });
});

describe.each(backends)('$name backend: an onProgress that throws', ({ name, api }) => {
  it('stops the copy and rejects cp() with what it threw, at the first call or the last', async () => {
    const dir = fs.mkdtempSync(path.join(root, `progress-${name}-`));
    const src = smallTree(path.join(dir, 'src'), 2, 3);
    const thrown = new Error('from onProgress');
    // The last call, once everything is copied.
    const last = await failure(() =>
      api.cp(src, path.join(dir, 'last'), {
        recursive: true,
        onProgress: (p) => {
          if (p.files === 6) throw thrown;
        },
      }),
    );
    expect(last).toBe(thrown);
    // The first call, while it copies: a tree big enough to be reported on.
    const big = smallTree(path.join(dir, 'big'), 40, 100);
    let calls = 0;
    const first = await failure(() =>
      api.cp(big, path.join(dir, 'first'), {
        recursive: true,
        concurrency: 1,
        onProgress: () => {
          calls++;
          throw thrown;
        },
      }),
    );
    expect(first).toBe(thrown);
    expect(calls).toBe(1);
  });
});

describe.each(backends)('$name backend: after a copy was killed (kill -9)', ({ name, api }) => {
  it('the next copy over the destination removes the temporaries of processes that are gone, no others, and leaves the tree whole', async () => {
    const dir = fs.mkdtempSync(path.join(root, `killed-${name}-`));
    const src = smallTree(path.join(dir, 'src'), 8, 250);
    const dest = path.join(dir, 'dest');
    await api.cp(src, dest, { recursive: true });
    // Copies over the existing tree replace every file by one made beside
    // it: killed meanwhile, such a temporary may stay.
    const script = `
      const c = require(${dist('index.js')});
      const api = ${name === 'native' ? 'c' : `require(${dist('api.js')}).createApi(require(${dist('fallback.js')}).fallbackBackend)`};
      (async () => { for (;;) await api.cp(${JSON.stringify(src)}, ${JSON.stringify(dest)}, { recursive: true }); })();
      setTimeout(() => console.log('running'), 150);`;
    const killed = spawnSync(process.execPath, ['-e', `${script}`], { encoding: 'utf8', timeout: 400, killSignal: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    // And some made for sure: one of a process that is gone, one of a live one (this).
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
    const deadTemp = path.join(dest, 'd3', `.cowcopy-tree-${gone}-7`);
    const liveTemp = path.join(dest, 'd3', `.cowcopy-tree-${process.ppid}-7`);
    fs.writeFileSync(deadTemp, 'half');
    fs.writeFileSync(liveTemp, 'in flight');
    await api.cp(src, dest, { recursive: true });
    const temps = fs.readdirSync(dest, { recursive: true }).map(String).filter((n) => n.includes('.cowcopy-'));
    expect(temps).toEqual([path.join('d3', path.basename(liveTemp))]);
    fs.rmSync(liveTemp);
    for (let d = 0; d < 8; d++) {
      for (let f = 0; f < 250; f++) expect(fs.readFileSync(path.join(dest, `d${d}`, `f${f}`), 'utf8')).toBe(`${d}/${f}`);
    }
  });
});

it('the native and TypeScript sides name strategies, requests, update rules, failures and paths alike; a binding that does not is refused', async () => {
  const { NATIVE_NAMES, loadBinding } = await import('../lib/binding.js');
  const { binding } = loadBinding({});
  expect(binding?.names).toEqual(JSON.parse(JSON.stringify(NATIVE_NAMES)));
  expect(nativeUnderTest.backend.name).toBe('native');
});
