'use strict'
// Server CPU time for npm run bench:workers, read from /proc: the whole bench
// process (/proc/PID/stat: the worker threads, V8's helper threads working
// for them, and the primary, which only waits) and the worker threads alone
// (/proc/PID/task/TID/stat). The load tool is another process, never counted.
// /proc/PID, not /proc/self: reading /proc/self/task/TID/stat of a worker
// thread failed with ENOENT in about a third of the runs here (Linux 6.18).
// cluster()'s workers are threads of this process; their thread ids are the
// tasks that appeared while the cluster started (workerTids).
// Units: microseconds, from clock ticks (USER_HZ, `getconf CLK_TCK`): 10 ms
// a tick at the usual 100, so a figure needs runs of seconds, which the bench has.
const fs = require('node:fs')
const { execFileSync } = require('node:child_process')

let tickUs = null
/** Microseconds per clock tick (USER_HZ); 100 Hz when getconf is missing. */
function microsPerTick () {
  if (tickUs === null) {
    let hz = 100
    try { hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch {}
    tickUs = 1e6 / hz
  }
  return tickUs
}

/** utime + stime of a /proc stat file in µs, or null when it is gone (a thread that ended). */
function statMicros (file) {
  let text
  try { text = fs.readFileSync(file, 'utf8') } catch { return null }
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (proc(5)).
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) * microsPerTick()
}

/** This process's thread ids. */
function tasks () {
  return new Set(fs.readdirSync(`/proc/${process.pid}/task`))
}

/** The threads that `start()` (which starts the cluster) added to this process: its workers. */
async function workerTids (start) {
  const before = tasks()
  const result = await start()
  const tids = [...tasks()].filter((tid) => !before.has(tid))
  return { result, tids }
}

/** { process, threads } µs of CPU so far: the whole process, and each of `tids` still running (a Map). */
function sampleCpu (tids) {
  const threads = new Map()
  for (const tid of tids) {
    const us = statMicros(`/proc/${process.pid}/task/${tid}/stat`)
    if (us !== null) threads.set(tid, us)
  }
  return { process: statMicros(`/proc/${process.pid}/stat`), threads }
}

/**
 * CPU between two samples, µs: the process's, and the workers' (the threads
 * in both samples: one that ended in between, such as a short-lived helper
 * started with the cluster, would take its whole time off the sum).
 */
function cpuBetween (a, b) {
  let workers = 0
  for (const [tid, us] of b.threads) if (a.threads.has(tid)) workers += us - a.threads.get(tid)
  return { process: b.process - a.process, workers }
}

module.exports = { workerTids, sampleCpu, cpuBetween, statMicros, microsPerTick }
