'use strict'
// What the benchmark measures. A case is one server + one request shape:
//
//   {
//     name:    'salvo',                    // unique; BENCH_ONLY picks cases by it
//     server:  'servers/salvo.js',         // relative to bench/: *.js runs under node, else an executable
//     build:   'ceiling/ceiling.c',        // optional C source, compiled to `server` when stale
//     nodeArgs: ['--expose-gc'],           // optional, for *.js servers
//     path:    '/',
//     request: { method, headers, body },  // optional, for the sanity check (defaults: GET, no body)
//     expect:  { status: 200, body: 'Hello world!' },
//     loads:   { pipelined: pipelined(), plain: plain() },  // one wrk run each, in this order
//     refs:    { node: 'node-http', ceiling: 'ceiling' },    // optional: cases the ratios divide by
//     report:  true,                       // optional: the server prints GC/counter reports per mode
//     costOf:  'salvo',                    // optional: print ns per request over that case
//     route:   'hello',                    // optional: row of the same-route table (salvo vs its peers)
//     short:   true,                       // optional: second tier, measured BENCH_SHORT_DURATION s
//     tolerateTimeouts: true               // optional (peers): wrk timeouts listed apart, not flagged
//   }
//
// A POST case would use request: { method: 'POST', body } and
// loads: { pipelined: pipelined(DEPTH, 'POST', body), plain: pipelined(1, 'POST', body) }.
const path = require('node:path')

const PIPELINE_LUA = path.join(__dirname, 'pipeline.lua')
// 24 deep x 100 connections: the classic million-requests-per-second test.
const DEPTH = 24

/** wrk run with HTTP pipelining: DEPTH requests per write (see pipeline.lua). */
const pipelined = (depth = DEPTH, ...scriptArgs) => ({
  flags: ['-s', PIPELINE_LUA],
  scriptArgs: [String(depth), ...scriptArgs]
})

/** wrk run without a script: one request per write, keep-alive. */
const plain = () => ({ flags: [], scriptArgs: [] })

const HELLO = { status: 200, body: 'Hello world!' }
const helloLoads = () => ({ pipelined: pipelined(), plain: plain() })
const JSON_HELLO = { status: 200, body: '{"message":"Hello, World!"}' }
// The streaming route: 100 chunks of 'chunk i\n' (chunked transfer coding).
const STREAM = { status: 200, body: Array.from({ length: 100 }, (_, i) => 'chunk ' + i + '\n').join('') }

// The POST case sends a 1 KiB body with every request.
const KIB = 'x'.repeat(1024)
// The validation case: a small JSON object checked against schema.body.
const TODO = '{"title":"buy milk","done":false,"priority":2}'

const SALVO = 'servers/salvo.js'
const NODE = 'servers/node-http.js'
const FASTIFY = 'servers/fastify.js'
const SALVO_PLUGINS = 'servers/salvo-plugins.js'

// The three hello routes (same handler shapes in every server): sync, async
// (an already-settled promise), setImmediate (settles on a later loop turn).
// Each peer case's "vs node" divides by node:http on the same route.
const refsFor = (node) => ({ node, ceiling: 'ceiling' })

