'use strict'
// The tables of npm run bench:tfb: medians over rounds per server, route and
// connection count (with salvo/fastify and salvo/ceiling), the per-round
// numbers, the constant-rate latency table and the pool sweep's table.
const { median, table } = require('./report')
const { loadKey } = require('./tfb-load')

const num = (x) => x === null || x === undefined ? '-' : Math.round(x).toLocaleString('en-US')
const times = (a, b) => a && b ? (a / b).toFixed(2) + 'x' : '-'
const ms = (x) => x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1)

/**
 * Medians and error sums: { rps: {server: {key: req/s}}, errors: {server:
 * {key: n}}, loadCpu: {server: {key: busy share of the load CPU, 0..1}},
 * ceiling: {key: ops/s}, ceilingErrors: {key: n} }. `rounds` is
 * { server: [{ runs }] }, `ceiling` is { key: [{ opsPerSec, errors }] }.
 */
function summarize (rounds, ceiling) {
  const out = { rps: {}, range: {}, errors: {}, loadCpu: {}, ceiling: {}, ceilingErrors: {} }
  for (const [server, list] of Object.entries(rounds)) {
    out.rps[server] = {}
    out.range[server] = {}
    out.errors[server] = {}
    out.loadCpu[server] = {}
    const keys = new Set(list.flatMap((r) => Object.keys(r.runs)))
    for (const k of keys) {
      const runs = list.map((r) => r.runs[k]).filter(Boolean)
      out.rps[server][k] = median(runs.map((x) => x.rps))
      out.range[server][k] = [Math.min(...runs.map((x) => x.rps)), Math.max(...runs.map((x) => x.rps))]
      out.errors[server][k] = runs.reduce((sum, x) => sum + x.errorCount, 0)
      const busy = runs.map((x) => x.cpu?.load).filter((x) => typeof x === 'number')
      if (busy.length) out.loadCpu[server][k] = median(busy)
    }
  }
  for (const [k, list] of Object.entries(ceiling)) {
    out.ceiling[k] = median(list.map((x) => x.opsPerSec))
    out.ceilingErrors[k] = list.reduce((sum, x) => sum + x.errors, 0)
  }
  return out
}

/** The throughput table, one row per route and connection count; `failed`: servers that failed the verification. */
function throughputTable (sum, routes, servers, meta, failed = new Set()) {
  const names = servers.map((s) => s.name)
  const rows = [['route', 'conns', ...names.map((n) => `${n} req/s`), 'salvo/fastify', 'ceiling ops/s', 'salvo/ceiling', `errors (${names.join('/')})`]]
  for (const r of routes) {
    for (const c of r.conns) {
      const k = loadKey(r, c)
      const at = (n) => sum.rps[n]?.[k] ?? null
      const ceil = r.ceiling ? sum.ceiling[k] ?? null : null
      rows.push([r.path + (r.name === 'plaintext' ? ` (${meta.depth} deep)` : ''), String(c), ...names.map((n) => failed.has(n) ? 'FAILED' : num(at(n))),
        times(at('salvo'), at('fastify')), num(ceil), times(at('salvo'), ceil),
        names.map((n) => sum.errors[n]?.[k] ?? '-').join('/')])
    }
  }
  const note = failed.size ? `\nFAILED: ${[...failed].join(', ')} failed the TFB verification and were not benchmarked` : ''
  return `medians of ${meta.rounds} round(s) x ${meta.duration} s; server on CPU ${meta.serverCpu}, wrk and PostgreSQL on CPU ${meta.loadCpu}; pool ${meta.pool}, PostgreSQL over ${meta.dbSocket === 'tcp' ? '127.0.0.1' : 'its unix socket'}\n` + table(rows) + note
}

/** Every round's req/s (x: that server failed that round). */
function perRoundTable (rounds, routes, servers) {
  const rows = [['route', 'conns', ...servers.map((s) => s.name)]]
  for (const r of routes) {
    for (const c of r.conns) {
      const k = loadKey(r, c)
      rows.push([r.path, String(c), ...servers.map((s) => (rounds[s.name] || []).map((x) => x.runs[k] ? num(x.runs[k].rps) : 'x').join(' / '))])
    }
  }
  return 'per round (req/s):\n' + table(rows)
}

/** The constant-rate table: one row per route, rate and server. */
function latencyTable (latency, meta) {
  const rows = [['route', 'rate', 'server', 'req/s target', 'answered/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', '']]
  for (const x of latency) {
    if (x.failed) { rows.push([x.path, x.label, x.server, num(x.rate), '-', '-', '-', '-', '-', '-', `failed: ${x.failed}`]); continue }
    rows.push([x.path, x.label, x.server, num(x.rate), num(x.achieved), ms(x.p50), ms(x.p99), ms(x.p999), ms(x.max), String(x.errors.total),
      x.held ? '' : 'rate not held'])
  }
  return `constant rate (h2load --h1 --rps, ${meta.clients} clients, ${meta.seconds} s per run):\n` + table(rows)
}

/** The pool sweep: salvo's /db per pool size. */
function poolTable (sweep, routeConns) {
  const rows = [['TFB_POOL', ...routeConns.map((c) => `/db c${c} req/s`), 'per round', 'errors']]
  for (const [pool, list] of Object.entries(sweep)) {
    const at = (c) => median(list.map((x) => x.runs[`db@${c}`]?.rps).filter((v) => v !== undefined))
    const per = list.map((x) => routeConns.map((c) => num(x.runs[`db@${c}`]?.rps)).join('|')).join(' / ')
    const errors = list.reduce((s, x) => s + Object.values(x.runs).reduce((t, r) => t + r.errorCount, 0), 0)
    rows.push([pool, ...routeConns.map((c) => num(at(c))), per, String(errors)])
  }
  return 'salvo /db by pool size (medians over rounds):\n' + table(rows)
}

module.exports = { summarize, throughputTable, perRoundTable, latencyTable, poolTable }
