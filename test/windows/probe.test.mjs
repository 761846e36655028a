// probe() on Windows: the filesystem's own name, and answers found by trying.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const { probe, probeSync } = require('cowcopy');

const root = tempDir('probe');
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('names the filesystem; a clone works exactly on ReFS (and Dev Drive, which is ReFS)', async () => {
  const result = await probe(root);
  assert.equal(result.platform, 'win32');
  assert.equal(result.native, true);
  assert.equal(result.reflink, result.filesystem === 'ReFS');
  assert.equal(result.hardlink, true);
  assert.equal(result.copyFileRange, true, 'CopyFileExW works');
});

test('under wine: an NTFS volume without block cloning', { skip: process.env.COWCOPY_WIN_UNDER_WINE !== '1' && 'not under wine' }, async () => {
  assert.deepEqual(await probe(root), {
    platform: 'win32',
    filesystem: 'NTFS',
    reflink: false,
    hardlink: true,
    copyFileRange: true,
    native: true,
  });
});

test("a file's directory answers the same, from the cache, and leaves nothing behind", () => {
  const file = path.join(root, 'file.txt');
  fs.writeFileSync(file, 'x');
  assert.deepEqual(probeSync(file), probeSync(root));
  assert.deepEqual(fs.readdirSync(root), ['file.txt']);
});

test('a long path and a Unicode name probe too', async () => {
  let deep = path.join(root, 'ünïcødé-日本');
  while (deep.length < 300) deep = path.join(deep, 'a-rather-long-directory-name');
  fs.mkdirSync(deep, { recursive: true });
  assert.deepEqual(await probe(deep), await probe(root));
  assert.deepEqual(fs.readdirSync(deep), []);
});
