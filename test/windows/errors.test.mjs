// Errors on Windows: Node's own numbers (libuv's Windows codes), codes and
// wording, from the same Win32 errors node:fs gets.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, test } from 'node:test';
import { NO_HELPER, failure, tempDir, winHelper } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const { clone, cloneSync, copyFile, copyFileSync, probe } = require('cowcopy');
const helper = winHelper();

const root = tempDir('errors');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const src = path.join(root, 'src.txt');
fs.writeFileSync(src, 'payload');

test("errors carry the codes of the node.exe that runs: its own uv_translate_sys_error, every code below 70000", { skip: !helper && NO_HELPER }, () => {
  const pkg = path.dirname(require.resolve('cowcopy/package.json'));
  const binding = require(require('node-gyp-build').path(pkg));
  const differ = [];
  for (let code = 0; code < 70000; code++) {
    const node = helper.nodeTranslate(code);
    if (binding.nodeErrorCode(code) !== node) differ.push([code, node, binding.nodeErrorCode(code)]);
  }
  assert.deepEqual(differ, [], '[code, node.exe, cowcopy]');
  assert.equal(binding.nodeErrorCode(2), -4058, 'ERROR_FILE_NOT_FOUND -> ENOENT (-4058)');
  // The fallback for hosts without the export maps only what a copy meets, each as this node.exe does.
  const UNKNOWN = -4094;
  const { mismatches } = helper.compare(0, 70000);
  assert.deepEqual(mismatches.filter(([, , ours]) => ours !== UNKNOWN), [], '[code, node.exe, fallback]');
});

test('a missing source: ENOENT, exactly as fs.copyFile reports it', async () => {
  const missing = path.join(root, 'missing.txt');
  const dest = path.join(root, 'dest.txt');
  const ours = await failure(() => copyFile(missing, dest));
  const node = await failure(() => fs.promises.copyFile(missing, dest));
  assert.equal(ours.message, node.message);
  assert.equal(ours.code, 'ENOENT');
  assert.equal(ours.errno, node.errno);
  assert.equal(ours.errno, -4058);
  assert.equal(ours.syscall, 'copyfile');
  assert.equal(ours.path, missing);
  assert.equal(ours.dest, dest);
  assert.throws(() => copyFileSync(missing, dest), { message: node.message });
  assert.equal(fs.existsSync(dest), false);

  const cloned = await failure(() => clone(missing, dest));
  assert.equal(cloned.code, 'ENOENT');
  assert.equal(cloned.syscall, 'open');
  assert.equal(cloned.message, `ENOENT: no such file or directory, open '${missing}' -> '${dest}'`);
});

test('a missing destination directory: ENOENT, as fs.copyFile', async () => {
  const dest = path.join(root, 'nope', 'dest.txt');
  const ours = await failure(() => copyFile(src, dest));
  const node = await failure(() => fs.promises.copyFile(src, dest));
  assert.equal(ours.message, node.message);
  assert.equal(ours.errno, node.errno);
  for (const strategy of ['auto', 'copy', 'hardlink', 'reflink']) {
    assert.equal((await failure(() => clone(src, dest, { strategy }))).code, 'ENOENT', strategy);
  }
});

test('a directory at either end: EISDIR, as the contract says (node:fs on Windows says EPERM)', async (t) => {
  const sub = path.join(root, 'sub');
  fs.mkdirSync(sub);
  for (const [from, to] of [
    [sub, path.join(root, 'from-dir.txt')],
    [src, sub],
  ]) {
    const ours = await failure(() => copyFile(from, to));
    const node = await failure(() => fs.promises.copyFile(from, to));
    t.diagnostic(`node:fs: ${node.code} (${node.message})`);
    assert.equal(ours.code, 'EISDIR', `${from} -> ${to}: ${ours.message}`);
    assert.equal(ours.errno, -4068);
    assert.equal(ours.syscall, 'copyfile');
    assert.throws(() => cloneSync(from, to, { strategy: 'copy' }), { code: 'EISDIR' });
  }
  assert.equal(fs.existsSync(path.join(root, 'from-dir.txt')), false);
  assert.deepEqual(fs.readdirSync(sub), []);
});

test('a device is not a file: EINVAL', async () => {
  const err = await failure(() => clone('NUL', path.join(root, 'from-nul.txt')));
  assert.equal(err.code, 'EINVAL');
  assert.equal(fs.existsSync(path.join(root, 'from-nul.txt')), false);
});

test('a source held open without sharing by another program: EBUSY, as fs.copyFile says', { skip: !helper && NO_HELPER }, async () => {
  const dest = path.join(root, 'from-held.txt');
  const id = helper.hold(src, '');
  try {
    const ours = await failure(() => copyFile(src, dest));
    const node = await failure(() => fs.promises.copyFile(src, dest));
    assert.equal(ours.message, node.message);
    assert.equal(ours.code, 'EBUSY');
    assert.equal(ours.errno, -4082);
    assert.equal((await failure(() => clone(src, dest, { strategy: 'copy' }))).code, 'EBUSY');
  } finally {
    helper.release(id);
  }
  assert.equal(fs.existsSync(dest), false);
});

test('probe of a missing path: ENOENT with the path', async () => {
  const missing = path.join(root, 'missing-dir');
  const err = await failure(() => probe(missing));
  assert.equal(err.code, 'ENOENT');
  assert.equal(err.errno, -4058);
  assert.equal(err.path, missing);
});
