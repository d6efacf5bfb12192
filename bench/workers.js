'use strict'
// `npm run bench:workers`: the hello route on 1 and N worker threads
// (src/cluster.ts cluster(), SO_REUSEPORT), plain keep-alive and pipelined
// (bench/pipeline.lua), several rounds, medians.  For each run it reports
// requests/s, each worker's share of the requests (the primary's
// cluster.stats(), per-worker server counters) and the CPU time per request:
// this process's user + system time over the run (the workers are its
// threads; the primary only waits meanwhile) divided by the requests the
// workers served.  CPU per request must not grow with the worker count: more
// workers should buy throughput, not cost per request.
//
// Not pinned: N workers need N cores, and this machine has 2, which wrk
// (one thread) shares with them.  So N=2 is two workers and the load tool on
// two cores: the ratio to N=1 is a lower bound of what a worker adds.
//
// BENCH_WORKERS (N, default 2), BENCH_ROUNDS (default 3), BENCH_DURATION
// (seconds per measured run, default 5), BENCH_WARMUP (seconds, default 2).
// Writes bench/results/workers.json.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { readConfig } = require('./lib/config')
const { which } = require('./lib/tools')
const { runWrk, flags } = require('./lib/wrk')
const { machine } = require('./lib/machine')
const { pipelined, plain, DEPTH } = require('./cases')
const { cluster } = require('./servers/load-salvo')

const APP = path.join(__dirname, 'servers', 'hello-worker.js')
const RESULTS = path.join(__dirname, 'results', 'workers.json')
const LOADS = { plain: plain(), pipelined: pipelined() }
const NO_PIN = { taskset: null }

function workerCount (env) {
  const raw = env.BENCH_WORKERS
  if (raw === undefined || raw === '') return 2
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 2) throw new Error(`BENCH_WORKERS must be an integer >= 2 (compared with 1), got '${raw}'`)
  return n
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const cpuMicros = () => { const u = process.cpuUsage(); return u.user + u.system }
const byId = (stats) => new Map(stats.map((s) => [s.id, s.requests]))

/** One measured wrk run against a running cluster: rps, shares, CPU per request. */
async function measure (c, load, config, tools) {
  const opts = { port: c.port, path: '/', threads: config.threads, connections: config.connections, cpu: null }
  await runWrk(tools, load, { ...opts, seconds: config.warmup })
  const before = byId(await c.stats())
  const cpu0 = cpuMicros()
  const result = await runWrk(tools, load, { ...opts, seconds: config.duration })
  const cpu = cpuMicros() - cpu0
  const after = await c.stats()
  const served = after.map((s) => s.requests - (before.get(s.id) ?? 0))
  const total = served.reduce((a, b) => a + b, 0)
  return {
    rps: result.rps,
    requests: total,
    shares: served.map((n) => (total ? n / total : 0)),
    cpuMicrosPerRequest: total ? cpu / total : null,
    problems: flags(result, null)
  }
}

async function main () {
  const config = { ...readConfig({ BENCH_DURATION: '5', ...process.env }, []) }
  const n = workerCount(process.env)
  const wrk = which('wrk')
  if (!wrk) {
    console.error("wrk not found: install it with 'apt-get install -y wrk' (Debian/Ubuntu)")
    process.exit(1)
  }
  const tools = { wrk, pin: NO_PIN }
  const info = machine(wrk)
  console.log(`${info.cpu}, ${info.cores} cores, ${info.kernel}, node ${info.node}, ${info.wrk}`)
  console.log(`hello route on 1 and ${n} worker threads; wrk -t${config.threads} -c${config.connections}, plain and pipelined (${DEPTH} deep); ` +
    `${config.rounds} round(s) x ${config.duration} s (+${config.warmup} s warm-up)`)
  console.log(`note: nothing is pinned; wrk shares the ${os.availableParallelism()} cores with the workers, so it takes CPU the workers would use`)

  const counts = [1, n]
  const runs = {} // `${workers}/${load}` -> measurements, one per round
  for (let round = 1; round <= config.rounds; round++) {
    for (const workers of counts) {
      const c = await cluster(APP, { workers, port: 0, host: '127.0.0.1', handleSignals: false })
      try {
        for (const [name, load] of Object.entries(LOADS)) {
          const m = await measure(c, load, config, tools)
          ;(runs[`${workers}/${name}`] ??= []).push(m)
          const shares = m.shares.map((s) => `${(s * 100).toFixed(1)}%`).join(' / ')
          console.log(`round ${round}: ${workers} worker(s), ${name.padEnd(9)} ${Math.round(m.rps).toLocaleString('en-US').padStart(10)} req/s, ` +
            `shares ${shares}, ${m.cpuMicrosPerRequest?.toFixed(2)} us CPU/request${m.problems.length ? `  FLAGGED: ${m.problems.join('; ')}` : ''}`)
        }
      } finally {
        await c.close()
      }
    }
  }

  const summary = {}
  for (const [key, ms] of Object.entries(runs)) {
    const [workers, load] = key.split('/')
    summary[key] = {
      workers: Number(workers),
      load,
      rps: median(ms.map((m) => m.rps)),
      cpuMicrosPerRequest: median(ms.map((m) => m.cpuMicrosPerRequest ?? NaN)),
      // The smallest worker's share, median over rounds: 1/N is an even spread.
      minShare: median(ms.map((m) => Math.min(...m.shares))),
      flagged: ms.flatMap((m) => m.problems)
    }
  }
  console.log(`\nmedians of ${config.rounds} round(s):`)
  console.log('workers  load        req/s   vs 1 worker  min share  CPU us/request  vs 1 worker')
  for (const s of Object.values(summary)) {
    const one = summary[`1/${s.load}`]
    console.log(`${String(s.workers).padStart(7)}  ${s.load.padEnd(9)} ${Math.round(s.rps).toLocaleString('en-US').padStart(10)}  ` +
      `${(s.rps / one.rps).toFixed(2).padStart(10)}x  ${(s.minShare * 100).toFixed(1).padStart(8)}%  ` +
      `${s.cpuMicrosPerRequest.toFixed(2).padStart(14)}  ${(s.cpuMicrosPerRequest / one.cpuMicrosPerRequest).toFixed(2).padStart(10)}x` +
      `${s.flagged.length ? `  FLAGGED: ${s.flagged.join('; ')}` : ''}`)
  }
  // 20%: above the round-to-round spread of this figure on a shared 2-core VM.
  for (const s of Object.values(summary)) {
    const one = summary[`1/${s.load}`]
    const grew = s.cpuMicrosPerRequest / one.cpuMicrosPerRequest
    if (s.workers > 1 && grew > 1.2) console.log(`WARNING: ${s.load}: CPU per request grew ${grew.toFixed(2)}x with ${s.workers} workers (shared state or contention?)`)
  }
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true })
  fs.writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), machine: info, config: { ...config, workers: n }, summary, runs }, null, 2) + '\n')
  console.log(`\nwrote ${path.relative(process.cwd(), RESULTS)}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
