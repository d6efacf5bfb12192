'use strict'
// GC and memory accounting for a server under load (design invariant 5):
// scavenges and mark-compacts per million requests, GC time as a share of
// wall time, RSS. A report covers the time since the last one.
const { PerformanceObserver, constants } = require('node:perf_hooks')

let period = null
let seq = 0

function fresh (stats) {
  return { t0: performance.now(), minor: 0, major: 0, majorMs: [], incremental: 0, weak: 0, gcMs: 0, base: stats() }
}

function report (stats) {
  const s = stats()
  const reqs = s.requests - period.base.requests
  const perM = (n) => reqs > 0 ? n * 1e6 / reqs : null
  const ms = performance.now() - period.t0
  console.log(JSON.stringify({
    salvoReport: seq++,
    seconds: ms / 1000,
    requests: reqs,
    reads: s.reads - period.base.reads,
    writes: s.writes - period.base.writes,
    batches: s.batches - period.base.batches,
    scavenges: period.minor,
    markCompacts: period.major,
    markCompactMs: period.majorMs,
    incrementalMarkings: period.incremental,
    scavengesPerMillion: perM(period.minor),
    markCompactsPerMillion: perM(period.major),
    gcShare: period.gcMs / ms,
    rssMB: process.memoryUsage().rss / 1048576
  }))
}

function start (stats) {
  period = fresh(stats)
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail ? e.detail.kind : e.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) period.minor++
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        // With near-zero allocation, V8's memory reducer runs a "Mark-Compact
        // (reduce)" now and then (node --trace-gc shows the reason); the
        // durations say what each cost.
        period.major++
        period.majorMs.push(Number(e.duration.toFixed(2)))
      }
      else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) period.incremental++
      else period.weak++
      period.gcMs += e.duration
    }
  })
  obs.observe({ entryTypes: ['gc'] })
  process.on('SIGUSR2', () => { report(stats); period = fresh(stats) })
  process.on('SIGTERM', () => { report(stats); process.exit(0) })
}

module.exports = { start }
