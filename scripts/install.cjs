'use strict'
// The package's install step (npm install). node-gyp-build uses a binary that
// loads (build/ or a prebuild matching this platform) or else builds one from
// source with node-gyp. When neither works the install still succeeds:
// cowcopy then runs on its node:fs fallback and says why in nativeLoadError.
const { spawnSync } = require('child_process')
const path = require('path')
const { withNodedir } = require('./nodedir.cjs')

const root = path.resolve(__dirname, '..')
const result = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], {
  cwd: root,
  env: withNodedir(),
  stdio: 'inherit',
})
if (result.status !== 0) {
  console.warn(
    'cowcopy: no prebuilt binary for this platform and the build from source failed (see above);\n' +
      'cowcopy will run on its node:fs fallback: same API, no clones where node:fs cannot clone.',
  )
}
