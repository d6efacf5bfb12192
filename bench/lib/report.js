'use strict'
// Turning per-round results into the summary table. Medians, not means: one
// round disturbed by another process should not move the headline number.

function median (xs) {
  if (!xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

const num = (x) => x === null || x === undefined ? '-' : Math.round(x).toLocaleString('en-US')
const fmt = (x, d) => x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d)
const times = (x) => x === null || x === undefined ? '-' : x.toFixed(2) + 'x'

/** Adds `median` per mode and `ratios` per mode to each case summary. */
function summarize (results, modes, defaultRefs) {
  for (const r of results) {
    r.median = {}
    for (const m of modes) r.median[m] = median((r.runs[m] || []).filter((x) => x.rps !== undefined).map((x) => x.rps))
  }
  const byName = new Map(results.map((r) => [r.name, r]))
  for (const r of results) {
    const refs = r.refs || defaultRefs
    r.ratios = {}
    for (const m of modes) {
      r.ratios[m] = {}
      for (const [label, name] of Object.entries(refs)) {
        const ref = byName.get(name)?.median[m]
        r.ratios[m][label] = r.median[m] !== null && ref ? r.median[m] / ref : null
      }
    }
  }
  return results
}

function table (rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  return rows.map((row) => row.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ').trimEnd()).join('\n')
}

/**
 * One table per mode: the same route (case.route) on every server (case.impl)
 * side by side, and salvo over node:http. Null when no case has a route.
 */
function sameRoute (results, modes, order = []) {
  const routed = results.filter((r) => r.route)
  if (!routed.length) return null
  const rank = (x) => order.includes(x) ? order.indexOf(x) : order.length
  const routes = [...new Set(routed.map((r) => r.route))].sort((a, b) => rank(a) - rank(b))
  const impls = [...new Set(routed.map((r) => r.impl))]
  const out = []
  for (const m of modes) {
    const rows = [[`${m} req/s`, ...impls, 'salvo/node-http']]
    for (const route of routes) {
      const at = (impl) => routed.find((r) => r.route === route && r.impl === impl)?.median[m] ?? null
      const [s, n] = [at('salvo'), at('node-http')]
      const cells = impls.map(at)
      if (cells.every((x) => x === null)) continue
      rows.push([route, ...cells.map(num), s && n ? times(s / n) : '-'])
    }
    if (rows.length > 1) out.push(table(rows), '')
  }
  return out.length ? out : null
}

function print (results, modes, refLabels, meta) {
  const out = []
  const head = ['case']
  for (const m of modes) head.push(`${m} req/s`, ...refLabels.map((l) => `vs ${l}`))
  head.push('flags')
  const rows = [head]
  // Cases measured shorter than the others (case.short) are marked with *.
  const marked = meta.shortDuration !== undefined && meta.shortDuration !== meta.duration
  const label = (r) => r.name + (marked && r.short ? ' *' : '')
  for (const r of results) {
    const row = [label(r)]
    for (const m of modes) row.push(num(r.median[m]), ...refLabels.map((l) => times(r.ratios[m][l])))
    const bad = modes.flatMap((m) => r.runs[m] || []).filter((x) => x.error || x.flags?.length).length
    row.push(bad ? `${bad} bad run(s)` : '')
    rows.push(row)
  }
  const shortNote = marked && results.some((r) => r.short) ? ` (* : ${meta.shortDuration} s per run)` : ''
  out.push(`medians of ${meta.rounds} round(s) x ${meta.duration} s${shortNote}, ${meta.connections} connections, pipelined depth ${meta.depth}`)
  out.push(table(rows), '')
  const same = sameRoute(results, modes, meta.routeOrder)
  if (same) out.push('same route on every server (medians):', ...same)

  out.push('per round (req/s; ! = flagged, x = failed):')
  const raw = [['case', ...modes]]
  for (const r of results) {
    raw.push([r.name, ...modes.map((m) => (r.runs[m] || []).map((x) => x.error ? 'x' : num(x.rps) + (x.flags.length ? '!' : '')).join(' / '))])
  }
  out.push(table(raw), '')

  // What the server said about itself (salvo cases): GC per million requests,
  // GC time share, RSS after the load, and writes per read batch (invariant 3).
  const gcRows = [['case', 'mode', 'scavenges/M req', 'mark-compacts', 'GC time', 'RSS after (MB)', 'writes/read', 'req/read']]
  for (const r of results) {
    for (const m of modes) {
      const reps = (r.runs[m] || []).map((x) => x.server).filter(Boolean)
      if (!reps.length) continue
      const med = (f) => median(reps.map(f).filter((v) => v !== null && v !== undefined))
      gcRows.push([r.name, m, fmt(med((x) => x.scavengesPerMillion), 1), fmt(med((x) => x.markCompacts), 0),
        fmt(100 * med((x) => x.gcShare), 2) + '%', fmt(med((x) => x.rssMB), 1),
        fmt(med((x) => x.reads ? x.writes / x.reads : null), 3), fmt(med((x) => x.reads ? x.requests / x.reads : null), 1)])
    }
  }
  if (gcRows.length > 1) out.push('server reports (medians over rounds):', table(gcRows), '')

  // What a feature costs per request: the difference of the median times per
  // request between a case and the case it extends (e.g. one onRequest hook).
  const byName = new Map(results.map((r) => [r.name, r]))
  for (const r of results) {
    const base = r.costOf && byName.get(r.costOf)
    for (const m of modes) {
      const a = r.median[m]
      const b = base?.median[m]
      if (a && b) out.push(`cost of ${r.name} over ${base.name} (${m}): ${(1e9 / a - 1e9 / b).toFixed(0)} ns per request`)
    }
  }
  out.push('')

  const problems = []
  for (const r of results) {
    for (const m of modes) {
      for (const x of r.runs[m] || []) {
        for (const f of x.error ? [x.error] : x.flags) problems.push(`  ${r.name} ${m} round ${x.round}: ${f}`)
      }
    }
  }
  if (problems.length) out.push('FLAGGED:', ...problems, '')

  // The load tool must not be the limit; when it was, the number is a lower
  // bound for that server (expected for the ceiling, a problem for anything else).
  // Other processes on the server's CPU make a run noise, not a measurement.
  const bound = []
  const noisy = []
  for (const r of results) {
    for (const m of modes) {
      for (const x of r.runs[m] || []) {
        if (x.cpu?.wrk >= 0.95 && x.cpu?.server < 0.9) bound.push(`${r.name} ${m} round ${x.round}`)
        if (x.cpu?.others >= 0.1) noisy.push(`${r.name} ${m} round ${x.round} (${Math.round(x.cpu.others * 100)}%)`)
      }
    }
  }
  if (bound.length) out.push(`wrk-bound (wrk CPU >= 95%, server CPU < 90%): ${bound.join(', ')}`, '')
  // Peers (case.tolerateTimeouts) whose pipelined connections waited past
  // wrk's 2 s: their tail, listed, not flagged (the throughput still counts).
  const starved = []
  for (const r of results) {
    if (!r.tolerateTimeouts) continue
    for (const m of modes) {
      for (const x of r.runs[m] || []) if (x.errors?.timeout) starved.push(`${r.name} ${m} round ${x.round} (${x.errors.timeout})`)
    }
  }
  if (starved.length) out.push(`peer timeouts (batches not answered within wrk's 2 s; not flagged for peers): ${starved.join(', ')}`, '')
  if (noisy.length) out.push(`noisy (other processes took >= 10% of the server's CPU): ${noisy.join(', ')}`, '')
  return { text: out.join('\n'), problems: problems.length }
}

module.exports = { median, summarize, print, table }
