// Errors on Windows: Node's own numbers (libuv's Windows codes), codes and
// wording, from the same Win32 errors node:fs gets.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, test } from 'node:test';
import { getSystemErrorMap } from 'node:util';
import { NO_HELPER, failure, tempDir, winHelper } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const { clone, cloneSync, copyFile, copyFileSync, probe } = require('cowcopy');
const helper = winHelper();

const root = tempDir('errors');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const src = path.join(root, 'src.txt');
fs.writeFileSync(src, 'payload');

test("win_errors.h agrees with node.exe's uv_translate_sys_error for every code below 70000", { skip: !helper && NO_HELPER }, () => {
  const { mapped, mismatches } = helper.compare(0, 70000);
  // 0 is success, not an error: both say 0.
  assert.deepEqual(mapped[0], [0, 0]);
  mapped.shift();
  assert.deepEqual(mismatches, [], 'codes translated differently: [code, node.exe, ours]');
  // A sanity check that the sweep saw the table at all.
  assert.ok(mapped.length > 90, `${mapped.length} mapped codes`);
  const names = getSystemErrorMap();
  for (const [code, uv] of mapped) assert.ok(names.has(uv), `${code} -> ${uv} has a name`);
  assert.deepEqual(
    mapped.find(([code]) => code === 2),
    [2, -4058],
    'ERROR_FILE_NOT_FOUND -> ENOENT (-4058)',
  );
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
  const id = helper.holdExclusive(src);
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
