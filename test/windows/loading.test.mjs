// The win32-x64 prebuild loads in the real node.exe, through node-gyp-build,
// from both module systems.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';

const require = createRequire(import.meta.url);

test('runs in the Windows node.exe', () => {
  assert.equal(process.platform, 'win32');
  assert.equal(process.arch, 'x64');
});

test('require: the native backend is in use, with no load error', () => {
  const cowcopy = require('cowcopy');
  assert.equal(cowcopy.nativeLoadError, null);
  assert.equal(cowcopy.backend, 'native');
});

test('import: the same', async () => {
  const cowcopy = await import('cowcopy');
  assert.equal(cowcopy.nativeLoadError, null);
  assert.equal(cowcopy.backend, 'native');
});

// A checkout after npm ci has build/Release, which node-gyp-build prefers;
// an installed package with no compiler has the prebuild (scripts/emulate/test-win.mjs
// stages one and says so).
const expected = process.env.COWCOPY_WIN_EXPECT_BINARY ?? 'build/Release/cowcopy.node';

test(`node-gyp-build picks ${expected}, the Windows build`, () => {
  const pkg = path.dirname(require.resolve('cowcopy/package.json'));
  const file = require('node-gyp-build').path(pkg);
  assert.equal(path.relative(pkg, file), path.join(...expected.split('/')));
  const binding = require(file);
  assert.equal(binding.platform, 'win32');
});