const CASES = [
  // report: the server prints GC/counter reports (servers/gc-report.js) per mode.
  { name: 'salvo', server: SALVO, path: '/', expect: HELLO, loads: helloLoads(), report: true, route: 'hello' },
  {
    name: 'salvo-async',
    server: SALVO,
    path: '/async',
    expect: HELLO,
    loads: helloLoads(),
    report: true,
    refs: refsFor('node-http-async'),
    costOf: 'salvo',
    route: 'async hello',
    short: true
  },
  {
    name: 'salvo-immediate',
    server: SALVO,
    path: '/immediate',
    expect: HELLO,
    loads: helloLoads(),
    report: true,
    refs: refsFor('node-http-immediate'),
    costOf: 'salvo',
    route: 'setImmediate hello',
    short: true
  },
  {
    name: 'salvo-json',
    server: SALVO,
    path: '/json',
    expect: JSON_HELLO,
    loads: { pipelined: pipelined() },
    report: true
  },
  {
    // JSON behind the cors and compress plugins (app-wide), a body below the threshold.
    name: 'salvo-cors-compress',
    server: SALVO_PLUGINS,
    path: '/cors-compress',
    expect: JSON_HELLO,
    loads: { pipelined: pipelined() },
    report: true,
    costOf: 'salvo-json'
  },
  {
    name: 'salvo-async-json',
    server: SALVO,
    path: '/async-json',
    expect: JSON_HELLO,
    loads: { pipelined: pipelined() },
    report: true,
    costOf: 'salvo-json',
    short: true
  },
  {
    name: 'salvo-param',
    server: SALVO,
    path: '/user/42?q=abc',
    expect: { status: 200, body: 'user 42 abc' },
    loads: { pipelined: pipelined() },
    report: true,
    costOf: 'salvo'
  },
  {
    // Hello world with request logging on (pino to /dev/null); the off case is `salvo`.
    name: 'salvo-logger',
    server: 'servers/salvo-logger.js',
    path: '/',
    expect: HELLO,
    loads: { pipelined: pipelined() },
    report: true,
    costOf: 'salvo'
  },
  {
    name: 'salvo-hook',
    server: SALVO,
    path: '/hook',
    expect: HELLO,
    loads: { pipelined: pipelined() },
    report: true,
    costOf: 'salvo'
  },
  {
    name: 'salvo-post',
    server: SALVO,
    path: '/upload',
    request: { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: KIB },
    expect: { status: 200, body: '1024' },
    loads: { pipelined: pipelined(DEPTH, 'POST', KIB) },
    report: true
  },
  {
    // Issue 11: a small JSON object validated against schema.body (ajv), pipelined.
    name: 'salvo-validate',
    server: SALVO,
    path: '/validate',
    request: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: TODO },
    expect: { status: 200, body: 'ok' },
    loads: { pipelined: { flags: ['-H', 'Content-Type: application/json', ...pipelined().flags], scriptArgs: [String(DEPTH), 'POST', TODO] } },
    report: true
  },
  {
    // Plain keep-alive only: pipelined (24 or 8 deep) the ~1.4 KB chunked
    // answers leave some connections waiting past wrk's 2 s timeout (p99 about
    // 1.5 s against a mean near 0.2 s), on salvo and node:http alike, with wrk's
    // CPU at 100%: flagged runs that measure the load tool as much as the server.
    name: 'salvo-stream',
    server: SALVO,
    path: '/stream',
    expect: STREAM,
    loads: { plain: plain() },
    report: true,
    refs: { node: 'node-http-stream' },
    route: 'stream 100 chunks',
    short: true
  },
  // Peers: node:http (and fastify on it) answers pipelined connections unevenly;
  // some wait past wrk's 2 s timeout (async routes, the stream; the sync hello
  // comes close). tolerateTimeouts lists those runs apart instead of flagging them.
  { name: 'node-http', server: NODE, path: '/', expect: HELLO, loads: helloLoads(), route: 'hello', tolerateTimeouts: true },
  {
    name: 'node-http-async',
    server: NODE,
    path: '/async',
    expect: HELLO,
    loads: helloLoads(),
    refs: refsFor('node-http-async'),
    route: 'async hello',
    short: true,
    tolerateTimeouts: true
  },
  {
    name: 'node-http-immediate',
    server: NODE,
    path: '/immediate',
    expect: HELLO,
    loads: helloLoads(),
    refs: refsFor('node-http-immediate'),
    route: 'setImmediate hello',
    short: true,
    tolerateTimeouts: true
  },
  {
    name: 'node-http-stream',
    server: NODE,
    path: '/stream',
    expect: STREAM,
    loads: { plain: plain() },
    refs: { node: 'node-http-stream' },
    route: 'stream 100 chunks',
    short: true,
    tolerateTimeouts: true
  },
  { name: 'fastify', server: FASTIFY, path: '/', expect: HELLO, loads: helloLoads(), route: 'hello', tolerateTimeouts: true },
  {
    name: 'fastify-async',
    server: FASTIFY,
    path: '/async',
    expect: HELLO,
    loads: helloLoads(),
    refs: refsFor('node-http-async'),
    route: 'async hello',
    short: true,
    tolerateTimeouts: true
  },
  {
    name: 'fastify-immediate',
    server: FASTIFY,
    path: '/immediate',
    expect: HELLO,
    loads: helloLoads(),
    refs: refsFor('node-http-immediate'),
    route: 'setImmediate hello',
    short: true,
    tolerateTimeouts: true
  },
  {
    name: 'ceiling',
    server: '.build/ceiling',
    build: 'ceiling/ceiling.c',
    path: '/',
    expect: HELLO,
    loads: helloLoads(),
    route: 'hello'
  }
]

// Ratios divide by these cases' medians unless a case names its own refs.
const DEFAULT_REFS = { node: 'node-http', ceiling: 'ceiling' }

module.exports = { CASES, DEFAULT_REFS, DEPTH, pipelined, plain }
