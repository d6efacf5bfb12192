'use strict'
// The driver-only ceiling of npm run bench:tfb: what the database side allows
// here without HTTP. A bare loop keeps `concurrency` operations in flight
// through the same driver, pool and queries the peers use (servers/tfb-db.js),
// for as many operations as the time allows: `db` is one random row by id
// (GET /db), `queries` twenty single-row queries (GET /queries?queries=20).
// It runs as its own node process pinned to the server CPU, like a server,
// so PostgreSQL keeps the other CPU to itself (no wrk there): an upper bound.
//
// As a program (the child): TFB_CEILING_OP, TFB_CEILING_CONCURRENCY,
// TFB_CEILING_SECONDS, TFB_CEILING_WARMUP, DATABASE_URL, TFB_POOL; prints one
// JSON line { ops, errors, seconds, opsPerSec }.
const { run } = require('./spawn')
const { pinned } = require('./tools')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function child (env) {
  const { oneWorld, worlds, sql } = require('../servers/tfb-db')
  const op = env.TFB_CEILING_OP === 'queries' ? () => worlds(20) : oneWorld
  const concurrency = Number(env.TFB_CEILING_CONCURRENCY)
  let counting = false
  let stopping = false
  let ops = 0
  let errors = 0
  async function worker () {
    while (!stopping) {
      try {
        await op()
        if (counting) ops++
      } catch {
        if (counting) errors++
        // A dead database fails fast: yield so the timers below still fire.
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
  }
  const workers = Array.from({ length: concurrency }, worker)
  // The warm-up opens the pool's connections and prepares the statement.
  await sleep(Number(env.TFB_CEILING_WARMUP) * 1000)
  counting = true
  const t0 = process.hrtime.bigint()
  await sleep(Number(env.TFB_CEILING_SECONDS) * 1000)
  counting = false
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  stopping = true
  await Promise.all(workers)
  await sql.end({ timeout: 1 })
  console.log(JSON.stringify({ ops, errors, seconds, opsPerSec: ops / seconds }))
}

/** Runs the loop in a child pinned to `cpu`; resolves to its JSON line. */
async function runCeiling (tools, { cpu, op, concurrency, seconds, warmup, env }) {
  const argv = pinned(tools.pin, cpu, [process.execPath, __filename])
  const out = await run(argv, {
    timeoutMs: (seconds + warmup + 20) * 1000,
    env: { ...env, TFB_CEILING_OP: op, TFB_CEILING_CONCURRENCY: String(concurrency), TFB_CEILING_SECONDS: String(seconds), TFB_CEILING_WARMUP: String(warmup) }
  })
  return JSON.parse(out.trim().split('\n').pop())
}

if (require.main === module) {
  child(process.env).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

module.exports = { runCeiling }
