// The single-file contract on Windows, against the real filesystem node.exe
// sees: NTFS under wine (no block cloning: CopyFileExW does the copies), or,
// with TEMP on a ReFS volume or Dev Drive on a Windows runner, block clones.
// What is expected follows from probe(), which really tries a clone.
import assert from 'node:assert/strict';
import fs, { constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { NO_HELPER, failure, leftovers, nativeApi, randomFile, sha256, tempDir, winHelper } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const cowcopy = require('cowcopy');
const { clone, cloneSync, copyFile, copyFileSync, cp, probe } = cowcopy;
const { COPYFILE_EXCL, COPYFILE_FICLONE_FORCE } = constants;

// Codes a forced clone may give where the volume cannot clone.
const CANNOT_CLONE = ['ENOTSUP', 'EOPNOTSUPP', 'EXDEV'];

const helper = winHelper();
const root = tempDir('copy');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const { reflink: clones } = await probe(root);
// What 'auto' does here: a block clone, or CopyFileExW.
const AUTO = clones ? 'reflink' : 'kernel';
// A forced copy: CopyFileExW where it cannot clone; where it may, the bytes
// go through the process.
const COPY = clones ? 'userspace' : 'kernel';

let dir;
let src;
let srcHash;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(root, 'case-'));
  src = randomFile(path.join(dir, 'src.bin'), 300_000);
  srcHash = sha256(src);
});

