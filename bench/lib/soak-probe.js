'use strict'
// The soak test's latency probe: one plain request every `intervalMs` on its
// own keep-alive connection (opened fresh when the probe starts, not one of
// wrk's), timed from the write to the last byte of the answer. A request not
// answered within `timeoutMs` (wrk's 2 s), a wrong answer, or the connection
// going away counts as a failure; the next tick then opens a new connection.
// Never two requests in flight: a tick that finds one still pending is
// counted as `late` and skipped.
const net = require('node:net')
const { request, parseResponses, wrongAnswer } = require('./soak-http')

function startProbe ({ port, expect, intervalMs = 100, timeoutMs = 2000 }) {
  const REQ = request(port)
  const latencies = [] // ms, one per answered request
  const times = [] // ms since the start at which each of those requests was sent
  const failures = { count: 0, reasons: {}, examples: [] }
  let sent = 0
  let late = 0
  let connects = 0
  let sock = null
  let buf = Buffer.alloc(0)
  let pending = null // { t0, timer }
  let stopped = false
  const started = Date.now()

  /** Counts a failure; `sentAt` is when the request that failed was sent, if one was. */
  function fail (why, sentAt) {
    failures.count++
    failures.reasons[why] = (failures.reasons[why] || 0) + 1
    if (failures.examples.length < 10) failures.examples.push({ atMs: Date.now() - started, sentAtMs: sentAt, why })
  }

  function closeSock () {
    if (sock) { sock.removeAllListeners(); sock.on('error', () => {}); sock.destroy(); sock = null }
    buf = Buffer.alloc(0)
  }

  /** The connection failed (`why`): count it, close it; the next tick reconnects. */
  function drop (why) {
    if (pending) { clearTimeout(pending.timer); fail(why, pending.at); pending = null } else if (!stopped) fail(`${why} (between requests)`)
    closeSock()
  }

  function connect () {
    connects++
    const s = net.connect({ port, host: '127.0.0.1' })
    s.setNoDelay(true)
    s.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d
      let parsed
      try { parsed = parseResponses(buf) } catch (err) { drop(err.message); return }
      buf = parsed.rest
      for (const res of parsed.responses) {
        if (!pending) { drop('response nobody asked for'); return }
        const ms = Number(process.hrtime.bigint() - pending.t0) / 1e6
        const at = pending.at
        clearTimeout(pending.timer)
        pending = null
        const wrong = wrongAnswer(res, expect)
        if (wrong) { fail(wrong, at); closeSock(); return }
        latencies.push(ms)
        times.push(at)
      }
    })
    s.on('end', () => drop('closed by the server (FIN)'))
    s.on('error', (err) => drop(err.code || err.message))
    s.on('close', () => { if (sock === s) drop('closed') })
    return s
  }

  function tick () {
    if (stopped) return
    if (pending) { late++; return }
    if (!sock) sock = connect()
    sent++
    pending = { t0: process.hrtime.bigint(), at: Date.now() - started, timer: setTimeout(() => drop(`no answer within ${timeoutMs} ms`), timeoutMs) }
    sock.write(REQ)
  }

  // Fixed schedule (no drift): tick n is due at started + n * intervalMs.
  let n = 0
  let timer = null
  const schedule = () => {
    n++
    timer = setTimeout(() => { tick(); schedule() }, Math.max(0, started + n * intervalMs - Date.now()))
  }
  tick()
  schedule()

  /** Stops (waiting up to timeoutMs for the last answer) and returns the record. */
  async function stop () {
    clearTimeout(timer)
    const deadline = Date.now() + timeoutMs + 100
    while (pending && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    stopped = true
    if (pending) drop(`no answer within ${timeoutMs} ms`)
    closeSock()
    return { sent, answered: latencies.length, late, connects, failures, latencies, times, seconds: (Date.now() - started) / 1000 }
  }
  return { stop }
}

/** p-th percentile (nearest rank) of xs, or null. */
function percentile (xs, p) {
  if (!xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]
}

module.exports = { startProbe, percentile }
