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

test('an NTFS volume without block cloning (what wine presents)', async () => {
  const result = await probe(root);
  assert.deepEqual(result, {
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
  assert.equal(probeSync(file).filesystem, 'NTFS');
  assert.deepEqual(fs.readdirSync(root), ['file.txt']);
});

test('a long path and a Unicode name probe too', async () => {
  let deep = path.join(root, 'ünïcødé-日本');
  while (deep.length < 300) deep = path.join(deep, 'a-rather-long-directory-name');
  fs.mkdirSync(deep, { recursive: true });
  assert.equal((await probe(deep)).filesystem, 'NTFS');
  assert.deepEqual(fs.readdirSync(deep), []);
});