describe('strategies', () => {
  test(`auto: ${clones ? 'a block clone' : "CopyFileExW, reported as 'kernel'"}, same bytes`, async () => {
    const dest = path.join(dir, 'auto.bin');
    assert.deepEqual(await clone(src, dest), { strategy: AUTO, bytes: 300_000 });
    assert.equal(sha256(dest), srcHash);
    assert.deepEqual(cloneSync(src, path.join(dir, 'auto-sync.bin')), { strategy: AUTO, bytes: 300_000 });
    assert.equal(sha256(path.join(dir, 'auto-sync.bin')), srcHash);
  });

  test(`copy: a forced copy that cannot clone, '${COPY}'`, async () => {
    const dest = path.join(dir, 'copy.bin');
    assert.deepEqual(await clone(src, dest, { strategy: 'copy' }), { strategy: COPY, bytes: 300_000 });
    assert.equal(sha256(dest), srcHash);
  });

  test('copy: more than one buffer (1 MiB), and an empty file', async () => {
    const big = randomFile(path.join(dir, 'big.bin'), 2_500_001);
    assert.deepEqual(await clone(big, path.join(dir, 'big-copy.bin'), { strategy: 'copy' }), {
      strategy: COPY,
      bytes: 2_500_001,
    });
    assert.equal(sha256(path.join(dir, 'big-copy.bin')), sha256(big));
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '');
    for (const strategy of ['auto', 'copy']) {
      const dest = path.join(dir, `empty-${strategy}`);
      assert.equal((await clone(empty, dest, { strategy })).bytes, 0);
      assert.equal(fs.statSync(dest).size, 0);
    }
  });

  test('forced reflink where the volume clones: whole files, any size', { skip: !clones && 'no block cloning here' }, async () => {
    // 300,000 bytes end in a partial cluster; 0 and one cluster are the edges.
    for (const size of [300_000, 0, 4096, 65_536 * 3 + 1, 2_500_001]) {
      const from = randomFile(path.join(dir, `sized-${size}.bin`), size);
      const to = path.join(dir, `sized-${size}.clone`);
      assert.deepEqual(await clone(from, to, { strategy: 'reflink' }), { strategy: 'reflink', bytes: size });
      assert.equal(sha256(to), sha256(from), `${size} bytes`);
    }
    const existing = randomFile(path.join(dir, 'existing.clone'), 1_000_000);
    assert.equal(cloneSync(src, existing, { strategy: 'reflink' }).bytes, 300_000);
    assert.equal(sha256(existing), srcHash);
    await copyFile(src, path.join(dir, 'forced.clone'), COPYFILE_FICLONE_FORCE);
    assert.equal(sha256(path.join(dir, 'forced.clone')), srcHash);
    assert.deepEqual(leftovers(dir), []);
  });

  test('forced reflink where the volume cannot clone: an ENOTSUP-family error, nothing written', { skip: clones && 'this volume clones' }, async () => {
    const fresh = path.join(dir, 'fresh.bin');
    const err = await failure(() => clone(src, fresh, { strategy: 'reflink' }));
    assert.ok(CANNOT_CLONE.includes(err.code), `${err.code}: ${err.message}`);
    assert.equal(err.path, src);
    assert.equal(err.dest, fresh);
    assert.equal(fs.existsSync(fresh), false);
    assert.throws(() => cloneSync(src, fresh, { strategy: 'reflink' }), (e) => CANNOT_CLONE.includes(e.code));
    assert.equal(fs.existsSync(fresh), false);

    const kept = path.join(dir, 'kept.bin');
    fs.writeFileSync(kept, 'precious');
    const again = await failure(() => clone(src, kept, { strategy: 'reflink' }));
    assert.ok(CANNOT_CLONE.includes(again.code), again.code);
    assert.equal(fs.readFileSync(kept, 'utf8'), 'precious');
    assert.deepEqual(leftovers(dir), []);
  });

  test('COPYFILE_FICLONE_FORCE: the same, with copyfile in the error', { skip: clones && 'this volume clones' }, async () => {
    const dest = path.join(dir, 'forced.bin');
    const err = await failure(() => copyFile(src, dest, COPYFILE_FICLONE_FORCE));
    assert.ok(CANNOT_CLONE.includes(err.code), err.code);
    assert.equal(err.syscall, 'copyfile');
    assert.equal(fs.existsSync(dest), false);
    assert.throws(() => copyFileSync(src, dest, COPYFILE_FICLONE_FORCE), (e) => CANNOT_CLONE.includes(e.code));
    assert.equal(fs.existsSync(dest), false);
  });

  test('hardlink: the same file under a new name, an existing dest replaced', async () => {
    const link = path.join(dir, 'link.bin');
    assert.deepEqual(await clone(src, link, { strategy: 'hardlink' }), { strategy: 'hardlink', bytes: 300_000 });
    const a = fs.statSync(src, { bigint: true });
    const b = fs.statSync(link, { bigint: true });
    assert.equal(b.ino, a.ino);
    assert.equal(a.nlink, 2n);
    fs.appendFileSync(link, 'x');
    assert.equal(fs.statSync(src).size, 300_001, 'a write through one name shows in the other');

    const existing = path.join(dir, 'existing.bin');
    fs.writeFileSync(existing, 'old');
    assert.equal(cloneSync(src, existing, { strategy: 'hardlink' }).strategy, 'hardlink');
    assert.equal(fs.statSync(existing, { bigint: true }).ino, a.ino);
    assert.deepEqual(leftovers(dir), []);

    const other = path.join(dir, 'other.bin');
    fs.writeFileSync(other, 'keep');
    const excl = await failure(() => clone(src, other, { strategy: 'hardlink', overwrite: false }));
    assert.equal(excl.code, 'EEXIST');
    assert.equal(fs.readFileSync(other, 'utf8'), 'keep');
    // dest already a link to src: the same file, as on Linux.
    assert.equal((await failure(() => clone(src, existing, { strategy: 'hardlink' }))).code, 'EINVAL');
  });

  test('auto never picks a hard link', async () => {
    const dest = path.join(dir, 'auto.bin');
    await clone(src, dest);
    assert.notEqual(fs.statSync(dest, { bigint: true }).ino, fs.statSync(src, { bigint: true }).ino);
  });
});

