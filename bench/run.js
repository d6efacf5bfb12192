'use strict'
// End-to-end benchmark: salvo and its peers under wrk, pipelined and plain.
//
//   npm run bench                          3 rounds x 10 s per run (second-tier cases: 5 s)
//   BENCH_FULL=1 npm run bench             every case 10 s
//   BENCH_DURATION=3 BENCH_ROUNDS=1 npm run bench
//   BENCH_ONLY=salvo,ceiling npm run bench
//   BENCH_ONLY='salvo*,node-http*' npm run bench
//
// Server pinned to CPU 0, wrk to CPU 1: the question is what one core can
// serve, and the load tool must never compete with the server for it. Each
// round runs every case once, in a rotated order, so machine noise spreads
// over all cases instead of hitting one. Results: bench/results/latest.json.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { CASES, DEFAULT_REFS, DEPTH } = require('./cases')
const { readConfig } = require('./lib/config')
const { which, pinning, pinned } = require('./lib/tools')
const { buildIfStale } = require('./lib/build')
const { startServer, freePort, killAll } = require('./lib/spawn')
const { check } = require('./lib/check')
const { runWrk, flags } = require('./lib/wrk')
const { machine } = require('./lib/machine')
const { summarize, print } = require('./lib/report')
const bar = require('./lib/bar')
const cpu = require('./lib/cpu')

const RESULTS = path.join(__dirname, 'results', 'latest.json')

const pct = (x) => x === null ? '-' : Math.round(x * 100) + '%'

/**
 * Busy fractions during a run: of the server's CPU, of wrk's CPU, and of the
 * server's CPU taken by anything but the server (other processes: noise).
 */
function cpuShares (t0, t1, serverTicks, config) {
  const server = cpu.busy(t0, t1, config.serverCpu)
  const span = t0 && t1 ? t1[config.serverCpu].total - t0[config.serverCpu].total : 0
  const own = span > 0 && Number.isFinite(serverTicks) ? serverTicks / span : null
  const others = server !== null && own !== null ? Math.max(0, server - own) : null
  return { server, wrk: cpu.busy(t0, t1, config.wrkCpu), others }
}

/** argv that starts a case's server: node scripts under this node, else the executable. */
function serverArgv (c) {
  const file = path.join(__dirname, c.server)
  return file.endsWith('.js') ? [process.execPath, ...(c.nodeArgs || []), file] : [file]
}

/** Seconds per measured run of a case: second-tier cases (c.short) run shorter unless BENCH_FULL. */
const durationOf = (c, config) => c.short ? config.shortDuration : config.duration

/** Rough wall time of the whole run: warm-up, the measured runs, ~1 s to start, check and stop. */
const estimateSeconds = (cases, config) => config.rounds *
  cases.reduce((sum, c) => sum + config.warmup + 1 + Object.keys(c.loads).length * durationOf(c, config), 0)

/** One round of one case: start, check, warm up, measure each load, check again, stop. */
async function measure (c, round, config, tools, log) {
  const out = { round, runs: {}, check: null, server: null, failed: null }
  const seconds = durationOf(c, config)
  let server = null
  try {
    const port = await freePort()
    server = await startServer(pinned(tools.pin, config.serverCpu, serverArgv(c)), { port, cwd: __dirname })
    const before = await check(port, c, DEPTH)
    out.check = before
    if (before.problems.length) throw new Error(`sanity check failed: ${before.problems.join('; ')}`)
    const opts = { port, path: c.path, threads: config.threads, connections: config.connections, cpu: config.wrkCpu }
    const [firstLoad] = Object.values(c.loads)
    await runWrk(tools, firstLoad, { ...opts, seconds: config.warmup })
    for (const [mode, load] of Object.entries(c.loads)) {
      // A reporting server starts a new accounting period (GC, counters) here,
      // so the warm-up and the other mode are not in this mode's report.
      if (c.report) server.child.kill('SIGUSR2')
      const [t0, p0] = [cpu.sample(), cpu.processTicks(server.child.pid)]
      const result = await runWrk(tools, load, { ...opts, seconds })
      result.seconds = seconds
      const [t1, p1] = [cpu.sample(), cpu.processTicks(server.child.pid)]
      result.cpu = tools.pin.taskset ? cpuShares(t0, t1, p1 - p0, config) : null // unpinned: no fixed CPUs
      result.flags = flags(result, before.responseBytes, { tolerateTimeouts: Boolean(c.tolerateTimeouts) })
      out.runs[mode] = result
      const shares = result.cpu
        ? `, cpu${config.serverCpu} ${pct(result.cpu.server)} (others ${pct(result.cpu.others)}), cpu${config.wrkCpu} ${pct(result.cpu.wrk)}`
        : ''
      const tolerated = c.tolerateTimeouts && result.errors.timeout ? `  (${result.errors.timeout} wrk timeouts, not flagged for a peer)` : ''
      log(`  ${c.name} ${mode}: ${Math.round(result.rps).toLocaleString('en-US')} req/s${shares}` +
        (result.flags.length ? `  (${result.flags.join('; ')})` : '') + tolerated)
    }
    // A server that degrades under load (wrong bodies, dead sockets) shows here.
    const after = await check(port, c, DEPTH)
    if (after.problems.length) {
      const more = after.problems.length > 1 ? ` (+${after.problems.length - 1} more)` : ''
      for (const r of Object.values(out.runs)) r.flags.push(`after the load: ${after.problems[0]}${more}`)
    }
  } catch (err) {
    out.failed = err.message // runs measured so far stay; the rest are reported failed
    log(`  ${c.name}: FAILED: ${err.message}`)
  } finally {
    if (server) out.server = await server.stop()
  }
  return out
}

