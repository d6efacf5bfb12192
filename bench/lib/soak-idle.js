'use strict'
// Child process of bench/soak.js: holds SOAK_IDLE_COUNT idle keep-alive
// connections to 127.0.0.1:SOAK_IDLE_PORT. soak.js starts it with a raised fd
// limit (ulimit -n) and talks to it by lines: commands on stdin, one JSON
// object per line on stdout.
//
//   (start)   opens the connections, CONCURRENCY at a time; each sends one
//             request and reads its answer (a real HTTP connection), then
//             stays idle             -> {"event":"opened", ...}
//   status    -> {"event":"status", open, lost, ...}: connections the server
//             closed (FIN or reset) or wrote to unasked since they were opened
//   verify    one more request on every open connection; each must be
//             answered                -> {"event":"verified", ok, failed, ...}
//   (stdin closed: soak.js is gone) closes everything and exits.
//
// Every phase has a deadline, so a server that stops answering cannot hang it.
const net = require('node:net')
const { request, parseResponses, wrongAnswer } = require('./soak-http')

const PORT = Number(process.env.SOAK_IDLE_PORT)
const COUNT = Number(process.env.SOAK_IDLE_COUNT)
const EXPECT = { status: 200, body: process.env.SOAK_IDLE_BODY ?? 'Hello world!' }
const CONCURRENCY = 200 // connects in flight: below the server's listen backlog (511)
const CONN_TIMEOUT_MS = 10000 // one connection: connect + first answer, or one verify answer
const PHASE_TIMEOUT_MS = 120000 // the whole open or verify phase
const REQ = request(PORT)

const conns = [] // { sock, buf, state: 'opening' | 'idle' | 'verifying' | 'gone', why }
const lost = { count: 0, reasons: {}, first: null, last: null, examples: [] }
let unexpectedData = 0
const t0 = Date.now()

function emit (obj) { process.stdout.write(JSON.stringify(obj) + '\n') }

function bump (reasons, why) { reasons[why] = (reasons[why] || 0) + 1 }

/** A connection that was open and idle went away (or spoke unasked). */
function markLost (c, why) {
  if (c.state === 'gone') return
  const was = c.state
  c.state = 'gone'
  c.why = why
  if (was === 'opening') return // counted by the open phase
  lost.count++
  bump(lost.reasons, `${why} while ${was}`)
  const at = Date.now() - t0
  if (lost.first === null) lost.first = at
  lost.last = at
  if (lost.examples.length < 5) lost.examples.push({ index: c.index, why, while: was, atMs: at })
  c.sock.destroy()
}

/**
 * Sends one request on c and resolves with null (a correct answer) or why
 * not. The socket's listeners stay: between requests they watch for loss.
 */
function ask (c) {
  return new Promise((resolve) => {
    c.pending = resolve
    c.timer = setTimeout(() => settle(c, `no answer within ${CONN_TIMEOUT_MS} ms`), CONN_TIMEOUT_MS)
    if (c.sock.connecting) c.sock.once('connect', () => c.sock.write(REQ))
    else c.sock.write(REQ)
  })
}

function settle (c, why) {
  const resolve = c.pending
  if (!resolve) return false
  c.pending = null
  clearTimeout(c.timer)
  resolve(why)
  return true
}

function watch (c) {
  const { sock } = c
  sock.setNoDelay(true)
  sock.on('data', (d) => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d
    let parsed
    try { parsed = parseResponses(c.buf) } catch (err) { settle(c, err.message) || markLost(c, 'unframed data'); return }
    c.buf = parsed.rest
    for (const res of parsed.responses) {
      if (!c.pending) { unexpectedData++; markLost(c, 'response nobody asked for'); return }
      settle(c, wrongAnswer(res, EXPECT))
    }
  })
  const gone = (why) => { if (!settle(c, why)) markLost(c, why) }
  sock.on('end', () => gone('closed by the server (FIN)'))
  sock.on('error', (err) => gone(err.code || err.message))
  sock.on('close', () => gone('closed'))
}

/** Runs fn over items, `limit` at a time, until done or `deadline`. */
async function pool (items, limit, deadline, fn) {
  let next = 0
  const worker = async () => {
    while (next < items.length && Date.now() < deadline) await fn(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return next
}

async function open () {
  const failed = { count: 0, reasons: {}, examples: [] }
  const started = Date.now()
  const indexes = Array.from({ length: COUNT }, (_, i) => i)
  const tried = await pool(indexes, CONCURRENCY, started + PHASE_TIMEOUT_MS, async (index) => {
    const c = { index, sock: net.connect({ port: PORT, host: '127.0.0.1' }), buf: Buffer.alloc(0), state: 'opening', pending: null }
    conns.push(c)
    watch(c)
    const why = await ask(c)
    if (why === null && c.state === 'opening') { c.state = 'idle'; return }
    failed.count++
    bump(failed.reasons, why || c.why)
    if (failed.examples.length < 5) failed.examples.push({ index, why: why || c.why })
    c.state = 'gone'
    c.sock.destroy()
  })
  if (tried < COUNT) bump(failed.reasons, `not tried: open phase past ${PHASE_TIMEOUT_MS} ms`)
  failed.count += COUNT - tried
  emit({ event: 'opened', requested: COUNT, open: openCount(), failed, ms: Date.now() - started })
}

function openCount () { return conns.filter((c) => c.state === 'idle').length }

async function verify () {
  const started = Date.now()
  const idle = conns.filter((c) => c.state === 'idle')
  const failed = { count: 0, reasons: {}, examples: [] }
  let ok = 0
  const tried = await pool(idle, 500, started + PHASE_TIMEOUT_MS, async (c) => {
    if (c.state !== 'idle') return // lost while we were verifying others: counted as lost
    c.state = 'verifying'
    const why = await ask(c)
    if (why === null && c.state === 'verifying') { c.state = 'idle'; ok++; return }
    failed.count++
    bump(failed.reasons, why || c.why)
    if (failed.examples.length < 5) failed.examples.push({ index: c.index, why: why || c.why })
    if (c.state !== 'gone') { c.state = 'gone'; c.sock.destroy() }
  })
  if (tried < idle.length) {
    failed.count += idle.length - tried
    bump(failed.reasons, `not tried: verify phase past ${PHASE_TIMEOUT_MS} ms`)
  }
  emit({ event: 'verified', checked: idle.length, ok, failed, lost: lost.count, ms: Date.now() - started })
}

function status () {
  emit({ event: 'status', open: openCount(), lost, unexpectedData, uptimeMs: Date.now() - t0 })
}

// Commands run one at a time, in order.
let queue = Promise.resolve()
let buf = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => {
  buf += d
  let nl
  while ((nl = buf.indexOf('\n')) >= 0) {
    const cmd = buf.slice(0, nl).trim()
    buf = buf.slice(nl + 1)
    if (cmd === 'status') queue = queue.then(status)
    else if (cmd === 'verify') queue = queue.then(verify)
    else if (cmd) emit({ event: 'error', message: `unknown command ${JSON.stringify(cmd)}` })
  }
})
process.stdin.on('end', () => {
  for (const c of conns) { c.state = 'gone'; c.sock.destroy() }
  process.exit(0)
})

if (!Number.isInteger(PORT) || !Number.isInteger(COUNT) || COUNT < 0) {
  emit({ event: 'error', message: 'SOAK_IDLE_PORT and SOAK_IDLE_COUNT must be integers' })
  process.exit(2)
}
queue = queue.then(open)
