'use strict'
// Compiles C peers (the ceiling server) into bench/.build/, which is
// gitignored: binaries are build artifacts, never committed.
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { which } = require('./tools')

function mtime (file) {
  try { return fs.statSync(file).mtimeMs } catch { return -1 }
}

/** Runs `cc -O2` when `out` is missing or older than `src`; returns whether it compiled. */
function buildIfStale (src, out) {
  if (mtime(out) >= mtime(src) && mtime(out) >= 0) return false
  const cc = which('cc')
  if (!cc) throw new Error(`cc not found: cannot build ${path.basename(out)} (install gcc or clang)`)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  console.log(`building ${path.relative(process.cwd(), out)}`)
  execFileSync(cc, ['-O2', '-Wall', '-o', out, src], { stdio: 'inherit' })
  return true
}

module.exports = { buildIfStale }
