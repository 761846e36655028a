'use strict'
// node-gyp downloads Node's headers unless told where they are. Point it at
// the headers installed next to the running Node (/usr/include/node on
// Debian, include/node in the official tarballs), unless the user already
// chose (npm_config_nodedir) or there are none (then node-gyp does its usual).
const fs = require('fs')
const path = require('path')

function withNodedir (env = process.env) {
  if (env.npm_config_nodedir) return env
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    return { ...env, npm_config_nodedir: prefix }
  }
  return env
}

module.exports = { withNodedir }
