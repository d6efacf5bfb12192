'use strict'
// What the numbers were measured on. Requests/s mean little without the CPU,
// the versions, and how busy the machine was (load average before and after).
const os = require('node:os')
const { spawnSync } = require('node:child_process')

function wrkVersion (wrk) {
  // wrk -v prints its version line and the usage, then exits 1.
  const out = spawnSync(wrk, ['-v'], { encoding: 'utf8', timeout: 5000 })
  return /^wrk .*?(?= \[|$)/m.exec(`${out.stdout}${out.stderr}`)?.[0] || 'unknown'
}

function machine (wrk) {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model || 'unknown',
    cores: os.availableParallelism(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    wrk: wrkVersion(wrk),
    loadBefore: os.loadavg()
  }
}

module.exports = { machine }
