'use strict'
// The salvo package as the bench servers load it (from dist/), with a clear
// message when it has not been built.
try {
  module.exports = require('../..')
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND') throw err
  console.error(`Error: salvo is not built (${err.message.split('\n')[0]}): run 'npm run build' first`)
  process.exit(1)
}
