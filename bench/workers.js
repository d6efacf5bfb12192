'use strict'
// `npm run bench:workers`: the hello route on 1 and N worker threads
// (src/cluster.ts cluster(), SO_REUSEPORT). Two phases on each cluster:
//
// - saturation: plain keep-alive and pipelined (bench/pipeline.lua) wrk runs:
//   requests/s, each worker's share of the requests (the primary's
//   cluster.stats(), per-worker server counters) and the CPU time per request;
// - a fixed offered rate (lib/workers-rate.js: h2load, plain keep-alive), the
//   same for 1 and N workers: by default half the 1-worker plain peak of
//   round 1, which both sustain. Its CPU time per request is the issue-12
//   figure: it must not grow with the worker count (PASS/FAIL, 5 % margin).
//
// CPU time is the server's, from /proc (lib/workers-cpu.js): this process
// (the workers are its threads; the primary only waits) and its worker
// threads alone; the load tool is another process. At saturation on 2 cores
// the load tool shares the cores with the workers, so the N-worker figures
// there are a lower bound of what a worker adds; at a fixed rate every thread
// has idle time and the comparison is at equal work.
//
// BENCH_WORKERS (N, default 2), BENCH_ROUNDS (default 3), BENCH_DURATION
// (seconds per measured run, default 5), BENCH_WARMUP (seconds, default 2),
// BENCH_RATE (requests/s of the fixed-rate phase; default 50 % of the
// 1-worker plain peak), BENCH_OUT (the JSON written; default
// bench/results/workers.json).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { readConfig, positiveInt } = require('./lib/config')
const { which } = require('./lib/tools')
const { runWrk, flags } = require('./lib/wrk')
const { machine } = require('./lib/machine')
const { h2loadVersion } = require('./lib/tfb-latency')
const { workerTids, sampleCpu, cpuBetween } = require('./lib/workers-cpu')
const { runRate, cpuVerdict, MARGIN } = require('./lib/workers-rate')
const { pipelined, plain, DEPTH } = require('./cases')
const { cluster } = require('./servers/load-salvo')

const APP = path.join(__dirname, 'servers', 'hello-worker.js')
const LOADS = { plain: plain(), pipelined: pipelined() }
const NO_PIN = { taskset: null }
const RATE_CLIENTS = 100 // as wrk's -c100: SO_REUSEPORT spreads as many connections
const PEAK_SHARE = 0.5

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
const byId = (stats) => new Map(stats.map((s) => [s.id, s.requests]))

/** Runs `load` (async) between two server counter reads and two CPU samples: requests served, shares, CPU per request. */
async function served (c, tids, load) {
  const before = byId(await c.stats())
  const cpu0 = sampleCpu(tids)
  const result = await load()
  const cpu = cpuBetween(cpu0, sampleCpu(tids))
  const after = await c.stats()
  const counts = after.map((s) => s.requests - (before.get(s.id) ?? 0))
  const total = counts.reduce((a, b) => a + b, 0)
  return {
    result,
    requests: total,
    shares: counts.map((k) => (total ? k / total : 0)),
    cpuMicrosPerRequest: total ? cpu.process / total : null,
    workerCpuMicrosPerRequest: total ? cpu.workers / total : null
  }
}

/** One saturating wrk run against a running cluster. */
async function measureSaturation (c, tids, load, config, tools) {
  const opts = { port: c.port, path: '/', threads: config.threads, connections: config.connections, cpu: null }
  await runWrk(tools, load, { ...opts, seconds: config.warmup })
  const { result, ...m } = await served(c, tids, () => runWrk(tools, load, { ...opts, seconds: config.duration }))
  return { rps: result.rps, ...m, problems: flags(result, null) }
}

/** One run at the fixed rate (after a warm-up at that rate). */
async function measureRate (c, tids, rate, config, h2load) {
  const opts = { port: c.port, path: '/', rate, clients: RATE_CLIENTS }
  await runRate(h2load, { ...opts, seconds: config.warmup })
  const { result, ...m } = await served(c, tids, () => runRate(h2load, { ...opts, seconds: config.duration }))
  const problems = []
  if (!result.held) problems.push(`rate not held: ${Math.round(result.achieved)} of ${rate} req/s`)
  if (result.errors) problems.push(`${result.errors} failed or timed out`)
  return { rps: result.achieved, held: result.held, ...m, problems }
}

const us = (x) => (x == null ? 'n/a' : x.toFixed(2))
const pct = (shares) => shares.map((s) => `${(s * 100).toFixed(1)}%`).join(' / ')

