// Two volumes, one of them nearly full: EXDEV for what cannot cross, ENOSPC
// in the middle of a copy, and what is left at dest after it. scripts/
// test-win.mjs maps a 1 MiB tmpfs as drive T: (COWCOPY_WIN_SMALL_DRIVE).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { NO_HELPER, failure, randomFile, sha256, tempDir, winHelper } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const { clone, cloneSync, copyFile, copyFileSync, cp, probe } = require('cowcopy');

const drive = process.env.COWCOPY_WIN_SMALL_DRIVE;
const reason = 'no second volume (scripts/emulate/test-win.mjs mounts one as root)';
if (!drive && process.env.COWCOPY_WIN_UNDER_WINE === '1' && process.env.COWCOPY_REQUIRE_FS === '1') {
  throw new Error(`COWCOPY_REQUIRE_FS=1 and ${reason}`);
}
const helper = winHelper();

const root = tempDir('volumes');
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('a second, small volume', { skip: drive ? false : reason }, () => {
  let src;
  let big;
  beforeEach(() => {
    for (const name of fs.readdirSync(drive)) fs.rmSync(path.join(drive, name), { recursive: true, force: true });
    src = path.join(root, 'small.txt');
    fs.writeFileSync(src, 'payload');
    // Twice the volume: the copy runs out of space half way.
    big = path.join(root, 'big.bin');
    if (!fs.existsSync(big)) randomFile(big, 2_000_000);
  });

  test('it is another volume, seen as NTFS', async () => {
    const result = await probe(drive);
    assert.equal(result.filesystem, 'NTFS');
    assert.equal(result.reflink, false);
  });

  test('a forced clone across volumes: EXDEV, nothing written', async () => {
    const dest = path.join(drive, 'clone.txt');
    const err = await failure(() => clone(src, dest, { strategy: 'reflink' }));
    assert.equal(err.code, 'EXDEV');
    assert.equal(err.errno, -4037);
    assert.throws(() => copyFileSync(src, dest, fs.constants.COPYFILE_FICLONE_FORCE), { code: 'EXDEV' });
    assert.deepEqual(fs.readdirSync(drive), []);
  });

  test('a hard link across volumes: EXDEV, nothing written', async () => {
    const err = await failure(() => clone(src, path.join(drive, 'link.txt'), { strategy: 'hardlink' }));
    assert.equal(err.code, 'EXDEV');
    assert.equal(err.syscall, 'link');
    assert.deepEqual(fs.readdirSync(drive), []);
  });

  test('auto across volumes copies', async () => {
    const dest = path.join(drive, 'auto.txt');
    assert.deepEqual(await clone(src, dest), { strategy: 'kernel', bytes: 7 });
    assert.equal(fs.readFileSync(dest, 'utf8'), 'payload');
  });

  test('out of space: ENOSPC, and no half-written file left behind', async (t) => {
    for (const strategy of ['auto', 'copy']) {
      const dest = path.join(drive, `${strategy}.bin`);
      const err = await failure(() => clone(big, dest, { strategy }));
      assert.equal(err.code, 'ENOSPC', strategy);
      assert.equal(err.errno, -4055);
      assert.deepEqual(fs.readdirSync(drive), [], strategy);
    }
    assert.throws(() => copyFileSync(big, path.join(drive, 'sync.bin')), { code: 'ENOSPC', syscall: 'copyfile' });
    assert.deepEqual(fs.readdirSync(drive), []);
    // node:fs itself, for the record: CopyFileW may leave what it wrote.
    await failure(() => fs.promises.copyFile(big, path.join(drive, 'node.bin')));
    t.diagnostic(`fs.copyFile after ENOSPC left: ${JSON.stringify(fs.readdirSync(drive))}`);
  });

  test('out of space over an existing file: the file was written into, so it goes (as on Linux)', async () => {
    for (const strategy of ['auto', 'copy']) {
      const dest = path.join(drive, `existing-${strategy}.bin`);
      fs.writeFileSync(dest, 'old');
      assert.equal((await failure(() => clone(big, dest, { strategy }))).code, 'ENOSPC', strategy);
      assert.equal(fs.existsSync(dest), false, strategy);
    }
  });

  test('an existing file that was never touched stays: a dest held open by another program', { skip: !helper && NO_HELPER }, async () => {
    const dest = path.join(drive, 'held.txt');
    fs.writeFileSync(dest, 'keep me');
    const id = helper.hold(dest, '');
    try {
      for (const strategy of ['auto', 'copy']) {
        const err = await failure(() => clone(src, dest, { strategy }));
        assert.equal(err.code, 'EBUSY', strategy);
      }
      const ours = await failure(() => copyFile(src, dest));
      const node = await failure(() => fs.promises.copyFile(src, dest));
      assert.equal(ours.message, node.message);
    } finally {
      helper.release(id);
    }
    assert.equal(fs.readFileSync(dest, 'utf8'), 'keep me');
  });

  test('cp() over an existing file runs out of space: the old file is still there, whole', async () => {
    const dest = path.join(drive, 'replaced.txt');
    fs.writeFileSync(dest, 'keep me');
    const err = await failure(() => cp(big, dest));
    assert.equal(err.code, 'ENOSPC');
    assert.deepEqual(fs.readdirSync(drive), ['replaced.txt']);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'keep me');
    // And with room, it is replaced.
    assert.equal((await cp(src, dest)).files, 1);
    assert.equal(sha256(dest), sha256(src));
  });

  test('the sync calls behave the same', () => {
    assert.throws(() => cloneSync(big, path.join(drive, 'sync.bin'), { strategy: 'copy' }), { code: 'ENOSPC' });
    assert.deepEqual(fs.readdirSync(drive), []);
  });
});
