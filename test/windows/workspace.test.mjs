// Workspaces on Windows: no volume clones a whole directory at once (ReFS
// and Dev Drive clone file by file), so snapshot() walks, says why naming
// the filesystem, and copies the tree as cp() with preserve 'all' does;
// prepareTemplate() has nothing to make; removeTree() removes what it made.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { diffTrees } from '../helpers/tree-compare.mjs';
import { failure, randomFile, tempDir } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const { probe, snapshot, snapshotSync, prepareTemplate, prepareTemplateSync, removeTree, removeTreeSync } = require('cowcopy');

const root = tempDir('workspace');
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A small template: nested directories, a read-only file, an empty directory, old times. */
function template(dir) {
  fs.mkdirSync(path.join(dir, 'src', 'deeper'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'empty'));
  randomFile(path.join(dir, 'data.bin'), 300_000);
  fs.writeFileSync(path.join(dir, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  fs.writeFileSync(path.join(dir, 'src', 'deeper', 'locked.txt'), 'read-only');
  const old = new Date('2003-04-05T06:07:08.123Z');
  for (const rel of ['data.bin', 'src/main.c', 'src/deeper/locked.txt', 'src/deeper', 'src', 'empty', '']) {
    fs.utimesSync(path.join(dir, rel), old, old);
  }
  // Read-only last: under wine (10.0) utimes clears a file's read-only attribute.
  fs.chmodSync(path.join(dir, 'src', 'deeper', 'locked.txt'), 0o444);
  assert.equal(fs.statSync(path.join(dir, 'src', 'deeper', 'locked.txt')).mode & 0o222, 0);
  return dir;
}

describe('snapshot(), prepareTemplate(), removeTree()', () => {
  let tpl;
  let filesystem;
  before(async () => {
    tpl = template(path.join(root, 'template'));
    filesystem = (await probe(root)).filesystem;
  });

  test("snapshot() walks, says why naming the filesystem, and copies the tree with its modes and times", async () => {
    const dest = path.join(root, 'ws-async');
    const result = await snapshot(tpl, dest);
    assert.equal(result.strategy, 'walk');
    assert.equal(result.readOnly, false);
    assert.deepEqual(result.nestedSubvolumes, []);
    assert.equal(result.reason, `${filesystem} has no whole-tree clone (ReFS and Dev Drive clone file by file)`);
    assert.equal(result.files, 3);
    // The root and src, src/deeper, empty.
    assert.equal(result.directories, 4);
    assert.deepEqual(diffTrees(tpl, dest, { timestamps: 'ns' }), []);
    // A workspace of its own: a write to it leaves the template as it was.
    fs.writeFileSync(path.join(dest, 'src', 'main.c'), 'changed');
    assert.equal(fs.readFileSync(path.join(tpl, 'src', 'main.c'), 'utf8'), 'int main(void) { return 0; }\n');
  });

  test('snapshotSync() the same; readOnly is not made here: result.readOnly false, the walk still runs', () => {
    const dest = path.join(root, 'ws-sync');
    const result = snapshotSync(tpl, dest, { readOnly: true });
    assert.equal(result.strategy, 'walk');
    assert.equal(result.readOnly, false);
    assert.match(result.reason, /has no whole-tree clone/);
    assert.deepEqual(diffTrees(tpl, dest, { timestamps: 'ns' }), []);
  });

  test('walk: false fails with ENOTSUP and the reason, and makes nothing', async () => {
    const dest = path.join(root, 'ws-nowalk');
    const err = await failure(() => snapshot(tpl, dest, { walk: false }));
    assert.equal(err.code, 'ENOTSUP');
    assert.match(err.message, new RegExp(`${filesystem} has no whole-tree clone`));
    assert.equal(fs.existsSync(dest), false);
  });

  test('an existing dest is EEXIST; a dest inside src is refused; neither changes anything', async () => {
    const existing = path.join(root, 'ws-existing');
    fs.mkdirSync(existing);
    const exists = await failure(() => snapshot(tpl, existing));
    assert.equal(exists.code, 'EEXIST');
    assert.deepEqual(fs.readdirSync(existing), []);
    const inside = await failure(() => snapshot(tpl, path.join(tpl, 'src', 'ws')));
    assert.equal(inside.code, 'EINVAL');
    assert.equal(fs.existsSync(path.join(tpl, 'src', 'ws')), false);
  });

  test("prepareTemplate() makes nothing and says snapshot() will walk, and why", async () => {
    const expected = { made: 'none', strategy: 'walk', reason: `${filesystem} has no whole-tree clone (ReFS and Dev Drive clone file by file)`, copied: null, kept: null };
    assert.deepEqual(await prepareTemplate(tpl), expected);
    assert.deepEqual(prepareTemplateSync(tpl), expected);
  });

  test('removeTree() removes a workspace, its read-only file included; and a single file', async () => {
    const dest = path.join(root, 'ws-removed');
    await snapshot(tpl, dest);
    assert.equal(fs.statSync(path.join(dest, 'src', 'deeper', 'locked.txt')).mode & 0o222, 0, 'the read-only attribute was copied');
    assert.deepEqual(await removeTree(dest), { strategy: 'walk' });
    assert.equal(fs.existsSync(dest), false);
    const again = path.join(root, 'ws-removed-sync');
    snapshotSync(tpl, again);
    assert.deepEqual(removeTreeSync(again), { strategy: 'walk' });
    assert.equal(fs.existsSync(again), false);
    const file = path.join(root, 'single.txt');
    fs.writeFileSync(file, 'x');
    assert.deepEqual(await removeTree(file), { strategy: 'walk' });
    assert.equal(fs.existsSync(file), false);
    // The template is untouched by all of it.
    assert.equal(fs.existsSync(path.join(tpl, 'src', 'deeper', 'locked.txt')), true);
  });
});