describe('destinations', () => {
  test('overwrite: an existing, larger destination gets exactly the source', async () => {
    const dest = randomFile(path.join(dir, 'big-dest.bin'), 1_000_000);
    await copyFile(src, dest);
    assert.equal(fs.statSync(dest).size, 300_000);
    assert.equal(sha256(dest), srcHash);
    randomFile(dest, 1_000_001);
    assert.equal((await clone(src, dest, { strategy: 'copy' })).bytes, 300_000);
    assert.equal(sha256(dest), srcHash);
  });

  test('overwrite: false fails with EEXIST for every strategy and keeps dest', async () => {
    const dest = path.join(dir, 'keep.bin');
    fs.writeFileSync(dest, 'keep');
    for (const strategy of ['auto', 'reflink', 'hardlink', 'copy']) {
      const err = await failure(() => clone(src, dest, { strategy, overwrite: false }));
      assert.equal(err.code, 'EEXIST', strategy);
      assert.equal(err.errno, -4075, "libuv's EEXIST on Windows");
    }
    assert.equal(fs.readFileSync(dest, 'utf8'), 'keep');
  });

  test('COPYFILE_EXCL: EEXIST worded as fs.copyFile words it', async () => {
    const dest = path.join(dir, 'excl.bin');
    fs.writeFileSync(dest, 'keep');
    const ours = await failure(() => copyFile(src, dest, COPYFILE_EXCL));
    const node = await failure(() => fs.promises.copyFile(src, dest, COPYFILE_EXCL));
    assert.equal(ours.message, node.message);
    assert.equal(ours.code, 'EEXIST');
    assert.equal(ours.errno, node.errno);
    assert.equal(ours.syscall, 'copyfile');
    assert.equal(fs.readFileSync(dest, 'utf8'), 'keep');
  });

  test('the same file: copyFile is a no-op, clone an error, the file intact', async () => {
    await copyFile(src, src);
    copyFileSync(src, src);
    const link = path.join(dir, 'hardlink.bin');
    fs.linkSync(src, link);
    await copyFile(src, link);
    const dotted = path.join(dir, '..', path.basename(dir), 'src.bin');
    await copyFile(src, dotted);
    for (const dest of [src, link, dotted]) {
      const err = await failure(() => clone(src, dest));
      assert.equal(err.code, 'EINVAL');
      assert.equal(err.syscall, 'clone');
      assert.equal(err.message, `EINVAL: source and destination are the same file, clone '${src}' -> '${dest}'`);
    }
    assert.equal(sha256(src), srcHash);
    assert.equal(fs.statSync(src).size, 300_000);
  });

  test('a read-only source gives a read-only copy (the one mode bit Windows has)', async () => {
    fs.chmodSync(src, 0o444);
    for (const strategy of ['auto', 'copy']) {
      const dest = path.join(dir, `ro-${strategy}.bin`);
      await clone(src, dest, { strategy });
      assert.equal(fs.statSync(dest).mode & 0o222, 0, `${strategy}: read-only`);
      assert.equal(sha256(dest), srcHash);
    }
    fs.chmodSync(src, 0o666);
    const writable = path.join(dir, 'rw.bin');
    await clone(src, writable);
    assert.notEqual(fs.statSync(writable).mode & 0o200, 0);
  });

  test('a read-only destination: the same outcome as fs.copyFile', async (t) => {
    // Windows refuses to write into it (EPERM). Wine as root writes anyway,
    // and so does node:fs there: what can be checked is that both agree.
    const outcome = async (copy) => {
      const dest = path.join(dir, `readonly-${Math.random()}.bin`);
      fs.writeFileSync(dest, 'read only');
      fs.chmodSync(dest, 0o444);
      try {
        await copy(dest);
        return { code: null, content: sha256(dest) === srcHash ? 'copied' : 'corrupt' };
      } catch (err) {
        return { code: err.code, content: fs.readFileSync(dest, 'utf8') };
      }
    };
    const node = await outcome((dest) => fs.promises.copyFile(src, dest));
    t.diagnostic(`node:fs here: ${JSON.stringify(node)}`);
    assert.deepEqual(await outcome((dest) => copyFile(src, dest)), node);
    for (const strategy of ['auto', 'copy']) {
      assert.deepEqual(await outcome((dest) => clone(src, dest, { strategy })), node, strategy);
    }
    if (node.code !== null) assert.equal(node.content, 'read only');
  });

  test('the last write time is the source\'s, as CopyFileW keeps it; the access time too with preserveTimestamps', async (t) => {
    const then = new Date('2001-02-03T04:05:06.789Z');
    fs.utimesSync(src, then, then);
    const st = fs.statSync(src, { bigint: true });
    assert.equal(st.mtimeNs, 981173106789000000n);
    // Wine does not keep an access time set on a file (it reads back as now):
    // atime is checked only where the source itself kept it.
    const atimeKept = st.atimeNs === 981173106789000000n;
    if (!atimeKept) t.diagnostic('this system does not keep a set atime: atime not checked');
    const node = path.join(dir, 'node.bin');
    await fs.promises.copyFile(src, node);
    t.diagnostic(`fs.copyFile here gives mtime ${fs.statSync(node).mtime.toISOString()}`);
    for (const strategy of ['auto', 'copy']) {
      const kept = path.join(dir, `kept-${strategy}.bin`);
      await clone(src, kept, { strategy, preserveTimestamps: true });
      const k = fs.statSync(kept, { bigint: true });
      assert.equal(k.mtimeNs, st.mtimeNs, `${strategy}: mtime`);
      if (atimeKept) assert.equal(k.atimeNs, st.atimeNs, `${strategy}: atime`);
      const plain = path.join(dir, `plain-${strategy}.bin`);
      await clone(src, plain, { strategy });
      assert.equal(fs.statSync(plain, { bigint: true }).mtimeNs, st.mtimeNs, `${strategy}: the source's mtime without asking`);
    }
    await copyFile(src, path.join(dir, 'copyfile.bin'));
    assert.equal(fs.statSync(path.join(dir, 'copyfile.bin'), { bigint: true }).mtimeNs, st.mtimeNs, 'copyFile');
    if (process.env.COWCOPY_WIN_UNDER_WINE !== '1') {
      assert.equal(fs.statSync(node, { bigint: true }).mtimeNs, st.mtimeNs, 'fs.copyFile (CopyFileW) keeps it');
    }
  });

  test('cp() of a file replaces an existing dest by a new file (renamed over it)', async () => {
    const dest = path.join(dir, 'cp-dest.bin');
    fs.writeFileSync(dest, 'old');
    const before = fs.statSync(dest, { bigint: true }).ino;
    const result = await cp(src, dest);
    assert.equal(result.files, 1);
    assert.equal(sha256(dest), srcHash);
    assert.notEqual(fs.statSync(dest, { bigint: true }).ino, before, 'a new file, not written into');
    assert.deepEqual(leftovers(dir), []);
  });
});

