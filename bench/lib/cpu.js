'use strict'
// Per-CPU busy time from /proc/stat around each wrk run. With the server on
// one CPU and wrk on the other, this says who the limit was: a server CPU
// below 90% while wrk's is at 100% means the load tool, not the server, capped
// the number. The server process's own CPU time (/proc/PID/stat) subtracted
// from its CPU's busy time is what other processes took: noise. (Kernels that
// account softirq time apart also count some of the server's network work
// there; a few percent on loopback.)
const fs = require('node:fs')

/** Jiffies per CPU: { busy, total }[], or null off Linux. */
function sample () {
  let text
  try { text = fs.readFileSync('/proc/stat', 'utf8') } catch { return null }
  const cpus = []
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+) (.*)/.exec(line)
    if (!m) continue
    // user nice system idle iowait irq softirq steal ...: idle + iowait is not busy.
    const f = m[2].trim().split(/\s+/).map(Number)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0)
    cpus[Number(m[1])] = { busy: total - f[3] - f[4], total }
  }
  return cpus
}

/** Busy fraction of `cpu` between two samples, or null. */
function busy (a, b, cpu) {
  const x = a?.[cpu]
  const y = b?.[cpu]
  if (!x || !y || y.total === x.total) return null
  return (y.busy - x.busy) / (y.total - x.total)
}

/** CPU time (user + system, all threads) a process has used, in the same ticks as /proc/stat. */
function processTicks (pid) {
  let text
  try { text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return null }
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (proc(5)).
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12])
}

/** Busy fraction of every CPU over the next `ms`: other work on the machine, measured idle. */
async function busyFor (ms) {
  const a = sample()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const b = sample()
  return (b || []).map((_, i) => busy(a, b, i))
}

module.exports = { sample, busy, busyFor, processTicks }
