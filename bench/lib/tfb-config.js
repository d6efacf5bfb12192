'use strict'
// What `npm run bench:tfb` measures and the settings it reads: the TechEmpower
// test types (path, wrk load, connection counts), the three servers, the
// BENCH_* / TFB_* variables (validated once, before minutes of measuring),
// BENCH_ONLY's filter and the estimate of the run time printed up front.
const path = require('node:path')
const { pipelined, plain } = require('../cases')
const { positiveInt, pick } = require('./config')

const ROOT = path.join(__dirname, '..', '..')
// TFB's plaintext test pipelines 16 requests per write; every other type sends one.
const DEPTH = 16

// conns: the wrk connection counts, the first one the headline (and the warm-up);
// ceiling: which driver-only loop (tfb-ceiling.js) marks the database side's limit;
// latency: measured at a constant rate too (tfb-latency.js).
const ROUTES = [
  { name: 'plaintext', path: '/plaintext', conns: [256], load: pipelined(DEPTH) },
  { name: 'json', path: '/json', conns: [256], load: plain() },
  { name: 'db', path: '/db', conns: [256, 16], load: plain(), ceiling: 'db', latency: true },
  { name: 'queries', path: '/queries?queries=20', conns: [256, 16], load: plain(), ceiling: 'queries' },
  { name: 'fortunes', path: '/fortunes', conns: [256, 16], load: plain(), latency: true },
  { name: 'updates', path: '/updates?queries=20', conns: [256, 16], load: plain() },
  { name: 'cached-queries', path: '/cached-queries?count=100', conns: [256], load: plain() }
]

// salvo runs examples/tfb.ts itself through tsx (as test/tfb.test.mjs does):
// the example users read is the one measured; tsx only transpiles at load time.
const SERVERS = [
  { name: 'salvo', argv: [process.execPath, '--import', 'tsx', path.join(ROOT, 'examples', 'tfb.ts')] },
  { name: 'fastify', argv: [process.execPath, path.join(ROOT, 'bench', 'servers', 'tfb-fastify.js')] },
  { name: 'node', argv: [process.execPath, path.join(ROOT, 'bench', 'servers', 'tfb-node.js')] }
]

const PARTS = ['throughput', 'ceiling', 'latency']
// The pool sizes --pool-sweep compares (salvo, /db).
const POOL_SIZES = [1, 2, 4, 8]
// examples/tfb.ts's and tfb-db.js's default pool; every server and the ceiling get the same.
const DEFAULT_POOL = 1

// How the servers and the ceiling reach PostgreSQL, the default first (TCP on
// 127.0.0.1, as TFB's database is across a network; bench/README.md has the
// unix socket's run).
const DB_SOCKETS = ['tcp', 'unix']

function oneOf (env, name, values) {
  const raw = env[name]
  if (raw === undefined || raw === '') return values[0]
  if (!values.includes(raw)) throw new Error(`${name} must be one of ${values.join(', ')}, got '${raw}'`)
  return raw
}

function rate (env, name, fallback) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`)
  return n
}

/**
 * Settings from `env`; `args` are the command-line arguments (only
 * --pool-sweep is known). BENCH_ONLY names servers, routes and/or parts
 * (`*` patterns): each of the three is filtered only when named at all.
 */
function readTfbConfig (env, args) {
  const unknown = args.filter((a) => a !== '--pool-sweep')
  if (unknown.length) throw new Error(`unknown argument(s) ${unknown.join(' ')}; known: --pool-sweep`)
  const names = { servers: SERVERS.map((s) => s.name), routes: ROUTES.map((r) => r.name), parts: PARTS }
  const only = pick(env.BENCH_ONLY, [...names.servers, ...names.routes, ...names.parts])
  const keep = (list) => list.some((n) => only.includes(n)) && only.length < Object.values(names).flat().length
    ? list.filter((n) => only.includes(n))
    : list
  return {
    poolSweep: args.includes('--pool-sweep'),
    rounds: positiveInt(env, 'BENCH_ROUNDS', 3),
    duration: positiveInt(env, 'BENCH_DURATION', 5), // seconds per measured wrk run
    warmup: positiveInt(env, 'BENCH_WARMUP', 1), // seconds of wrk per route before its runs (JIT, pool, prepared statements)
    pool: positiveInt(env, 'TFB_POOL', DEFAULT_POOL),
    dbSocket: oneOf(env, 'TFB_DB_SOCKET', DB_SOCKETS),
    fixedRate: rate(env, 'TFB_FIXED_RATE', 5000), // req/s, the same for every server
    latencyDuration: positiveInt(env, 'TFB_LATENCY_DURATION', 10),
    latencyClients: positiveInt(env, 'TFB_LATENCY_CLIENTS', 128),
    servers: SERVERS.filter((s) => keep(names.servers).includes(s.name)),
    routes: ROUTES.filter((r) => keep(names.routes).includes(r.name)),
    parts: keep(names.parts),
    threads: 1, // one wrk thread: the load tool stays on its one CPU
    serverCpu: 0,
    loadCpu: 1 // wrk, h2load and PostgreSQL
  }
}

// Seconds a server takes to start (tsx, cache fill) and pass the verifier, about.
const START = 4

/** Rough wall time of the run in seconds, for the line printed before it starts. */
function estimateSeconds (c) {
  if (c.poolSweep) return c.rounds * POOL_SIZES.length * (START + c.warmup + 2 * c.duration)
  let s = 0
  if (c.parts.includes('throughput')) {
    const perServer = START + c.routes.reduce((sum, r) => sum + c.warmup + r.conns.length * c.duration, 0)
    s += c.rounds * c.servers.length * perServer
  }
  if (c.parts.includes('ceiling')) {
    s += c.rounds * c.routes.filter((r) => r.ceiling).reduce((sum, r) => sum + r.conns.length * (c.duration + 2), 0)
  }
  const lat = c.routes.filter((r) => r.latency)
  if (c.parts.includes('latency') && lat.length) {
    const rates = c.servers.some((x) => x.name === 'fastify') ? 3 : 1
    s += c.servers.length * (START + lat.length * (c.warmup + rates * (c.latencyDuration + 1)))
  }
  return s
}

module.exports = { readTfbConfig, estimateSeconds, ROUTES, SERVERS, PARTS, POOL_SIZES, DEPTH, ROOT }