async function main () {
  const config = readConfig(process.env, CASES.map((c) => c.name))
  const wrk = which('wrk')
  if (!wrk) {
    console.error("wrk not found: install it with 'apt-get install -y wrk' (Debian/Ubuntu)")
    process.exit(1)
  }
  const pin = pinning([config.serverCpu, config.wrkCpu])
  if (pin.warning) console.warn(`warning: ${pin.warning}`)
  const tools = { wrk, pin }
  const cases = CASES.filter((c) => config.only.includes(c.name))
  for (const c of cases) if (c.build) buildIfStale(path.join(__dirname, c.build), path.join(__dirname, c.server))

  const info = machine(wrk)
  console.log(`${info.cpu}, ${info.cores} cores, ${info.kernel}, node ${info.node}, ${info.wrk}`)
  console.log(`load average before: ${info.loadBefore.map((x) => x.toFixed(2)).join(' ')}`)
  // The load average lags by a minute (and counts our own last run); a short
  // idle sample says whether something else is using the CPUs right now.
  info.busyBefore = await cpu.busyFor(500)
  console.log(`CPU busy before start: ${info.busyBefore.map((x, i) => `cpu${i} ${pct(x)}`).join(', ')}`)
  if (info.busyBefore.some((x) => x > 0.1)) console.warn('warning: other processes are using the CPUs; expect noise')

  const est = estimateSeconds(cases, config)
  console.log(`${cases.length} case(s), ${config.rounds} round(s) x ${config.duration} s per run` +
    (config.shortDuration !== config.duration && cases.some((c) => c.short) ? ` (second tier: ${config.shortDuration} s; BENCH_FULL=1 for ${config.duration} s)` : '') +
    `: about ${Math.ceil(est / 60)} min`)

  const modes = [...new Set(cases.flatMap((c) => Object.keys(c.loads)))]
  const results = cases.map((c) => ({
    name: c.name,
    refs: c.refs,
    costOf: c.costOf,
    route: c.route,
    tolerateTimeouts: Boolean(c.tolerateTimeouts),
    impl: path.basename(c.server).replace(/\.js$/, ''),
    short: Boolean(c.short),
    path: c.path,
    seconds: durationOf(c, config),
    runs: {},
    checks: [],
    reports: []
  }))
  for (let round = 1; round <= config.rounds; round++) {
    console.log(`round ${round}/${config.rounds}`)
    for (let i = 0; i < cases.length; i++) {
      const k = (i + round - 1) % cases.length // rotate the order each round
      const c = cases[k]
      const res = results[k]
      const m = await measure(c, round, config, tools, console.log)
      for (const mode of Object.keys(c.loads)) {
        if (!res.runs[mode]) res.runs[mode] = []
        res.runs[mode].push(m.runs[mode] ? { round, ...m.runs[mode] } : { round, error: m.failed || 'not measured' })
      }
      if (m.check) res.checks.push({ round, responseBytes: m.check.responseBytes, problems: m.check.problems })
      // JSON lines the server printed (e.g. GC statistics on SIGTERM).
      if (m.server?.reports.length) res.reports.push({ round, reports: m.server.reports })
      // salvoReport n (n >= 1) covers the n-th mode of this case; 0 is the warm-up.
      if (c.report && m.server) {
        const modesOfCase = Object.keys(c.loads)
        for (const r of m.server.reports) {
          const mode = modesOfCase[r.salvoReport - 1]
          const run = mode && res.runs[mode]?.at(-1)
          if (run && !run.error) run.server = r
        }
      }
    }
  }
  info.loadAfter = os.loadavg()

  summarize(results, modes, DEFAULT_REFS)
  const refLabels = [...new Set(cases.flatMap((c) => Object.keys(c.refs || DEFAULT_REFS)))]
  const meta = {
    rounds: config.rounds,
    duration: config.duration,
    shortDuration: config.shortDuration,
    connections: config.connections,
    depth: DEPTH,
    routeOrder: [...new Set(CASES.map((c) => c.route).filter(Boolean))]
  }
  const { text, problems } = print(results, modes, refLabels, meta)
  console.log('\n' + text)
  const barItems = bar.evaluate(results, CASES)
  console.log(bar.text(barItems) + '\n')
  console.log(`load average after: ${info.loadAfter.map((x) => x.toFixed(2)).join(' ')}`)

  fs.mkdirSync(path.dirname(RESULTS), { recursive: true })
  const json = { date: new Date().toISOString(), machine: info, pinned: Boolean(pin.taskset), config: { ...config, depth: DEPTH }, bar: barItems, results }
  fs.writeFileSync(RESULTS, JSON.stringify(json, null, 2) + '\n')
  console.log(`wrote ${path.relative(process.cwd(), RESULTS)}`)
  // Non-zero when any run failed or was flagged, so scripts cannot miss it.
  process.exitCode = problems ? 1 : 0
}

// Never leave a server or wrk running behind us.
process.on('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130) })

main().catch((err) => {
  console.error(err.message)
  process.exit(2)
})
