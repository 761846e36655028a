'use strict'
// The package's install step (npm install). node-gyp-build uses a binary that
// loads (build/ or a prebuild matching this platform) or else builds one from
// source with node-gyp; npm_config_build_from_source=true (npm install
// --build-from-source) builds from source even when a prebuild matches. When
// no binary loads and the build fails (no compiler, make or Python), the
// install still succeeds: cowcopy then runs on its node:fs fallback and says
// why in nativeLoadError.
//
// A build/ older than a source it was made from (a checkout after git pull)
// is built again: node-gyp-build would load it, and the facade refuse it.
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')
const { withNodedir } = require('./nodedir.cjs')

const root = path.resolve(__dirname, '..')
const mtime = (file) => fs.statSync(file).mtimeMs
const built = path.join(root, 'build', 'Release', 'cowcopy.node')
const stale =
  fs.existsSync(built) &&
  ['binding.gyp', ...fs.readdirSync(path.join(root, 'native')).map((name) => path.join('native', name))].some(
    (file) => mtime(path.join(root, file)) > mtime(built),
  )
const forced = process.env.npm_config_build_from_source === 'true'
const result = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], {
  cwd: root,
  env: withNodedir(stale ? { ...process.env, npm_config_build_from_source: 'true' } : process.env),
  stdio: 'inherit',
})
if (result.error || result.status !== 0) {
  const why = result.error ? result.error.message : 'see above'
  console.warn(
    forced || stale
      ? `cowcopy: ${stale ? 'building build/ again (older than its sources)' : 'the build from source that npm_config_build_from_source asked for'} failed (${why});\n` +
          'cowcopy will load a prebuilt binary if one matches this platform, else run on its node:fs fallback.'
      : `cowcopy: no prebuilt binary loads on this platform and the build from source failed (${why});\n` +
          'cowcopy will run on its node:fs fallback: same API, no clones where node:fs cannot clone.',
  )
}
