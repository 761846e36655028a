'use strict'
// Builds build/Release/cowcopy.node with node-gyp, incrementally: configure
// only when there is no Makefile yet or binding.gyp changed.
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')
const { withNodedir } = require('./nodedir.cjs')

const root = path.resolve(__dirname, '..')
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js')
const env = withNodedir()
const extra = process.argv.slice(2)

function run (args) {
  const r = spawnSync(process.execPath, [nodeGyp, ...args, ...extra], { cwd: root, env, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const makefile = path.join(root, 'build', 'Makefile')
const stale = !fs.existsSync(makefile) ||
  fs.statSync(path.join(root, 'binding.gyp')).mtimeMs > fs.statSync(makefile).mtimeMs
if (stale || extra.length) run(['configure'])
run(['build'])
