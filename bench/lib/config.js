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

/** Case names that BENCH_ONLY's comma-separated names or patterns (`*`: any characters) pick. */
function pick (spec, names) {
  const wanted = (spec || '').split(',').map((s) => s.trim()).filter(Boolean)
  if (!wanted.length) return names
  const unknown = []
  const picked = new Set()
  for (const w of wanted) {
    const re = new RegExp('^' + w.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
    const hits = names.filter((n) => re.test(n))
    if (!hits.length) unknown.push(w)
    for (const n of hits) picked.add(n)
  }
  if (unknown.length) {
    throw new Error(`BENCH_ONLY: unknown case(s) ${unknown.join(', ')}; known: ${names.join(', ')}`)
  }
  return names.filter((n) => picked.has(n)) // in CASES order
}

/** Reads BENCH_* variables; `names` are the known case names for BENCH_ONLY. */
function readConfig (env, names) {
  const duration = positiveInt(env, 'BENCH_DURATION', 10) // seconds per measured wrk run
  const full = env.BENCH_FULL !== undefined && env.BENCH_FULL !== '' && env.BENCH_FULL !== '0'
  // Cases marked `short` (the second tier: async/stream routes and their peers)
  // run this long, never longer than BENCH_DURATION; BENCH_FULL=1: as long.
  const shortDuration = full ? duration : Math.min(duration, positiveInt(env, 'BENCH_SHORT_DURATION', 5))
  return {
    rounds: positiveInt(env, 'BENCH_ROUNDS', 3),
    duration,
    shortDuration,
    warmup: positiveInt(env, 'BENCH_WARMUP', 2), // seconds of load before measuring (JIT, pools)
    only: pick(env.BENCH_ONLY, names),
    threads: 1, // one wrk thread on one core: the load tool must stay on its own CPU
    connections: 100,
    serverCpu: 0,
    wrkCpu: 1
  }
}

module.exports = { readConfig, pick, positiveInt }
