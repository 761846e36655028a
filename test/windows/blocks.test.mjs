// Block cloning proven, not assumed: the clusters of a clone are shared with
// its source (ReFS reference counts, FSCTL_GET_RETRIEVAL_POINTERS_AND_REFCOUNT
// through the test helper) and the volume's free space does not move, for
// clone(), copyFile() and a cp() of a tree. Runs where the temp dir is on a
// ReFS volume or Dev Drive: the workflow's "Block cloning volume" steps, which
// set COWCOPY_WIN_BLOCK_CLONING=1 so that a volume that does not clone fails
// instead of skipping. Elsewhere (NTFS, wine) it says why it skips.
import assert from 'node:assert/strict';
import fs, { constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NO_HELPER, nativeApi, randomFile, sha256, tempDir, winHelper } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const { clone, copyFile, cp, probe } = require('cowcopy');
const helper = winHelper();
const MiB = 1024 * 1024;

const root = tempDir('blocks');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const volume = await probe(root);
if (process.env.COWCOPY_WIN_BLOCK_CLONING === '1' && !(volume.reflink && helper)) {
  throw new Error(`COWCOPY_WIN_BLOCK_CLONING=1, but ${root} (${volume.filesystem}) ${helper ? 'does not clone' : 'has no test helper'}`);
}
const skip = !volume.reflink ? `this volume (${volume.filesystem}) cannot block-clone` : !helper && NO_HELPER;

/** Free bytes on the volume holding dir. */
function free(dir) {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * The file's clusters once every one is shared, or as they are after the
 * deadline: ReFS updates reference counts with a delay (Microsoft's
 * CopyOnWrite tests poll them too).
 */
async function sharedBlocks(file, deadline = 15_000) {
  const until = Date.now() + deadline;
  for (;;) {
    const blocks = helper.blocks(file);
    if ((blocks.allocated > 0 && blocks.shared === blocks.allocated) || Date.now() > until) return blocks;
    await sleep(100);
  }
}

async function assertShared(file, what) {
  const blocks = await sharedBlocks(file);
  assert.ok(blocks.allocated > 0 && blocks.shared === blocks.allocated, `${what}: ${blocks.shared} of ${blocks.allocated} clusters shared`);
}

describe('block cloning', { skip }, () => {
  let dir;
  let src;
  before(() => {
    dir = fs.mkdtempSync(path.join(root, 'case-'));
    // Unaligned: the last cluster is partial (the tail range).
    src = randomFile(path.join(dir, 'src.bin'), 64 * MiB + 4321);
  });

  test('clone(): every cluster shared, no space taken, and a write to the clone leaves the source as it was', async () => {
    const hash = sha256(src);
    const before = free(dir);
    const dest = path.join(dir, 'clone.bin');
    assert.deepEqual(await clone(src, dest), { strategy: 'reflink', bytes: 64 * MiB + 4321 });
    await assertShared(dest, 'clone');
    assert.ok(before - free(dir) < 16 * MiB, `${(before - free(dir)) / MiB} MiB used by a 64 MiB clone`);
    assert.equal(sha256(dest), hash);
    const fd = fs.openSync(dest, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, 0);
    fs.closeSync(fd);
    assert.equal(sha256(src), hash, 'copy-on-write');
  });

  test('copyFile(), with and without COPYFILE_FICLONE_FORCE, and cloneSync over an existing file', async () => {
    await copyFile(src, path.join(dir, 'copyfile.bin'));
    await assertShared(path.join(dir, 'copyfile.bin'), 'copyFile');
    await copyFile(src, path.join(dir, 'forced.bin'), constants.COPYFILE_FICLONE_FORCE);
    await assertShared(path.join(dir, 'forced.bin'), 'COPYFILE_FICLONE_FORCE');
    const existing = randomFile(path.join(dir, 'existing.bin'), 3 * MiB);
    assert.equal(require('cowcopy').cloneSync(src, existing).strategy, 'reflink');
    await assertShared(existing, 'over an existing file');
    assert.equal(sha256(existing), sha256(src));
  });

  test('cp() of a tree: every file cloned and shared', async () => {
    const tree = path.join(dir, 'tree');
    for (let d = 0; d < 3; d++) {
      fs.mkdirSync(path.join(tree, `d${d}`), { recursive: true });
      for (let f = 0; f < 4; f++) randomFile(path.join(tree, `d${d}`, `f${f}`), 256 * 1024 + d * 1000 + f);
    }
    const result = await cp(tree, path.join(dir, 'tree-copy'), { recursive: true });
    assert.equal(result.files, 12);
    assert.equal(result.strategies.reflink, 12);
    for (let d = 0; d < 3; d++) {
      for (let f = 0; f < 4; f++) await assertShared(path.join(dir, 'tree-copy', `d${d}`, `f${f}`), `d${d}/f${f}`);
    }
  });

  test("a forced 'copy' has clusters of its own", async () => {
    const dest = path.join(dir, 'copy.bin');
    assert.equal((await clone(src, dest, { strategy: 'copy' })).strategy, 'userspace');
    const blocks = helper.blocks(dest);
    assert.ok(blocks.allocated > 0 && blocks.shared === 0, `${blocks.shared} of ${blocks.allocated} clusters shared`);
    assert.equal(sha256(dest), sha256(src));
  });

  test('where CopyFileExW copies, its result is reported as what it is: a clone where Windows made one (Server 2025), else a copy', async (t) => {
    const osCopy = nativeApi({ noOwnClone: true });
    const dest = path.join(dir, 'os-copy.bin');
    const result = await osCopy.clone(src, dest);
    const blocks = await sharedBlocks(dest, 5_000);
    t.diagnostic(`CopyFileExW here: ${result.strategy}, ${blocks.shared} of ${blocks.allocated} clusters shared`);
    assert.equal(result.strategy, blocks.shared === blocks.allocated && blocks.allocated > 0 ? 'reflink' : 'kernel');
  });

  test('a file larger than the free space clones: the destination is sparse before it is given its length', async () => {
    // Over half the free space: a destination sized before it is made sparse
    // needs that much free first, and 'auto' then fails with ENOSPC.
    const size = Math.floor((free(dir) * 0.6) / MiB) * MiB + 777;
    const big = path.join(dir, 'big.bin');
    const chunk = Buffer.alloc(16 * MiB, 0x5a);
    const fd = fs.openSync(big, 'w');
    for (let at = 0; at < size; at += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
    fs.closeSync(fd);
    try {
      const before = free(dir);
      assert.deepEqual(await clone(big, path.join(dir, 'big-clone.bin'), { strategy: 'reflink' }), { strategy: 'reflink', bytes: size });
      assert.ok(before - free(dir) < 64 * MiB, `${(before - free(dir)) / MiB} MiB used`);
      await assertShared(path.join(dir, 'big-clone.bin'), 'the big clone');
    } finally {
      fs.rmSync(big, { force: true });
      fs.rmSync(path.join(dir, 'big-clone.bin'), { force: true });
    }
  });
});
