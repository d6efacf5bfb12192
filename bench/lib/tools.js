'use strict'
// The external tools the benchmark needs (wrk, taskset, cc) and CPU pinning.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

/** Absolute path of an executable on PATH, or null. */
function which (cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue
    const file = path.join(dir, cmd)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) return file
    } catch {}
  }
  return null
}

/**
 * Decides how processes get pinned. Server on one CPU and wrk on another is
 * the point of the test (one core for the server, and the load tool never
 * steals it); without taskset or a second CPU we can only warn.
 */
function pinning (cpus) {
  const taskset = which('taskset')
  const cores = os.availableParallelism()
  const needed = Math.max(...cpus) + 1
  if (!taskset) return { taskset: null, warning: 'taskset not found: running unpinned, numbers are noisier' }
  if (cores < needed) return { taskset: null, warning: `only ${cores} CPU(s): running unpinned` }
  return { taskset, warning: null }
}

/** argv prefixed with `taskset -c cpu` when pinning is available. */
function pinned (pin, cpu, argv) {
  return pin.taskset ? [pin.taskset, '-c', String(cpu), ...argv] : argv
}

module.exports = { which, pinning, pinned }
