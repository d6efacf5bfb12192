'use strict'
// Latency at a constant rate for npm run bench:tfb: h2load (nghttp2) over
// HTTP/1.1, `--rps` requests per second per client (so per client = total /
// clients), pinned to the load CPU. h2load prints only min/max/mean/sd, so
// the percentiles come from its --log-file: one line per request, "start (us
// since the epoch) TAB status (-1: the stream failed) TAB microseconds to the
// end of the response".
//
// h2load sends a client's next request only when its previous one is
// answered, and times each request from when it was sent: a server that
// stalls delays the sending, and those delays are not in the numbers
// (coordinated omission). Many clients (TFB_LATENCY_CLIENTS, default 128,
// each one request in flight) keep that small while the server keeps up; a
// run whose answered rate fell below 95% of the target is marked "rate not
// held": its percentiles understate the latency and the server did not keep up.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { run } = require('./spawn')
const { pinned } = require('./tools')
const { percentile } = require('./soak-probe')

const HELD = 0.95

/** The summary lines of h2load 1.x: "requests: ..." and "status codes: ...". */
function parseSummary (text) {
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(text)
  const st = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text)
  if (!req || !st) throw new Error(`unexpected h2load output:\n${text}`)
  const [started, done, succeeded, failed, errored, timeout] = req.slice(2).map(Number)
  return { started, done, succeeded, failed, errored, timeout, status: { '2xx': Number(st[1]), '3xx': Number(st[2]), '4xx': Number(st[3]), '5xx': Number(st[4]) } }
}

/** Latencies (ms) of the answered requests in an h2load --log-file, and the failed streams. */
function parseLog (text) {
  const ms = []
  let failedStreams = 0
  for (const line of text.split('\n')) {
    if (!line) continue
    const [, status, us] = line.split('\t')
    if (Number(status) < 0) failedStreams++
    else ms.push(Number(us) / 1000)
  }
  return { ms, failedStreams }
}

/**
 * One constant-rate run: { rate, clients, seconds, achieved, p50, p99, p999,
 * max (ms), requests, errors: { status (not 2xx), errored, timeout, total },
 * held }. Errors: h2load's "failed" (a status >= 400, or a stream that broke:
 * "errored") plus its timeouts (-N 2s: a connection silent for 2 s while a
 * request waits, as wrk's 2 s timeout).
 */
async function runLatency (tools, { port, path: route, rate, clients, seconds, cpu }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'salvo-h2load-'))
  const logFile = path.join(dir, 'requests.tsv')
  try {
    const argv = pinned(tools.pin, cpu, [
      tools.h2load, '--h1', `--rps=${rate / clients}`, `-c${clients}`, '-t1', `-D${seconds}`, '-N2s',
      `--log-file=${logFile}`, `http://127.0.0.1:${port}${route}`
    ])
    const summary = parseSummary(await run(argv, { timeoutMs: (seconds + 20) * 1000 }))
    const { ms } = parseLog(fs.readFileSync(logFile, 'utf8'))
    const s = summary.status
    const errors = { status: s['3xx'] + s['4xx'] + s['5xx'], errored: summary.errored, timeout: summary.timeout }
    errors.total = summary.failed + summary.timeout
    const achieved = ms.length / seconds
    return {
      rate, clients, seconds, achieved, held: achieved >= HELD * rate,
      p50: percentile(ms, 50), p99: percentile(ms, 99), p999: percentile(ms, 99.9),
      max: ms.length ? ms.reduce((a, b) => Math.max(a, b)) : null,
      requests: ms.length, errors, summary
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** "h2load nghttp2/1.52.0", or 'unknown'. */
async function h2loadVersion (h2load) {
  try { return (await run([h2load, '--version'], { timeoutMs: 5000 })).trim() } catch { return 'unknown' }
}

/**
 * The rates of one route: the fixed one, and 50% and 90% of fastify's peak
 * (its median req/s at the route's first connection count) when measured.
 */
function ratesFor (fixed, fastifyPeak) {
  const out = [{ label: `fixed ${fixed}`, rate: fixed }]
  if (fastifyPeak) {
    for (const f of [0.5, 0.9]) out.push({ label: `${f * 100}% fastify`, rate: Math.max(1, Math.round(fastifyPeak * f)) })
  }
  return out
}

module.exports = { runLatency, parseSummary, parseLog, h2loadVersion, ratesFor }
