'use strict'
// The fixed-rate phase of npm run bench:workers (issue 12): h2load over
// HTTP/1.1 offering the same requests/s to 1 and to N workers, at a rate both
// sustain, so that the server's CPU time per request is compared at equal
// work rather than at saturation (where, on 2 cores, the load tool takes CPU
// from the workers and every busy thread is switched out more often).
// Plain keep-alive only: h2load's --rps paces each client's requests one
// timer tick at a time, so its pipelining (-m) would not send batches of a
// fixed depth.
const { run } = require('./spawn')
const { parseSummary } = require('./tfb-latency')

// A run whose answered rate fell below this share of the offered one did not
// hold the rate (as in lib/tfb-latency.js): its CPU per request is not comparable.
const HELD = 0.95
// CPU per request may differ this much between 1 and N workers before the
// bench says it grew: a stated allowance for noise (the issue's "must not
// grow"), not a measured spread; on a machine busy with other work the rounds
// spread wider, which the per-round lines show.
const MARGIN = 0.05

/** h2load's argv for `rate` requests/s in total over `clients` connections, one request in flight each. */
function rateArgv (h2load, { port, path, rate, clients, seconds }) {
  return [h2load, '--h1', `--rps=${rate / clients}`, `-c${clients}`, '-t1', `-D${seconds}`, '-N2s', `http://127.0.0.1:${port}${path}`]
}

/** One run at a fixed rate: { rate, seconds, succeeded, achieved, held, errors } (errors: failed + timed out). */
async function runRate (h2load, opts) {
  const summary = parseSummary(await run(rateArgv(h2load, opts), { timeoutMs: (opts.seconds + 20) * 1000 }))
  const achieved = summary.succeeded / opts.seconds
  return {
    rate: opts.rate,
    seconds: opts.seconds,
    succeeded: summary.succeeded,
    achieved,
    held: achieved >= HELD * opts.rate,
    errors: summary.failed + summary.timeout
  }
}

/**
 * The verdict on "CPU per request must not grow with the worker count":
 * { ratio, pass, line }. pass is null (n/a) when a side has no figure or did
 * not hold the rate.
 */
function cpuVerdict (one, many, workers, { margin = MARGIN } = {}) {
  const label = `CPU per request at a fixed rate, ${workers} workers vs 1`
  if (!one || !many || !(one.cpuMicrosPerRequest > 0) || !(many.cpuMicrosPerRequest > 0)) {
    return { ratio: null, pass: null, line: `n/a: ${label}: no figure` }
  }
  const ratio = many.cpuMicrosPerRequest / one.cpuMicrosPerRequest
  const figures = `${one.cpuMicrosPerRequest.toFixed(2)} -> ${many.cpuMicrosPerRequest.toFixed(2)} us (${ratio.toFixed(3)}x; must stay <= ${(1 + margin).toFixed(2)}x, ${Math.round(margin * 100)} % noise margin)`
  if (!one.held || !many.held) return { ratio, pass: null, line: `n/a: ${label}: ${figures}, but the rate was not held` }
  const pass = ratio <= 1 + margin
  return { ratio, pass, line: `${pass ? 'PASS' : 'FAIL'}: ${label}: ${figures}` }
}

module.exports = { runRate, rateArgv, cpuVerdict, HELD, MARGIN }
