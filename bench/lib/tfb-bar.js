'use strict'
// The bar of issue 10 ("TechEmpower test types on PostgreSQL, with latency at
// a constant rate"), checked against one npm run bench:tfb run: every ratio
// divides two medians of the same run. An item whose servers or routes were
// not run (BENCH_ONLY) or failed reads n/a. Missing the bar prints FAIL; the
// exit code is decided by failures and salvo's errors (tfb.js), not here.
const { render } = require('./bar')
const { loadKey } = require('./tfb-load')

// Minimum salvo/fastify at the headline connection count (256).
const VS_FASTIFY = { plaintext: 10, json: 2, db: 1.5, fortunes: 1.5 }
// Minimum salvo/driver-only ceiling, at every connection count measured.
const VS_CEILING = { db: 0.5, queries: 0.85 }

// CPU 1 (PostgreSQL and wrk) at least this busy, as the median of the rounds,
// leaves a server nothing to gain there. An "ahead" item notes it when every
// server's runs had it; a ceiling item when salvo's had it (the ceiling loop
// leaves that CPU to PostgreSQL alone). An "ahead" item also notes when
// salvo's rounds and the better peer's overlap (overlapNote). The notes do not
// change the verdicts.
const DB_BOUND = 0.95

const ratio = (a, b) => a && b ? a / b : null
const x3 = (v) => v === null ? '-' : v.toFixed(2) + 'x'

/** The load CPU's busy percentages of `names` at `k` when every one is at least DB_BOUND, else null. */
function loadBound (sum, names, k) {
  const busy = names.map((n) => sum.loadCpu?.[n]?.[k])
  if (!busy.length || busy.some((b) => typeof b !== 'number' || b < DB_BOUND)) return null
  return busy.map((b) => Math.round(b * 100))
}
/**
 * When salvo's rounds and the better peer's overlap at `k` (neither server's
 * slowest round is above the other's fastest), a note with both ranges: the
 * verdict, either way, is within the run's spread.
 */
function overlapNote (sum, peer, k) {
  const [s, p] = [sum.range?.salvo?.[k], sum.range?.[peer]?.[k]]
  if (!s || !p || s[0] > p[1] || p[0] > s[1]) return ''
  const r = ([lo, hi]) => `${Math.round(lo).toLocaleString('en-US')}-${Math.round(hi).toLocaleString('en-US')}`
  return `rounds overlap: salvo ${r(s)}, ${peer} ${r(p)} req/s`
}
const span = (pct) => Math.min(...pct) === Math.max(...pct) ? `${pct[0]}` : `${Math.min(...pct)}-${Math.max(...pct)}`
const aheadNote = (pct) => pct ? `CPU 1 (PostgreSQL and wrk) ${span(pct)} % busy for every server: bound there, not by the servers` : ''

/**
 * Items { what, value, target, pass (true | false | null), note }.
 * `verified`: { server: problems[] | null } (null: never answered the verifier).
 */
function evaluate ({ sum, routes, servers, verified, latency, fixedRate }) {
  const out = []
  const names = servers.map((s) => s.name)
  const rps = (n, k) => sum.rps[n]?.[k] ?? null
  const checked = names.filter((n) => verified[n] !== undefined)
  const failing = checked.filter((n) => verified[n] === null || verified[n].length)
  out.push({
    what: 'every server passes the TFB verification',
    value: checked.length ? (failing.length ? `failed: ${failing.join(', ')}` : `${checked.length} of ${names.length} pass`) : '-',
    target: 'all pass',
    pass: checked.length ? failing.length === 0 && checked.length === names.length : null
  })
  for (const r of routes) {
    for (const c of r.conns) {
      const k = loadKey(r, c)
      const peers = ['fastify', 'node'].map((n) => rps(n, k))
      const v = peers.some((p) => p === null) ? null : ratio(rps('salvo', k), Math.max(...peers))
      const better = peers[0] >= peers[1] ? 'fastify' : 'node'
      const note = [aheadNote(loadBound(sum, names, k)), v === null ? '' : overlapNote(sum, better, k)].filter(Boolean).join('; ')
      out.push({ what: `salvo ahead of fastify and node:http, ${r.path} c${c}`, value: x3(v), target: '> 1x the better peer', pass: v === null ? null : v > 1, note })
    }
  }
  for (const [name, min] of Object.entries(VS_FASTIFY)) {
    const r = routes.find((x) => x.name === name)
    const k = r && loadKey(r, r.conns[0])
    const v = r ? ratio(rps('salvo', k), rps('fastify', k)) : null
    out.push({ what: `salvo / fastify, ${r ? `${r.path} c${r.conns[0]}` : name}`, value: x3(v), target: `>= ${min}x`, pass: v === null ? null : v >= min })
  }
  for (const [name, min] of Object.entries(VS_CEILING)) {
    const r = routes.find((x) => x.name === name)
    for (const c of r ? r.conns : [null]) {
      const k = r && loadKey(r, c)
      const v = r ? ratio(rps('salvo', k), sum.ceiling[k]) : null
      const pct = loadBound(sum, ['salvo'], k)
      const note = pct ? `salvo's CPU 1 ${pct[0]} % busy: PostgreSQL shares it with wrk here, not in the ceiling` : ''
      out.push({ what: `salvo / driver-only ceiling, ${r ? `${r.path} c${c}` : name}`, value: x3(v), target: `>= ${min}x`, pass: v === null ? null : v >= min, note })
    }
  }
  // Errors: every throughput run's (wrk) and every constant-rate run's (h2load).
  if (names.includes('salvo')) {
    const wrkErrors = Object.values(sum.errors.salvo || {}).reduce((a, b) => a + b, 0)
    const lat = latency.filter((x) => x.server === 'salvo')
    const latErrors = lat.reduce((a, x) => a + (x.errors?.total ?? 0), 0)
    const failed = lat.some((x) => x.failed) || verified.salvo === null
    const any = Object.keys(sum.errors.salvo || {}).length + lat.length > 0
    out.push({ what: 'zero errors for salvo in every run', value: any ? String(wrkErrors + latErrors) : '-', target: '0', pass: any ? !failed && wrkErrors + latErrors === 0 : null })
  }
  for (const path of [...new Set(latency.map((x) => x.path))]) {
    const at = (n) => latency.find((x) => x.path === path && x.server === n && x.rate === fixedRate && !x.failed)
    const [s, f] = [at('salvo'), at('fastify')]
    const v = s && f ? s.p99 / f.p99 : null
    const note = [s, f].filter((x) => x && !x.held).map((x) => `${x.server}: rate not held`).join(', ')
    out.push({
      what: `p99 salvo / fastify at ${fixedRate} req/s, ${path}`,
      value: v === null ? '-' : `${s.p99.toFixed(2)} / ${f.p99.toFixed(2)} ms`,
      target: '<= 1x',
      pass: v === null ? null : v <= 1,
      note
    })
  }
  return out
}

/** The bar as text (bar.js's layout). */
function text (items) {
  return render('the bar (issue 10, TechEmpower test types on PostgreSQL), this run:',
    items.map((e) => [e.what, e.value, e.target, e.pass]), items.map((e) => e.note || ''))
}

module.exports = { evaluate, text }
