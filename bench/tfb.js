'use strict'
// The TechEmpower test types on a real PostgreSQL: salvo (examples/tfb.ts)
// against the same service on fastify and node:http (bench/servers/tfb-*.js).
//
//   npm run bench:tfb                       3 rounds x 5 s per run, then latency (about 15 min)
//   BENCH_DURATION=2 BENCH_ROUNDS=1 BENCH_ONLY=db,fortunes npm run bench:tfb
//   BENCH_ONLY=salvo,fastify,throughput npm run bench:tfb
//   node bench/tfb.js --pool-sweep           salvo's /db at TFB_POOL 1, 2, 4, 8
//
// PostgreSQL (started here, thrown away at the end) and the load tools share
// CPU 1; each server, and the driver-only ceiling, runs on CPU 0. Within a
// round the servers take turns route by route, so the runs a ratio compares
// are seconds apart (the order turned per route and per round) and drift hits
// all alike; medians over rounds. A server that fails the TFB verification is
// not loaded. Results: bench/results/tfb.json.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { readTfbConfig, estimateSeconds, SERVERS, ROUTES, POOL_SIZES, DEPTH } = require('./lib/tfb-config')
const { measureRound, measureServer, start, load, loadKey } = require('./lib/tfb-load')
const { runCeiling } = require('./lib/tfb-ceiling')
const { runLatency, h2loadVersion, ratesFor } = require('./lib/tfb-latency')
const report = require('./lib/tfb-report')
const tfbBar = require('./lib/tfb-bar')
const { startPostgres, findBinaries, loadDriver, precondition, INSTALL_HINT } = require('./lib/pg')
const { which, pinning, pinned } = require('./lib/tools')
const { verify } = require('./lib/tfb-verify')
const { killAll } = require('./lib/spawn')
const { machine } = require('./lib/machine')
const cpu = require('./lib/cpu')

const RESULTS = path.join(__dirname, 'results', 'tfb.json')
const POOL_RESULTS = path.join(__dirname, 'results', 'tfb-pool.json')
const log = (s) => console.log(s)

/**
 * Throughput: every round, every server (the order rotated per round),
 * interleaved route by route (measureRound), then the ceiling loops of that round.
 */
async function throughput (ctx) {
  const { config } = ctx
  const rounds = {}
  const ceiling = {}
  const verified = {}
  for (let round = 1; round <= config.rounds; round++) {
    log(`round ${round}/${config.rounds}`)
    if (config.parts.includes('throughput')) {
      // A server that failed the verification once is not loaded again.
      const order = config.servers.map((_, i) => config.servers[(i + round - 1) % config.servers.length])
        .filter((server) => !(verified[server.name] && verified[server.name].length))
      const measured = await measureRound(order, ctx)
      for (const server of order) {
        const m = measured[server.name]
        if (verified[server.name] === undefined || m.problems === null || m.problems.length) verified[server.name] = m.problems
        ;(rounds[server.name] ||= []).push({ round, ...m })
      }
    }
    if (config.parts.includes('ceiling')) {
      for (const route of config.routes.filter((r) => r.ceiling)) {
        for (const conns of route.conns) {
          const k = loadKey(route, conns)
          try {
            const r = await runCeiling(ctx.tools, {
              cpu: config.serverCpu, op: route.ceiling, concurrency: conns, seconds: config.duration, warmup: config.warmup,
              env: { DATABASE_URL: ctx.dbUrl, TFB_POOL: String(config.pool) }
            })
            ;(ceiling[k] ||= []).push({ round, ...r })
            log(`  ceiling ${route.ceiling} (${route.path}) ${conns} in flight: ${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s` +
              (r.errors ? `, ${r.errors} errors` : ''))
          } catch (err) {
            ctx.failures.push(`ceiling ${k} round ${round}: ${err.message}`)
            log(`  ceiling ${k}: FAILED: ${err.message}`)
          }
        }
      }
    }
  }
  return { rounds, ceiling, verified }
}

