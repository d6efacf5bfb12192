'use strict'
// Benchmark settings from the environment, validated once so a typo fails
// before minutes of measuring rather than after.

function positiveInt (env, name, fallback) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`)
  return n
}

/** Reads BENCH_* variables; `names` are the known case names for BENCH_ONLY. */
function readConfig (env, names) {
  const only = (env.BENCH_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = only.filter((n) => !names.includes(n))
  if (unknown.length) {
    throw new Error(`BENCH_ONLY: unknown case(s) ${unknown.join(', ')}; known: ${names.join(', ')}`)
  }
  return {
    rounds: positiveInt(env, 'BENCH_ROUNDS', 3),
    duration: positiveInt(env, 'BENCH_DURATION', 10), // seconds per measured wrk run
    warmup: positiveInt(env, 'BENCH_WARMUP', 2), // seconds of load before measuring (JIT, pools)
    only: only.length ? only : names,
    threads: 1, // one wrk thread on one core: the load tool must stay on its own CPU
    connections: 100,
    serverCpu: 0,
    wrkCpu: 1
  }
}

module.exports = { readConfig }
