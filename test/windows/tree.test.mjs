// The tree contract (test/tree-contract.mjs, the suite vitest runs on
// Linux) in the Windows node.exe, on every way cp() runs there: the native
// walk (native/tree_win.cc), the JavaScript walk copying each file
// natively, and the node:fs fallback.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { treeContract } from '../tree-contract.mjs';
import { tempDir } from './files.helper.mjs';

const require = createRequire(import.meta.url);
const pkg = path.dirname(require.resolve('cowcopy/package.json'));
const dist = (name) => require(path.join(pkg, 'dist', name));
const { createApi } = dist('api.js');
const { createNativeBackend } = dist('native.js');
const { fallbackBackend } = dist('fallback.js');
const loaded = dist('binding.js').loadBinding({});
if (!loaded.binding) throw new Error(`the native backend must load here: ${loaded.error?.message}`);
const binding = loaded.binding;
if (!binding.nativeTree) throw new Error('the Windows addon must walk trees natively (tree_win.cc)');

const root = tempDir('tree');
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Why symlinks cannot be made here (wine makes none; Windows without the privilege refuses), or null. */
function whyNoSymlinks() {
  const probe = fs.mkdtempSync(path.join(root, 'links-'));
  try {
    fs.writeFileSync(path.join(probe, 'target'), 'x');
    fs.symlinkSync('target', path.join(probe, 'link'));
    return fs.lstatSync(path.join(probe, 'link')).isSymbolicLink() && fs.readFileSync(path.join(probe, 'link'), 'utf8') === 'x'
      ? null
      : 'symlinks made here are not symlinks (wine)';
  } catch (err) {
    return `no symlinks here (${err.code})`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

const api = createApi(createNativeBackend(binding));
treeContract(
  { describe, beforeEach, afterEach, test: (name, fn, skip) => test(name, { skip: skip ?? false }, fn) },
  {
    backends: [
      { name: 'native', api },
      { name: 'native files, JS walk', api: createApi(createNativeBackend({ ...binding, nativeTree: false })) },
      { name: 'fallback', api: createApi(fallbackBackend) },
    ],
    root,
    noSymlinks: whyNoSymlinks(),
    clones: (await api.probe(root)).reflink,
    // NTFS, ReFS: 100 ns.
    timeResolution: 100n,
  },
);