/** Constant-rate runs of the latency routes: the fixed rate, and 50%/90% of fastify's peak. */
async function latency (ctx, sum) {
  const { config } = ctx
  const out = []
  const routes = config.routes.filter((r) => r.latency)
  if (!routes.length || !config.parts.includes('latency')) return out
  log('constant-rate latency')
  for (const server of config.servers) {
    if (ctx.verified[server.name] && ctx.verified[server.name].length) continue
    let srv = null
    const fail = (route, label, rate, why) => out.push({ path: route.path, label, rate, server: server.name, failed: why })
    try {
      srv = await start(server, ctx)
      const problems = await verify(srv.port, ctx.sql)
      ctx.verified[server.name] ??= problems
      if (problems.length) throw new Error(`failed the TFB verification: ${problems[0]}`)
      for (const route of routes) {
        await load(ctx, srv.port, route, route.conns[0], config.warmup)
        for (const { label, rate } of ratesFor(config.fixedRate, sum.rps.fastify?.[loadKey(route, route.conns[0])])) {
          try {
            const r = await runLatency(ctx.tools, { port: srv.port, path: route.path, rate, clients: config.latencyClients, seconds: config.latencyDuration, cpu: config.loadCpu })
            out.push({ path: route.path, label, server: server.name, ...r })
            log(`  ${server.name} ${route.path} at ${rate} req/s: p50 ${r.p50?.toFixed(2)} ms, p99 ${r.p99?.toFixed(2)} ms, ` +
              `p99.9 ${r.p999?.toFixed(2)} ms, ${Math.round(r.achieved)} answered/s, ${r.errors.total} errors${r.held ? '' : ' (rate not held)'}`)
          } catch (err) {
            fail(route, label, rate, err.message)
            log(`  ${server.name} ${route.path} at ${rate} req/s: FAILED: ${err.message}`)
          }
        }
      }
    } catch (err) {
      for (const route of routes) fail(route, '-', null, err.message)
      log(`  ${server.name}: FAILED: ${err.message}`)
    } finally {
      if (srv) await srv.stop()
    }
  }
  return out
}

/** --pool-sweep: salvo's /db at each pool size, the sizes interleaved within a round. */
async function poolSweep (ctx) {
  const { config } = ctx
  const route = ROUTES.find((r) => r.name === 'db')
  const salvo = SERVERS.find((s) => s.name === 'salvo')
  const sweep = {}
  for (let round = 1; round <= config.rounds; round++) {
    log(`round ${round}/${config.rounds}`)
    for (let i = 0; i < POOL_SIZES.length; i++) {
      const pool = POOL_SIZES[(i + round - 1) % POOL_SIZES.length]
      log(`  TFB_POOL=${pool}`)
      const m = await measureServer(salvo, { ...ctx, config: { ...config, pool, routes: [route] } })
      if (m.failed) ctx.failures.push(`pool ${pool} round ${round}: ${m.failed}`)
      ;(sweep[pool] ||= []).push({ round, ...m })
    }
  }
  const text = report.poolTable(Object.fromEntries(POOL_SIZES.map((p) => [p, sweep[p]])), route.conns)
  log('\n' + text)
  return sweep
}

function write (file, json) {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n')
  log(`wrote ${path.relative(process.cwd(), file)}`)
}

