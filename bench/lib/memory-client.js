'use strict'
// The clients of bench/memory.js: the same three for salvo and node:http.
// Target 127.0.0.1 only; every loop is bounded in count and every wait in time.
//
// Each scenario gets `srv` (a bench/lib/memory-proc.js handle: port, ask())
// and returns { connections, requests, before, after, afterClose, lost,
// failed, unexpected, notes }, where before/after/afterClose are the server's
// own `measure` replies (RSS after forced GCs).
const net = require('node:net')
const http = require('node:http')

const HOST = '127.0.0.1'
const BATCH = 200 // connects in flight: below node's listen backlog (511) and somaxconn
const CONNECT_TIMEOUT_MS = 5000
const CALLS_TIMEOUT_MS = 5000 // one batch of /hang requests to reach their handler

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Opens one connection. Resolves { sock } once connected or { error } (never
 * rejects). `setup(sock)` runs before the connect completes (pause, listeners).
 */
function connect (port, setup) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port })
    if (setup) setup(sock)
    const timer = setTimeout(() => { sock.destroy(); done({ error: `no connect within ${CONNECT_TIMEOUT_MS} ms` }) }, CONNECT_TIMEOUT_MS)
    let settled = false
    function done (r) {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(r)
    }
    sock.once('connect', () => done({ sock }))
    sock.on('error', (err) => done({ error: err.code || err.message }))
  })
}

/** Resolves once `data` has been handed to the kernel (or the socket failed). */
function writeAll (sock, data) {
  return new Promise((resolve) => {
    let timer = null
    const finish = (err) => { clearTimeout(timer); resolve(err || null) }
    timer = setTimeout(() => finish(new Error('write not flushed within 5 s')), 5000)
    sock.write(data, (err) => finish(err))
  })
}

/** One GET on its own connection, body read in full; resolves its status (bounded). */
function get (port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path, agent: false, timeout: 5000 }, (res) => {
      res.on('data', () => {})
      res.on('end', () => resolve(res.statusCode))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)))
    req.on('error', reject)
  })
}

/**
 * Warm-up before the "before" measurement, so that it does not count what the
 * first requests grow once (JIT, pools, the output buffer): a few GET /warm
 * and, for the /big scenario, one GET /big read in full.
 */
async function warmUp (srv, { big }) {
  for (let i = 0; i < 5; i++) {
    const status = await get(srv.port, '/warm')
    if (status !== 200) throw new Error(`warm-up GET /warm answered ${status}`)
  }
  if (big) {
    const status = await get(srv.port, '/big')
    if (status !== 200) throw new Error(`warm-up GET /big answered ${status}`)
  }
  await sleep(100)
}

function bump (obj, key) { obj[key] = (obj[key] || 0) + 1 }

/**
 * Watches a connection the client means to keep: the server closing it or
 * answering on it before the client is done is counted, not hidden.
 */
function keep (state, sock) {
  state.open.add(sock)
  sock.on('error', () => {})
  sock.once('close', () => {
    if (!state.open.delete(sock)) return // closed by the client
    state.lost++
  })
}

function dropAll (state) {
  const socks = [...state.open]
  state.open.clear()
  for (const s of socks) s.destroy()
}

/**
 * Item 5: one connection that pipelines `requests` GET /big and never reads
 * (paused before it connects, never resumed, no 'data' listener).
 */
