// Run in a child started with cowcopy/register loaded (-r, --import or
// NODE_OPTIONS): the same calls of node:fs's copy functions, first through
// the hook into <root>/hooked, then, unregistered, through Node's own into
// <root>/node. Prints what each call gave back (a value, the arguments of
// its callback, or its error), with the base directory written as <base>;
// test/register.test.ts compares the two runs and the trees they made.
import fs, { cpSync as namedCpSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';

const [root, registerUrl] = process.argv.slice(2);
const hook = await import(registerUrl);

const src = path.join(root, 'src');
fs.mkdirSync(path.join(src, 'sub', 'deep'), { recursive: true });
fs.writeFileSync(path.join(src, 'a.txt'), 'alpha');
fs.writeFileSync(path.join(src, 'sub', 'b.log'), 'bravo');
fs.writeFileSync(path.join(src, 'sub', 'deep', 'c.bin'), Buffer.alloc(70_000, 7));
fs.chmodSync(path.join(src, 'a.txt'), 0o640);
fs.symlinkSync('../a.txt', path.join(src, 'sub', 'rel-link'));
fs.symlinkSync(path.join(src, 'a.txt'), path.join(src, 'abs-link'));

const callback = (run) => new Promise((resolve) => run((...args) => resolve({ args })));

/** Each scenario copies into its own name below `base`. */
const scenarios = {
  'fs.promises.cp, a tree': (base) => fsp.cp(src, path.join(base, 't1'), { recursive: true }),
  'fs.cp with a callback': (base) => callback((done) => fs.cp(src, path.join(base, 't2'), { recursive: true }, done)),
  'fs.cp, a directory without recursive': (base) => callback((done) => fs.cp(src, path.join(base, 't3'), done)),
  'fs.cpSync, a tree, timestamps kept': (base) => fs.cpSync(src, path.join(base, 't4'), { recursive: true, preserveTimestamps: true }),
  'fs.cpSync, a directory without recursive': (base) => fs.cpSync(src, path.join(base, 't5')),
  'fs.cpSync by its ESM name, a filter': (base) =>
    namedCpSync(src, path.join(base, 't6'), { recursive: true, filter: (from) => !from.endsWith('.log') }),
  // util.callbackify under fs.cp makes ERR_FALSY_VALUE_REJECTION of it.
  'fs.cp, a filter that throws undefined': (base) =>
    callback((done) =>
      fs.cp(src, path.join(base, 't12'), { recursive: true, filter: (from) => {
        if (from.endsWith('a.txt')) throw undefined;
        return true;
      } }, (err, ...rest) => done(err && { name: err.name, code: err.code, message: err.message, reason: err.reason === undefined ? 'undefined' : err.reason }, ...rest)),
    ),
  'fs.cp, src onto itself': () => callback((done) => fs.cp(src, src, { recursive: true }, done)),
  'fs.promises.cp, dest inside src': () => fsp.cp(src, path.join(src, 'sub', 'inside'), { recursive: true }),
  'fs.promises.cp, a missing src': (base) => fsp.cp(path.join(root, 'missing'), path.join(base, 't7')),
  'fs.promises.cp, options not an object': (base) => fsp.cp(src, path.join(base, 't8'), 'recursive'),
  'fs.promises.cp, force false and errorOnExist': async (base) => {
    await fsp.cp(path.join(src, 'sub', 'deep'), path.join(base, 't9'), { recursive: true });
    return fsp.cp(path.join(src, 'sub', 'deep'), path.join(base, 't9'), { recursive: true, force: false, errorOnExist: true });
  },
  'fs.promises.cp, verbatimSymlinks asked for': (base) => fsp.cp(src, path.join(base, 't10'), { recursive: true, verbatimSymlinks: true }),
  'fs.copyFile with a callback': (base) => {
    fs.mkdirSync(path.join(base, 'f'), { recursive: true });
    return callback((done) => fs.copyFile(path.join(src, 'a.txt'), path.join(base, 'f', 'a1'), done));
  },
  'fs.copyFile with EXCL over a file': (base) =>
    callback((done) => fs.copyFile(path.join(src, 'a.txt'), path.join(base, 'f', 'a1'), fs.constants.COPYFILE_EXCL, done)),
  'fs.copyFile without a callback': (base) => fs.copyFile(path.join(src, 'a.txt'), path.join(base, 'f', 'a2')),
  'fs.promises.copyFile': (base) => fsp.copyFile(path.join(src, 'sub', 'deep', 'c.bin'), path.join(base, 'f', 'c')),
  'fs.promises.copyFile, a missing src': (base) => fsp.copyFile(path.join(root, 'missing'), path.join(base, 'f', 'm')),
  'fs.copyFileSync': (base) => fs.copyFileSync(path.join(src, 'a.txt'), path.join(base, 'f', 'a3')),
  'fs.copyFileSync, mode 8': (base) => fs.copyFileSync(path.join(src, 'a.txt'), path.join(base, 'f', 'a4'), 8),
  'fs.copyFileSync, a directory': (base) => fs.copyFileSync(src, path.join(base, 'f', 'dir')),
  // What the README lists as cowcopy's own rule, kept under the hook: with
  // force: false an existing symlink is left alone (here: EEXIST), where
  // fs.cp replaces it anyway (here: its subdirectory check refuses).
  'differs: force false and errorOnExist over a symlink': async (base) => {
    await fsp.cp(src, path.join(base, 't11'), { recursive: true });
    return fsp.cp(src, path.join(base, 't11'), { recursive: true, force: false, errorOnExist: true });
  },
};

function shown(value, base) {
  return JSON.parse(JSON.stringify(value ?? null, (_key, v) => (typeof v === 'string' ? v.split(base).join('<base>').split(src).join('<src>') : v)));
}

async function runAll(base) {
  fs.mkdirSync(base, { recursive: true });
  const out = {};
  for (const [name, run] of Object.entries(scenarios)) {
    try {
      const value = await run(base);
      out[name] = { value: shown(value, base), type: typeof value };
    } catch (err) {
      out[name] = { error: shown({ name: err.name, code: err.code, errno: err.errno, syscall: err.syscall, message: err.message }, base) };
    }
  }
  return out;
}

const before = hook.stats().calls;
const hooked = await runAll(path.join(root, 'hooked'));
const calls = hook.stats().calls - before;
const stats = hook.stats();
hook.unregister();
const unhooked = { registered: hook.registered(), cpIsNodes: fs.cp.name === 'cp' };
const node = await runAll(path.join(root, 'node'));
const after = hook.stats().calls;
console.log(JSON.stringify({ hooked, node, calls, stats, unhooked, callsAfterUnregister: after - stats.calls }));