// fs.copyFile on Windows is CopyFileW, which keeps more than the data: the
// copy is the same whether cowcopy cloned, let CopyFileExW copy, or copied
// the bytes itself.
describe('what CopyFileW keeps, kept by every strategy', () => {
  const FILE_ATTRIBUTE_READONLY = 0x1;
  const FILE_ATTRIBUTE_HIDDEN = 0x2;
  const FILE_ATTRIBUTE_SYSTEM = 0x4;
  const FILE_ATTRIBUTE_ARCHIVE = 0x20;
  const ATTRIBUTES = FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE;
  const bytesThroughProcess = nativeApi({ noKernelCopy: true });
  // [name, copy, whether CopyFileExW made it here]: under wine, whose
  // CopyFileExW keeps less than Windows', such a copy is held to what
  // fs.copyFile (CopyFileW) gives there; the others to what Windows gives.
  const copies = [
    ['clone auto', (from, to) => clone(from, to), !clones],
    ['clone copy', (from, to) => clone(from, to, { strategy: 'copy' }), !clones],
    ['copyFile', (from, to) => copyFile(from, to), !clones],
    ['cp', (from, to) => cp(from, to), !clones],
    ['bytes through the process', (from, to) => bytesThroughProcess.clone(from, to), false],
  ];
  const underWine = process.env.COWCOPY_WIN_UNDER_WINE === '1';

  test('attributes: hidden, system, archive, read-only', { skip: !helper && NO_HELPER }, async () => {
    for (const bits of [FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM, FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_READONLY]) {
      const from = randomFile(path.join(dir, `attributes-${bits}.bin`), 70_000);
      helper.setAttributes(from, bits);
      const want = helper.attributes(from) & ATTRIBUTES;
      assert.equal(want & bits, bits, 'the source has them');
      const node = path.join(dir, `node-${bits}.bin`);
      await fs.promises.copyFile(from, node);
      if (!underWine) assert.equal(helper.attributes(node) & ATTRIBUTES, want, 'fs.copyFile keeps them');
      // Set by cowcopy after CopyFileExW too: the same under wine, whose copy keeps fewer.
      for (const [name, copy] of copies) {
        const to = path.join(dir, `${name}-${bits}.bin`);
        await copy(from, to);
        assert.equal(helper.attributes(to) & ATTRIBUTES, want, `${name}: ${bits}`);
        assert.equal(sha256(to), sha256(from), name);
        helper.setAttributes(to, 0x80);
      }
      helper.setAttributes(node, 0x80);
      helper.setAttributes(from, 0x80);
    }
  });

  // Windows keeps named streams on NTFS and ReFS. Wine has none: there
  // 'file:name' is a file of its own, which the listing shows.
  const streams = (() => {
    const probeDir = fs.mkdtempSync(path.join(root, 'stream-probe-'));
    const probeFile = path.join(probeDir, 'file');
    fs.writeFileSync(probeFile, 'x');
    try {
      fs.writeFileSync(`${probeFile}:probe`, 'y');
      return fs.readFileSync(`${probeFile}:probe`, 'utf8') === 'y' && fs.readdirSync(probeDir).length === 1;
    } catch {
      return false;
    }
  })();
  test('named streams: the Mark of the Web (Zone.Identifier) and others', { skip: !streams && 'no alternate data streams here (wine)' }, async () => {
    const from = randomFile(path.join(dir, 'downloaded.exe'), 300_001);
    const mark = '[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=https://example.com/\r\n';
    fs.writeFileSync(`${from}:Zone.Identifier`, mark);
    const big = randomFile(path.join(dir, 'stream-data'), 1_500_000);
    fs.copyFileSync(big, `${from}:big`);
    const node = path.join(dir, 'node.exe');
    await fs.promises.copyFile(from, node);
    const nodeKept = fs.existsSync(`${node}:Zone.Identifier`);
    if (!underWine) assert.equal(fs.readFileSync(`${node}:Zone.Identifier`, 'utf8'), mark, 'fs.copyFile keeps it');
    for (const [name, copy, osCopy] of copies) {
      const to = path.join(dir, `${name}.exe`);
      await copy(from, to);
      assert.equal(sha256(to), sha256(from), name);
      if (underWine && osCopy) {
        assert.equal(fs.existsSync(`${to}:Zone.Identifier`), nodeKept, `${name}: as wine's fs.copyFile`);
        continue;
      }
      assert.equal(fs.readFileSync(`${to}:Zone.Identifier`, 'utf8'), mark, `${name}: the Mark of the Web`);
      assert.equal(sha256(`${to}:big`), sha256(big), `${name}: a stream over a buffer's size`);
    }
  });

  const eaSupport = (() => {
    if (!helper) return false;
    const probeFile = path.join(root, 'ea-probe');
    fs.writeFileSync(probeFile, 'x');
    try {
      helper.setEa(probeFile, 'COWCOPY.PROBE', 'y');
      return helper.eas(probeFile)['COWCOPY.PROBE']?.toString() === 'y';
    } catch {
      return false;
    }
  })();
  test('extended attributes', { skip: !eaSupport && (helper ? 'this volume keeps no extended attributes (wine, ReFS)' : NO_HELPER) }, async () => {
    const from = randomFile(path.join(dir, 'with-eas.bin'), 100_000);
    helper.setEa(from, 'COWCOPY.ONE', 'first value');
    helper.setEa(from, 'COWCOPY.TWO', 'x'.repeat(4000));
    const want = helper.eas(from);
    assert.deepEqual(Object.keys(want).sort(), ['COWCOPY.ONE', 'COWCOPY.TWO']);
    const node = path.join(dir, 'node-eas.bin');
    await fs.promises.copyFile(from, node);
    if (!underWine) assert.deepEqual(helper.eas(node), want, 'fs.copyFile keeps them');
    for (const [name, copy, osCopy] of copies) {
      const to = path.join(dir, `${name}-eas.bin`);
      await copy(from, to);
      assert.deepEqual(helper.eas(to), underWine && osCopy ? helper.eas(node) : want, name);
    }
  });

  test('a destination held open by a program that lets others read and write, not delete: written into, as fs.copyFile does', { skip: !helper && NO_HELPER }, async () => {
    const outcome = async (copy) => {
      const dest = path.join(dir, `held-${Math.random()}.bin`);
      fs.writeFileSync(dest, 'old');
      const id = helper.hold(dest, 'rw');
      try {
        await copy(dest);
        return 'copied';
      } catch (err) {
        return err.code;
      } finally {
        helper.release(id);
      }
    };
    const node = await outcome((dest) => fs.promises.copyFile(src, dest));
    if (!underWine) assert.equal(node, 'copied', 'CopyFileW writes into it');
    assert.equal(await outcome((dest) => copyFile(src, dest)), node, 'copyFile');
    for (const strategy of ['auto', 'copy']) {
      assert.equal(await outcome((dest) => clone(src, dest, { strategy })), node, strategy);
    }
  });
});

