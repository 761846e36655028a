'use strict'
// The package's install step (npm install). node-gyp-build uses a binary that
// loads (build/ or a prebuild matching this platform) or else builds one from
// source with node-gyp; npm_config_build_from_source=true (npm install
// --build-from-source) builds from source even when a prebuild matches. When
// no binary loads and the build fails (no compiler, make or Python), the
// install still succeeds: cowcopy then runs on its node:fs fallback and says
// why in nativeLoadError.
const { spawnSync } = require('child_process')
const path = require('path')
const { withNodedir } = require('./nodedir.cjs')

const root = path.resolve(__dirname, '..')
const forced = process.env.npm_config_build_from_source === 'true'
const result = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], {
  cwd: root,
  env: withNodedir(),
  stdio: 'inherit',
})
if (result.error || result.status !== 0) {
  const why = result.error ? result.error.message : 'see above'
  console.warn(
    forced
      ? `cowcopy: the build from source that npm_config_build_from_source asked for failed (${why});\n` +
          'cowcopy will load a prebuilt binary if one matches this platform, else run on its node:fs fallback.'
      : `cowcopy: no prebuilt binary loads on this platform and the build from source failed (${why});\n` +
          'cowcopy will run on its node:fs fallback: same API, no clones where node:fs cannot clone.',
  )
}
