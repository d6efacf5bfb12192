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
//     refs:    { node: 'node-http', ceiling: 'ceiling' }     // optional: cases the ratios divide by
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

// The POST case sends a 1 KiB body with every request.
const KIB = 'x'.repeat(1024)

const CASES = [
  // report: the server prints GC/counter reports (servers/gc-report.js) per mode.
  { name: 'salvo', server: 'servers/salvo.js', path: '/', expect: HELLO, loads: helloLoads(), report: true },
  {
    name: 'salvo-json',
    server: 'servers/salvo.js',
    path: '/json',
    expect: { status: 200, body: '{"message":"Hello, World!"}' },
    loads: { pipelined: pipelined() },
    report: true
  },
  {
    name: 'salvo-param',
    server: 'servers/salvo.js',
    path: '/user/42?q=abc',
    expect: { status: 200, body: 'user 42 abc' },
    loads: { pipelined: pipelined() },
    report: true,
    costOf: 'salvo'
  },
  {
    name: 'salvo-hook',
    server: 'servers/salvo.js',
    path: '/hook',
    expect: HELLO,
    loads: { pipelined: pipelined() },
    report: true,
    costOf: 'salvo'
  },
  {
    name: 'salvo-post',
    server: 'servers/salvo.js',
    path: '/upload',
    request: { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: KIB },
    expect: { status: 200, body: '1024' },
    loads: { pipelined: pipelined(DEPTH, 'POST', KIB) },
    report: true
  },
  { name: 'node-http', server: 'servers/node-http.js', path: '/', expect: HELLO, loads: helloLoads() },
  { name: 'fastify', server: 'servers/fastify.js', path: '/', expect: HELLO, loads: helloLoads() },
  {
    name: 'ceiling',
    server: '.build/ceiling',
    build: 'ceiling/ceiling.c',
    path: '/',
    expect: HELLO,
    loads: helloLoads()
  }
]

// Ratios divide by these cases' medians unless a case names its own refs.
const DEFAULT_REFS = { node: 'node-http', ceiling: 'ceiling' }

module.exports = { CASES, DEFAULT_REFS, DEPTH, pipelined, plain }