describe('many at once, and trees', () => {
  test('50 copies in parallel on the thread pool, all whole', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => clone(src, path.join(dir, `parallel-${i}.bin`), { strategy: i % 2 ? 'copy' : 'auto' })),
    );
    assert.deepEqual(new Set(results.map((r) => r.strategy)), new Set([AUTO, COPY]));
    for (let i = 0; i < 50; i++) assert.equal(sha256(path.join(dir, `parallel-${i}.bin`)), srcHash);
    assert.deepEqual(leftovers(dir), []);
  });

  test('cp() of a directory: walked natively (tree_win.cc), each file by the strategy a single copy uses', async () => {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'sub', 'ünïcødé'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'a.txt'), 'a');
    fs.copyFileSync(src, path.join(tree, 'sub', 'b.bin'));
    fs.writeFileSync(path.join(tree, 'sub', 'ünïcødé', '日本.txt'), 'c');
    const out = path.join(dir, 'tree-copy');
    const result = await cp(tree, out, { recursive: true });
    assert.equal(result.files, 3);
    assert.equal(result.strategies[AUTO], 3);
    assert.equal(sha256(path.join(out, 'sub', 'b.bin')), srcHash);
    assert.equal(fs.readFileSync(path.join(out, 'sub', 'ünïcødé', '日本.txt'), 'utf8'), 'c');
  });
});

