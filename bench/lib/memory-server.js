'use strict'
// Child process of bench/memory.js: one server (salvo or node:http) with the
// routes of one memory scenario, on 127.0.0.1, an ephemeral port. Started with
// --expose-gc (and a raised `ulimit -n`) by memory.js; talks to it by lines:
// commands on stdin, one JSON object per line on stdout. The side channel is
// the pipe, not the server's own sockets, so measuring adds no connection, no
// request and no read buffer to what is measured.
//
//   (start)  -> {"event":"listening", port, nofile, body}
//   calls    -> {"event":"calls", calls}            (no GC: for polling)
//   measure  -> {"event":"measure", rss, rssBeforeGc, heapUsed, external, arrayBuffers,
//                calls, stats, fds, connections}    (after forced GCs)
//   exit     -> exits at once (hung handlers cannot delay it)
//   (stdin closed: memory.js is gone) exits.
//
// Usage: node --expose-gc memory-server.js --server salvo|node [--salvo DIR]
//        [--body string|buffer] [--body-bytes N] [--headers-timeout MS]
const fs = require('node:fs')
const path = require('node:path')

function arg (name, dflt) {
  const i = process.argv.indexOf('--' + name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt
}

const KIND = arg('server', 'salvo')
const SALVO_DIR = path.resolve(arg('salvo', path.join(__dirname, '..', '..')))
const BODY_KIND = arg('body', 'string')
const BODY_BYTES = Number(arg('body-bytes', String(100 * 1024)))
const HEADERS_TIMEOUT = Number(arg('headers-timeout', '60000'))

if (typeof global.gc !== 'function') {
  process.stderr.write('memory-server.js needs node --expose-gc\n')
  process.exit(2)
}

// Built once at start-up: every /big answer is this same value.
const BIG_STRING = 'x'.repeat(BODY_BYTES)
const BIG = BODY_KIND === 'buffer' ? Buffer.from(BIG_STRING) : BIG_STRING
let calls = 0 // runs of the scenario handlers (/big and /hang), not /warm

function emit (obj) { process.stdout.write(JSON.stringify(obj) + '\n') }

/** The soft RLIMIT_NOFILE of this process (from /proc: node has no getrlimit). */
function nofile () {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null
  } catch { return null }
}

function fdCount () {
  try { return fs.readdirSync('/proc/self/fd').length } catch { return null }
}

async function startSalvo () {
  const { App } = require(path.join(SALVO_DIR, 'dist', 'index.js'))
  const app = new App({ headersTimeout: HEADERS_TIMEOUT })
  app.get('/warm', () => 'ok')
  app.get('/big', () => { calls++; return BIG })
  app.get('/hang', () => { calls++; return new Promise(() => {}) })
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    port: server.port,
    stats: () => server.stats(),
    connections: () => { const s = server.stats(); return s && typeof s.connections === 'number' ? s.connections : null }
  }
}

async function startNode () {
  const http = require('node:http')
  const TEXT = 'text/plain; charset=utf-8'
  const server = http.createServer((req, res) => {
    if (req.url === '/big') {
      calls++
      res.writeHead(200, { 'Content-Type': TEXT, 'Content-Length': Buffer.byteLength(BIG) })
      res.end(BIG)
    } else if (req.url === '/hang') {
      // The same route as salvo's: an async handler whose promise never settles.
      calls++
      ;(async () => { await new Promise(() => {}); res.end('never') })()
    } else if (req.url === '/warm') {
      res.writeHead(200, { 'Content-Type': TEXT, 'Content-Length': 2 })
      res.end('ok')
    } else {
      res.writeHead(404, { 'Content-Length': 0 })
      res.end()
    }
  })
  // Same head deadline as salvo's headersTimeout; the whole-request deadline
  // (node's default 300 s) stays out of the way of a measurement.
  server.headersTimeout = HEADERS_TIMEOUT
  server.requestTimeout = Math.max(HEADERS_TIMEOUT, 300000)
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    port: server.address().port,
    stats: () => null,
    connections: () => server._connections // internal counter; getConnections() is async
  }
}

/** Full GCs with a pause between them, so that ArrayBuffer backing stores
 * swept on V8's background threads and weak callbacks are really freed. */
async function settleGc () {
  for (let i = 0; i < 3; i++) {
    global.gc()
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
}

async function main () {
  const srv = KIND === 'node' ? await startNode() : await startSalvo()
  emit({ event: 'listening', port: srv.port, nofile: nofile(), body: BODY_KIND, bodyBytes: BODY_BYTES, pid: process.pid })

  let partial = ''
  let busy = Promise.resolve()
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (d) => {
    const parts = (partial + d).split('\n')
    partial = parts.pop()
    for (const cmd of parts) busy = busy.then(() => run(cmd.trim()))
  })
  process.stdin.on('end', () => process.exit(0))

  async function run (cmd) {
    if (cmd === 'calls') emit({ event: 'calls', calls })
    else if (cmd === 'measure') {
      const rssBeforeGc = process.memoryUsage.rss() // what a reading without a forced GC sees
      await settleGc()
      // RSS first, before this reply allocates anything.
      const rss = process.memoryUsage.rss()
      const mu = process.memoryUsage()
      emit({
        event: 'measure',
        rss,
        rssBeforeGc,
        heapUsed: mu.heapUsed,
        external: mu.external,
        arrayBuffers: mu.arrayBuffers,
        calls,
        stats: srv.stats(),
        connections: srv.connections(),
        fds: fdCount()
      })
    } else if (cmd === 'exit') process.exit(0)
    else if (cmd) emit({ event: 'error', message: `unknown command ${JSON.stringify(cmd)}` })
  }
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
