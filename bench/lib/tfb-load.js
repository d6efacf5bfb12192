'use strict'
// The throughput runs of npm run bench:tfb: one server of one round is
// started on the server CPU with the bench's DATABASE_URL and pool, checked
// by the TFB verifier (a failing server is not loaded at all: a fast wrong
// answer is not a result), warmed up per route, loaded by wrk on the other
// CPU once per route and connection count, and stopped.
const { startServer, freePort } = require('./spawn')
const { pinned } = require('./tools')
const { runWrk, flags } = require('./wrk')
const { verify } = require('./tfb-verify')
const { ROOT } = require('./tfb-config')
const cpu = require('./cpu')

/** Key of one measured load: route and connection count. */
const loadKey = (route, conns) => `${route.name}@${conns}`

/** wrk's errors as one number: non-2xx/3xx answers and socket errors (connect, read, write, timeout). */
const errorCount = (e) => e.status + e.connect + e.read + e.write + e.timeout

/** Starts `server` pinned to the server CPU; `env` adds to DATABASE_URL and TFB_POOL. */
async function start (server, ctx, env = {}) {
  const port = await freePort()
  const argv = pinned(ctx.tools.pin, ctx.config.serverCpu, server.argv)
  return startServer(argv, { port, cwd: ROOT, env: { DATABASE_URL: ctx.dbUrl, TFB_POOL: String(ctx.config.pool), ...env }, timeoutMs: 30000 })
}

/** One wrk run against a started server, with the busy share of both CPUs. */
async function load (ctx, port, route, conns, seconds) {
  const { tools, config } = ctx
  const t0 = cpu.sample()
  const result = await runWrk(tools, route.load, {
    port, path: route.path, seconds, threads: config.threads, connections: conns, cpu: config.loadCpu
  })
  const t1 = cpu.sample()
  result.seconds = seconds
  result.cpu = { server: cpu.busy(t0, t1, config.serverCpu), load: cpu.busy(t0, t1, config.loadCpu) }
  result.errorCount = errorCount(result.errors)
  // No response size to compare: /db's and /queries' bodies differ in length per row.
  result.flags = flags(result, null)
  return result
}

const pct = (x) => x === null || x === undefined ? '-' : Math.round(x * 100) + '%'

/**
 * One round of one server: { problems (the verifier's; null if it never
 * answered), runs: { 'db@256': wrk result, ... }, failed (message) }.
 */
async function measureServer (server, ctx) {
  const { config, log } = ctx
  const out = { problems: null, runs: {}, failed: null }
  let srv = null
  try {
    srv = await start(server, ctx)
    out.problems = await verify(srv.port, ctx.sql)
    if (out.problems.length) {
      out.failed = 'failed the TFB verification'
      const more = out.problems.length > 20 ? `\n    (+${out.problems.length - 20} more, all in the results file)` : ''
      log(`  ${server.name}: FAILED the TFB verification, not benchmarked:\n    ${out.problems.slice(0, 20).join('\n    ')}${more}`)
      return out
    }
    for (const route of config.routes) {
      await load(ctx, srv.port, route, route.conns[0], config.warmup)
      for (const conns of route.conns) {
        const r = await load(ctx, srv.port, route, conns, config.duration)
        out.runs[loadKey(route, conns)] = r
        log(`  ${server.name} ${route.path} c${conns}: ${Math.round(r.rps).toLocaleString('en-US')} req/s, ` +
          `cpu${config.serverCpu} ${pct(r.cpu.server)}, cpu${config.loadCpu} ${pct(r.cpu.load)}` +
          (r.flags.length ? `  (${r.flags.join('; ')})` : ''))
      }
    }
  } catch (err) {
    out.failed = err.message // the runs measured so far stay
    log(`  ${server.name}: FAILED: ${err.message}`)
  } finally {
    if (srv) await srv.stop()
  }
  return out
}

module.exports = { measureServer, start, load, loadKey, errorCount }