describe('names', () => {
  test('Unicode names, at both ends', async () => {
    const name = 'ünïcødé-日本.txt';
    const from = path.join(dir, name);
    fs.writeFileSync(from, 'grüße');
    const to = path.join(dir, `copie-${name}`);
    assert.equal((await clone(from, to)).strategy, AUTO);
    assert.equal(fs.readFileSync(to, 'utf8'), 'grüße');
    copyFileSync(from, path.join(dir, `sync-${name}`));
    await clone(from, path.join(dir, `copy-${name}`), { strategy: 'copy' });
    await clone(from, path.join(dir, `link-${name}`), { strategy: 'hardlink' });
    const names = fs.readdirSync(dir);
    for (const expected of [name, `copie-${name}`, `sync-${name}`, `copy-${name}`, `link-${name}`]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
    // As a Buffer of UTF-8 bytes too.
    await copyFile(Buffer.from(from), Buffer.from(path.join(dir, `buffer-${name}`)));
    assert.equal(fs.readFileSync(path.join(dir, `buffer-${name}`), 'utf8'), 'grüße');
  });

  test('paths longer than MAX_PATH (260)', async () => {
    let deep = dir;
    while (deep.length < 300) deep = path.join(deep, 'a-rather-long-directory-name');
    fs.mkdirSync(deep, { recursive: true });
    const from = path.join(deep, 'source-with-a-long-name.bin');
    randomFile(from, 70_000);
    const hash = sha256(from);
    const to = path.join(deep, 'destination-with-a-long-name.bin');
    assert.ok(to.length > 260, `${to.length} characters`);
    for (const strategy of ['auto', 'copy', 'hardlink']) {
      const dest = `${to}.${strategy}`;
      assert.equal((await clone(from, dest, { strategy })).bytes, 70_000, strategy);
      assert.equal(sha256(dest), hash, strategy);
    }
    await copyFile(from, to);
    assert.equal(sha256(to), hash);
    // A relative path is resolved against the current directory first.
    const relative = path.relative(process.cwd(), `${to}.relative`);
    await copyFile(from, relative);
    assert.equal(sha256(`${to}.relative`), hash);
    const missing = await failure(() => clone(path.join(deep, 'missing'), `${to}.none`));
    assert.equal(missing.code, 'ENOENT');
  });

  test('bytes that are not UTF-8 name no Windows file: ECHARSET, nothing written', async () => {
    const name = Buffer.concat([Buffer.from(`${dir}\\`), Buffer.from([0x66, 0xff, 0xfe, 0x67])]);
    const err = await failure(() => clone(src, name));
    assert.equal(err.code, 'ECHARSET');
    assert.deepEqual(fs.readdirSync(dir), ['src.bin']);
  });
});
