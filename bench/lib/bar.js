'use strict'
// The bar of the issue "Async handlers at the speed of sync ones", checked
// against the medians of this run: every ratio divides two cases measured in
// the same run, so the machine's state cancels out as far as it can. An item
// whose cases were not run (BENCH_ONLY) or all failed reads n/a, neither PASS
// nor FAIL. The bar is a performance target: missing it prints FAIL but does
// not change the exit code (flagged or failed runs do).
const { median, table } = require('./report')

// A run is wrk-bound when the load tool's CPU was full and the server's was
// not, noisy when other processes took 10% or more of the server's CPU (as in report.js).
const wrkBound = (x) => x.cpu?.wrk >= 0.95 && x.cpu?.server < 0.9
const noisy = (x) => x.cpu?.others >= 0.1

const ASYNC_ROUTES = ['salvo-async', 'salvo-immediate', 'salvo-async-json']
const WRITES_PER_READ_MAX = 1.05

/** The bar's items: { what, kind: 'rps' | 'ratio' | 'writes/read', a, b?, mode, min? | max? }. */
function items () {
  const out = [
    { what: 'sync hello pipelined', kind: 'rps', a: 'salvo', mode: 'pipelined', min: 1e6 },
    { what: 'sync hello pipelined / ceiling', kind: 'ratio', a: 'salvo', b: 'ceiling', mode: 'pipelined', min: 0.6 },
    { what: 'async hello pipelined', kind: 'rps', a: 'salvo-async', mode: 'pipelined', min: 1e6 },
    { what: 'async / sync hello, pipelined', kind: 'ratio', a: 'salvo-async', b: 'salvo', mode: 'pipelined', min: 0.8 },
    { what: 'async / sync hello, plain', kind: 'ratio', a: 'salvo-async', b: 'salvo', mode: 'plain', min: 0.9 },
    { what: 'setImmediate / sync hello, pipelined', kind: 'ratio', a: 'salvo-immediate', b: 'salvo', mode: 'pipelined', min: 0.6 }
  ]
  for (const name of ASYNC_ROUTES) {
    for (const mode of ['pipelined', 'plain']) {
      out.push({ what: `writes/read ${name} ${mode}`, kind: 'writes/read', a: name, mode, max: WRITES_PER_READ_MAX })
    }
  }
  out.push(
    { what: 'stream salvo / node:http, plain', kind: 'ratio', a: 'salvo-stream', b: 'node-http-stream', mode: 'plain', min: 2 },
    { what: 'stream salvo / node:http, pipelined', kind: 'ratio', a: 'salvo-stream', b: 'node-http-stream', mode: 'pipelined', min: 2 }
  )
  return out
}

/** Median over rounds of writes/read from the server's own reports, or null. */
function writesPerRead (r, mode) {
  const reps = (r?.runs[mode] || []).map((x) => x.server).filter((s) => s && s.reads)
  return median(reps.map((s) => s.writes / s.reads))
}

/**
 * Evaluates the bar on summarized results. `cases` are the case definitions
 * (cases.js): an item whose cases do not define its mode (a load they do not
 * run) is left out; one whose cases were not run reads n/a.
 */
function evaluate (results, cases) {
  const defined = new Map(cases.map((c) => [c.name, c]))
  const byName = new Map(results.map((r) => [r.name, r]))
  // Whether most measured runs of a case and mode were `what`.
  const most = (what, name, mode) => {
    const runs = (byName.get(name)?.runs[mode] || []).filter((x) => x.rps !== undefined)
    return runs.length > 0 && runs.filter(what).length * 2 > runs.length
  }
  const out = []
  for (const it of items()) {
    const a = byName.get(it.a)
    const b = it.b && byName.get(it.b)
    if ([it.a, it.b].filter(Boolean).some((n) => !defined.get(n)?.loads[it.mode])) continue
    let value = null
    if (it.kind === 'rps') value = a?.median[it.mode] ?? null
    else if (it.kind === 'ratio') {
      const x = a?.median[it.mode]
      const y = b?.median[it.mode]
      value = x && y ? x / y : null
    } else value = writesPerRead(a, it.mode)
    const pass = value === null ? null : it.min !== undefined ? value >= it.min : value <= it.max
    const notes = []
    // Counts do not depend on the machine's noise; rates do.
    for (const n of it.kind === 'writes/read' ? [] : [it.a, it.b].filter(Boolean)) {
      if (most(wrkBound, n, it.mode)) notes.push(`${n} wrk-bound`)
      if (most(noisy, n, it.mode)) notes.push(`${n} noisy`)
    }
    out.push({
      what: it.what,
      cases: [it.a, it.b].filter(Boolean),
      mode: it.mode,
      value,
      target: it.min !== undefined ? `>= ${it.min}` : `<= ${it.max}`,
      pass,
      notes
    })
  }
  return out
}

const num = (x) => Math.round(x).toLocaleString('en-US')

/**
 * Any bar as text: `title`, then one line per row [item, value, target,
 * pass (true | false | null: n/a)] with its note (may be ''), then the counts.
 */
function render (title, rows, rowNotes) {
  const body = rows.map(([what, value, target, pass]) => [what, value, target, pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL'])
  const notes = ['', ...rowNotes.map((n) => n ? `  (${n})` : '')]
  const pass = rows.filter((r) => r[3] === true).length
  const fail = rows.filter((r) => r[3] === false).length
  const na = rows.length - pass - fail
  return [
    title,
    table([['item', 'value', 'target', 'result'], ...body]).split('\n').map((line, i) => line + notes[i]).join('\n'),
    `bar: ${pass} PASS, ${fail} FAIL${na ? `, ${na} n/a (not run or failed)` : ''}`
  ].join('\n')
}

/** The bar as text: one line per item with its value, target, PASS/FAIL (n/a: not measured) and notes. */
function text (evaluated) {
  const byWhat = new Map(items().map((it) => [it.what, it]))
  const rows = evaluated.map((e) => {
    const it = byWhat.get(e.what)
    const value = e.value === null ? '-' : it.kind === 'rps' ? num(e.value) + ' req/s'
      : it.kind === 'ratio' ? e.value.toFixed(3) + 'x' : e.value.toFixed(3)
    const target = it.kind === 'rps' ? `>= ${num(it.min)} req/s` : it.kind === 'ratio' ? `>= ${it.min}x` : `<= ${it.max}`
    return [e.what, value, target, e.pass]
  })
  const notes = evaluated.map((e) => e.value === null ? '' : e.notes.join(', '))
  return render('the bar (issue "Async handlers at the speed of sync ones"), medians of this run:', rows, notes)
}

module.exports = { evaluate, text, items, render }