async function main () {
  const config = readTfbConfig(process.env, process.argv.slice(2))
  if (!findBinaries()) {
    console.error(`PostgreSQL is not installed: ${INSTALL_HINT}`)
    process.exit(1)
  }
  const wrk = which('wrk')
  if (!wrk) throw new Error("wrk not found: install it with 'apt-get install -y wrk'")
  const h2load = which('h2load')
  const needH2load = !config.poolSweep && config.parts.includes('latency') && config.routes.some((r) => r.latency)
  if (needH2load && !h2load) throw new Error("h2load not found: install it with 'apt-get install -y nghttp2-client'")
  const pin = pinning([config.serverCpu, config.loadCpu])
  if (pin.warning) console.warn(`warning: ${pin.warning}`)
  const tools = { wrk, h2load, pin }

  const info = { ...machine(wrk), h2load: h2load ? await h2loadVersion(h2load) : null }
  log(`${info.cpu}, ${info.cores} cores, ${info.kernel}, node ${info.node}, ${info.wrk}${info.h2load ? ', ' + info.h2load : ''}`)
  log(`load average before: ${info.loadBefore.map((x) => x.toFixed(2)).join(' ')}`)
  info.busyBefore = await cpu.busyFor(500)
  if (info.busyBefore.some((x) => x > 0.1)) console.warn('warning: other processes are using the CPUs; expect noise')
  log(config.poolSweep
    ? `pool sweep: salvo /db at TFB_POOL ${POOL_SIZES.join(', ')}, ${config.rounds} round(s) x ${config.duration} s: about ${Math.ceil(estimateSeconds(config) / 60)} min`
    : `servers ${config.servers.map((s) => s.name).join(', ')}; routes ${config.routes.map((r) => r.path).join(' ')}; ` +
      `${config.parts.join(', ')}; ${config.rounds} round(s) x ${config.duration} s: about ${Math.ceil(estimateSeconds(config) / 60)} min`)

  // PostgreSQL on the load CPU: `taskset -c 1` execs the postmaster, whose backends inherit it.
  const db = await startPostgres({ prefix: pinned(pin, config.loadCpu, []) })
  info.postgres = path.basename(path.dirname(findBinaries()))
  const sql = loadDriver()(db.url, { max: 1, onnotice: () => {} })
  // What the servers and the ceiling connect to; the bench's own set-up uses tcp.
  const dbUrl = config.dbSocket === 'unix' ? db.unixUrl : db.url
  log(`pg: servers and ceiling on ${config.dbSocket === 'unix' ? 'the unix socket' : '127.0.0.1'} (TFB_DB_SOCKET=${config.dbSocket})`)
  const ctx = { config, tools, db, dbUrl, sql, log, failures: [] }
  try {
    // Before any load, so the first server's /updates does not pay for the table's growth.
    await precondition(sql)
    if (config.poolSweep) {
      const sweep = await poolSweep(ctx)
      info.loadAfter = os.loadavg()
      write(POOL_RESULTS, { date: new Date().toISOString(), machine: info, config, sweep })
      process.exitCode = ctx.failures.length ? 1 : 0
      return
    }
    const t = await throughput(ctx)
    ctx.verified = t.verified
    const sum = report.summarize(t.rounds, t.ceiling)
    const lat = await latency(ctx, sum)
    info.loadAfter = os.loadavg()

    const meta = { rounds: config.rounds, duration: config.duration, serverCpu: config.serverCpu, loadCpu: config.loadCpu, pool: config.pool, dbSocket: config.dbSocket, depth: DEPTH }
    if (config.parts.includes('throughput') || config.parts.includes('ceiling')) {
      const failed = new Set(Object.keys(t.verified).filter((n) => t.verified[n] === null || t.verified[n].length))
      log('\n' + report.throughputTable(sum, config.routes, config.servers, meta, failed) + '\n')
      log(report.perRoundTable(t.rounds, config.routes, config.servers) + '\n')
    }
    if (lat.length) log(report.latencyTable(lat, { clients: config.latencyClients, seconds: config.latencyDuration }) + '\n')
    for (const [name, problems] of Object.entries(t.verified)) {
      if (problems === null || problems.length) ctx.failures.push(`${name}: ${problems ? problems.join('; ') : 'did not answer the verifier'}`)
    }
    for (const [name, list] of Object.entries(t.rounds)) {
      for (const m of list) if (m.failed && m.problems?.length === 0) ctx.failures.push(`${name} round ${m.round}: ${m.failed}`)
    }
    const items = tfbBar.evaluate({ sum, routes: config.routes, servers: config.servers, verified: t.verified, latency: lat, fixedRate: config.fixedRate })
    log(tfbBar.text(items) + '\n')
    const salvoErrors = items.find((x) => x.what.startsWith('zero errors'))
    if (salvoErrors?.pass === false) ctx.failures.push(`salvo had errors: ${salvoErrors.value}`)
    if (ctx.failures.length) log(`FAILED:\n  ${ctx.failures.join('\n  ')}\n`)
    log(`load average after: ${info.loadAfter.map((x) => x.toFixed(2)).join(' ')}`)
    write(RESULTS, {
      date: new Date().toISOString(), machine: info, pinned: Boolean(pin.taskset), config: { ...config, depth: DEPTH },
      bar: items, failures: ctx.failures, medians: sum, rounds: t.rounds, ceiling: t.ceiling, latency: lat
    })
    // Non-zero when a server failed the verification, a run failed, or salvo had errors.
    process.exitCode = ctx.failures.length ? 1 : 0
  } finally {
    await sql.end({ timeout: 1 })
    await db.stop()
  }
}

// Never leave a server, wrk, h2load or a ceiling loop running behind us (pg.js
// stops PostgreSQL on exit and on these signals itself).
process.on('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130) })

main().catch((err) => {
  console.error(err.message)
  process.exit(2)
})
