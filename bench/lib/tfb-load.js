'use strict'
// The throughput runs of npm run bench:tfb: in one round the servers are
// started on the server CPU with the bench's DATABASE_URL and pool, checked
// by the TFB verifier (a failing server is not loaded at all: a fast wrong
// answer is not a result), then loaded by wrk on the other CPU route by route,
// each server right after the other (measureRound), and stopped.
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

/** A started server's verification: problems (empty: it passed), logged when it failed. */
async function check (server, srv, ctx) {
  const problems = await verify(srv.port, ctx.sql)
  if (problems.length) {
    const more = problems.length > 20 ? `\n    (+${problems.length - 20} more, all in the results file)` : ''
    ctx.log(`  ${server.name}: FAILED the TFB verification, not benchmarked:\n    ${problems.slice(0, 20).join('\n    ')}${more}`)
  }
  return problems
}

/**
 * One round of `servers` (in this round's order): { name: { problems (the
 * verifier's; null if it never answered), runs: { 'db@256': wrk result, ... },
 * failed (message) } }. Every server is started and verified first (one that
 * fails is stopped and not loaded: a fast wrong answer is not a result); then,
 * route by route, each is warmed up, and per connection count each runs once,
 * one right after the other (the order turned by one per route). So the runs a
 * ratio compares are seconds apart, not a minute: this machine's speed drifts
 * over minutes (one server's rounds spread up to 2x on the 2-core VM). The
 * servers wait idle on the server CPU while another is loaded. One that fails
 * mid-round keeps its runs so far and is not loaded again in the round.
 */
async function measureRound (servers, ctx) {
  const { config, log } = ctx
  const out = {}
  const live = new Map() // name -> started server
  const drop = async (name, err) => {
    out[name].failed = err.message // the runs measured so far stay
    log(`  ${name}: FAILED: ${err.message}`)
    const srv = live.get(name)
    live.delete(name)
    if (srv) await srv.stop()
  }
  try {
    for (const server of servers) {
      const m = out[server.name] = { problems: null, runs: {}, failed: null }
      let srv = null
      try {
        srv = await start(server, ctx)
        m.problems = await check(server, srv, ctx)
      } catch (err) {
        m.failed = err.message
        log(`  ${server.name}: FAILED: ${err.message}`)
      }
      if (srv && m.failed === null && m.problems.length === 0) live.set(server.name, srv)
      else {
        if (m.failed === null) m.failed = 'failed the TFB verification'
        if (srv) await srv.stop()
      }
    }
    // Every server still up, in this route's order: fn(name, srv); a throw drops that server.
    const each = async (order, fn) => {
      for (const name of order) {
        if (!live.has(name)) continue
        try { await fn(name, live.get(name)) } catch (err) { await drop(name, err) }
      }
    }
    for (const [i, route] of config.routes.entries()) {
      const names = [...live.keys()]
      const order = names.map((_, j) => names[(j + i) % names.length])
      await each(order, (name, srv) => load(ctx, srv.port, route, route.conns[0], config.warmup))
      for (const conns of route.conns) {
        await each(order, async (name, srv) => {
          const r = await load(ctx, srv.port, route, conns, config.duration)
          out[name].runs[loadKey(route, conns)] = r
          log(`  ${name} ${route.path} c${conns}: ${Math.round(r.rps).toLocaleString('en-US')} req/s, ` +
            `cpu${config.serverCpu} ${pct(r.cpu.server)}, cpu${config.loadCpu} ${pct(r.cpu.load)}` +
            (r.flags.length ? `  (${r.flags.join('; ')})` : ''))
        })
      }
    }
  } finally {
    for (const srv of live.values()) await srv.stop()
  }
  return out
}

/** One round of one server (the pool sweep's). */
async function measureServer (server, ctx) {
  return (await measureRound([server], ctx))[server.name]
}

module.exports = { measureRound, measureServer, start, load, loadKey, errorCount }