async function main () {
  const config = { ...readConfig({ BENCH_DURATION: '5', ...process.env }, []) }
  const n = workerCount(process.env)
  let rate = positiveInt(process.env, 'BENCH_RATE', null)
  const out = process.env.BENCH_OUT || path.join(__dirname, 'results', 'workers.json')
  const wrk = which('wrk')
  const h2load = which('h2load')
  if (!wrk || !h2load) {
    console.error(`${!wrk ? 'wrk' : 'h2load'} not found: install it with 'apt-get install -y ${!wrk ? 'wrk' : 'nghttp2-client'}' (Debian/Ubuntu)`)
    process.exit(1)
  }
  const tools = { wrk, pin: NO_PIN }
  const info = { ...machine(wrk), h2load: await h2loadVersion(h2load) }
  const cores = os.availableParallelism()
  console.log(`${info.cpu}, ${info.cores} cores, ${info.kernel}, node ${info.node}, ${info.wrk}, ${info.h2load}`)
  console.log(`hello route on 1 and ${n} worker threads; ${config.rounds} round(s), each run ${config.duration} s (+${config.warmup} s warm-up)`)
  console.log(`saturation: wrk -t${config.threads} -c${config.connections}, plain and pipelined (${DEPTH} deep)`)
  console.log(`fixed rate: h2load --h1 -c${RATE_CLIENTS}, plain keep-alive, ${rate ? `${rate} req/s (BENCH_RATE)` : `${PEAK_SHARE * 100} % of the 1-worker plain peak of round 1`}`)
  console.log(`note: nothing is pinned; the load tool shares the ${cores} cores with the workers (at saturation it takes CPU the workers would use)`)
  console.log('CPU: the server process from /proc (worker threads, V8 helpers, the idle primary; not the load tool); "workers": the worker threads alone')

  const counts = [1, n]
  const runs = {} // `${workers}/${phase}` -> measurements, one per round
  for (let round = 1; round <= config.rounds; round++) {
    for (const workers of counts) {
      const { result: c, tids } = await workerTids(() => cluster(APP, { workers, port: 0, host: '127.0.0.1', handleSignals: false }))
      try {
        for (const [name, load] of Object.entries(LOADS)) {
          const m = await measureSaturation(c, tids, load, config, tools)
          ;(runs[`${workers}/${name}`] ??= []).push(m)
          console.log(`round ${round}: ${workers} worker(s), ${name.padEnd(9)} ${Math.round(m.rps).toLocaleString('en-US').padStart(10)} req/s, ` +
            `shares ${pct(m.shares)}, ${us(m.cpuMicrosPerRequest)} us CPU/request (workers ${us(m.workerCpuMicrosPerRequest)})` +
            `${m.problems.length ? `  FLAGGED: ${m.problems.join('; ')}` : ''}`)
        }
        rate ??= Math.max(1, Math.round(PEAK_SHARE * runs['1/plain'][0].rps))
        const m = await measureRate(c, tids, rate, config, h2load)
        ;(runs[`${workers}/rate`] ??= []).push(m)
        console.log(`round ${round}: ${workers} worker(s), rate      ${Math.round(m.rps).toLocaleString('en-US').padStart(10)} req/s of ${rate.toLocaleString('en-US')}, ` +
          `shares ${pct(m.shares)}, ${us(m.cpuMicrosPerRequest)} us CPU/request (workers ${us(m.workerCpuMicrosPerRequest)})` +
          `${m.problems.length ? `  FLAGGED: ${m.problems.join('; ')}` : ''}`)
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
      workerCpuMicrosPerRequest: median(ms.map((m) => m.workerCpuMicrosPerRequest ?? NaN)),
      // The smallest worker's share, median over rounds: 1/N is an even spread.
      minShare: median(ms.map((m) => Math.min(...m.shares))),
      held: ms.every((m) => m.held !== false),
      flagged: ms.flatMap((m) => m.problems)
    }
  }
  console.log(`\nmedians of ${config.rounds} round(s) ("rate": ${rate.toLocaleString('en-US')} req/s offered; its req/s is the answered rate):`)
  console.log('workers  load        req/s   vs 1 worker  min share  CPU us/request  vs 1 worker  workers us/request')
  for (const s of Object.values(summary)) {
    const one = summary[`1/${s.load}`]
    console.log(`${String(s.workers).padStart(7)}  ${s.load.padEnd(9)} ${Math.round(s.rps).toLocaleString('en-US').padStart(10)}  ` +
      `${(s.rps / one.rps).toFixed(2).padStart(10)}x  ${(s.minShare * 100).toFixed(1).padStart(8)}%  ` +
      `${us(s.cpuMicrosPerRequest).padStart(14)}  ${(s.cpuMicrosPerRequest / one.cpuMicrosPerRequest).toFixed(2).padStart(10)}x  ` +
      `${us(s.workerCpuMicrosPerRequest).padStart(18)}${s.flagged.length ? `  FLAGGED: ${s.flagged.join('; ')}` : ''}`)
  }
  console.log(`(saturation: on ${cores} cores wrk shares the CPUs with the workers, so ${n} workers there is a lower bound)`)
  // 20%: at saturation the load tool's share of the cores moves the figure; the fixed rate is the bar.
  for (const load of Object.keys(LOADS)) {
    const grew = summary[`${n}/${load}`].cpuMicrosPerRequest / summary[`1/${load}`].cpuMicrosPerRequest
    if (grew > 1.2) console.log(`WARNING: saturation, ${load}: CPU per request grew ${grew.toFixed(2)}x with ${n} workers (shared state or contention?)`)
  }
  const verdict = cpuVerdict(summary['1/rate'], summary[`${n}/rate`], n, { margin: MARGIN })
  console.log(verdict.line)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: info, config: { ...config, workers: n, rate, rateClients: RATE_CLIENTS, margin: MARGIN }, summary, verdict, runs }, null, 2) + '\n')
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