async function pipelineNoRead (srv, { requests, waitMs }) {
  const notes = []
  const state = { open: new Set(), lost: 0 }
  const before = await srv.ask('measure')
  const req = Buffer.from('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(requests))
  const r = await connect(srv.port, (s) => s.pause())
  if (r.error) throw new Error(`connect: ${r.error}`)
  keep(state, r.sock)
  const err = await writeAll(r.sock, req)
  if (err) notes.push(`write: ${err.message}`)
  await sleep(waitMs)
  const after = await srv.ask('measure')
  const lost = state.lost
  if (lost) notes.push('the server closed the connection before the measurement')
  dropAll(state)
  await sleep(waitMs)
  const afterClose = await srv.ask('measure')
  return { connections: 1, requests, requestBytes: req.length, before, after, afterClose, lost, failed: 0, unexpected: 0, notes }
}

/** Polls the server's handler count until it reaches `target` (bounded). */
async function waitCalls (srv, target) {
  const deadline = Date.now() + CALLS_TIMEOUT_MS
  let calls = -1
  while (Date.now() < deadline) {
    calls = (await srv.ask('calls')).calls
    if (calls >= target) return calls
    await sleep(20)
  }
  return calls
}

/**
 * Item 6: `count` connections, BATCH at a time, each sends one GET /hang
 * (whose handler never settles); once the batch's handlers have all run, the
 * client destroys those sockets. Measured `waitMs` after the last is gone.
 */
async function hungRequests (srv, { count, waitMs }) {
  const notes = []
  const failed = {}
  const req = Buffer.from('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n')
  const before = await srv.ask('measure')
  const base = before.calls
  let sent = 0
  let unexpected = 0
  let short = 0
  for (let start = 0; start < count; start += BATCH) {
    const n = Math.min(BATCH, count - start)
    const conns = await Promise.all(Array.from({ length: n }, () => connect(srv.port, (s) => {
      s.on('data', () => { unexpected++ }) // nothing is ever answered
    })))
    const socks = []
    for (const c of conns) {
      if (c.error) bump(failed, c.error)
      else socks.push(c.sock)
    }
    const errs = await Promise.all(socks.map((s) => writeAll(s, req)))
    errs.forEach((e) => { if (e) bump(failed, 'write: ' + (e.code || e.message)) })
    sent += socks.length
    const calls = await waitCalls(srv, base + sent)
    if (calls < base + sent) short = base + sent - calls
    for (const s of socks) s.destroy()
  }
  if (short) notes.push(`${short} requests had not reached their handler within ${CALLS_TIMEOUT_MS} ms of their batch`)
  if (unexpected) notes.push(`${unexpected} reads of unexpected data (an answer to a request that should hang)`)
  await sleep(waitMs)
  const after = await srv.ask('measure')
  return { connections: sent, requests: sent, before, after, afterClose: null, lost: 0, failed, unexpected, notes }
}

/**
 * Item 9: `count` connections, BATCH at a time, each sends the one byte "G"
 * of a request head and stays open and idle (reading, so that an early 408
 * or close shows).
 */
async function oneByteIdle (srv, { count, waitMs }) {
  const notes = []
  const failed = {}
  const state = { open: new Set(), lost: 0 }
  let unexpected = 0
  const before = await srv.ask('measure')
  for (let start = 0; start < count; start += BATCH) {
    const n = Math.min(BATCH, count - start)
    const conns = await Promise.all(Array.from({ length: n }, () => connect(srv.port, (s) => {
      s.on('data', () => { unexpected++ })
    })))
    const socks = []
    for (const c of conns) {
      if (c.error) bump(failed, c.error)
      else { keep(state, c.sock); socks.push(c.sock) }
    }
    const errs = await Promise.all(socks.map((s) => writeAll(s, 'G')))
    errs.forEach((e) => { if (e) bump(failed, 'write: ' + (e.code || e.message)) })
  }
  const opened = state.open.size + state.lost
  await sleep(waitMs)
  const after = await srv.ask('measure')
  const lost = state.lost
  if (lost) notes.push(`${lost} connections closed by the server before the measurement (headers timeout?)`)
  if (unexpected) notes.push(`${unexpected} reads of unexpected data (e.g. a 408) before the measurement`)
  dropAll(state)
  await sleep(waitMs)
  const afterClose = await srv.ask('measure')
  return { connections: opened, requests: 0, before, after, afterClose, lost, failed, unexpected, notes }
}

module.exports = { warmUp, pipelineNoRead, hungRequests, oneByteIdle, sleep, BATCH }
