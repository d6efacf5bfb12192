'use strict'
// Parser micro-benchmark: ns per request head for salvo's parser (the sse42
// and the scalar path, both timed inside C++ by the addon's benchParse) and
// for Node's own llhttp (through _http_common's HTTPParser, timed in JS), on
// the same bytes.  Run: node bench/parser.js  (about 15 s).
//
// What each number includes:
//   sse42, scalar  parse_request() with room for 64 fields, result checked
//                  > 0; no JS strings are made (salvo decodes lazily).
//   llhttp         parser.execute(buf) with kOnHeadersComplete set, so
//                  llhttp parses the head and Node builds the header array,
//                  URL and method strings, as an http server does; the
//                  result of every execute is checked.
// So llhttp's figure is "what Node pays per head", not llhttp's C alone.
//
// Each measurement runs for ~MEASURE_MS; ROUNDS rounds rotate the order of
// the parsers; the table shows medians.  Results go to results/parser.json.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { HTTPParser } = require('_http_common')
const { BROWSER_GET, POST_HEAD } = require('./requests')

const addon = require(path.join(__dirname, '..', 'build', 'Release', 'salvo.node'))

const ROUNDS = Number(process.env.BENCH_ROUNDS || 7)
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS || 150)

const REQUESTS = [
  {
    name: 'small GET',
    head: 'GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n'
  },
  { name: 'browser GET', head: BROWSER_GET },
  { name: 'POST head', head: POST_HEAD }
]

// ---- salvo: the loop runs in C++, one call per measurement ----------------

function salvoNs (impl, buf, iterations) {
  return addon.benchParse(buf, impl, iterations) / iterations
}

// ---- llhttp ------------------------------------------------------------------

// One parser, reused.  A GET completes its message at the end of the head and
// llhttp waits for the next one, as on a keep-alive connection.  For the POST
// the head says Content-Length: 27 and the body is not in the buffer, so the
// callback answers 1 ("skip the body", what Node does for responses to HEAD);
// the message then completes at the end of the head too, and every execute
// parses exactly one head.
const parser = new HTTPParser()
let headersSeen = 0
let messagesSeen = 0
parser[HTTPParser.kOnHeaders] = () => {}
parser[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url) => {
  // Touch what Node's server reads, so nothing is optimized away.
  if (headers.length > 0 && url.length > 0 && major === 1) headersSeen++
  return 1
}
parser[HTTPParser.kOnBody] = () => {}
parser[HTTPParser.kOnMessageComplete] = () => { messagesSeen++ }
parser[HTTPParser.kOnExecute] = () => {}
parser.initialize(HTTPParser.REQUEST, {})

function llhttpNs (buf, iterations) {
  headersSeen = 0
  messagesSeen = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) {
    const r = parser.execute(buf)
    if (r !== buf.length) {
      throw new Error(`llhttp: execute returned ${r instanceof Error ? `${r.code}: ${r.message}` : r}, ` +
        `expected ${buf.length}`)
    }
  }
  const ns = Number(process.hrtime.bigint() - start)
  if (headersSeen !== iterations || messagesSeen !== iterations) {
    throw new Error(`llhttp: ${headersSeen} heads and ${messagesSeen} messages for ${iterations} executes`)
  }
  return ns / iterations
}

// ---- driver -------------------------------------------------------------------

const PARSERS = [
  { name: 'sse42', run: (buf, n) => salvoNs('sse42', buf, n), skip: !addon.cpuHasSse42() },
  { name: 'scalar', run: (buf, n) => salvoNs('scalar', buf, n) },
  { name: 'llhttp', run: (buf, n) => llhttpNs(buf, n) }
].filter((p) => !p.skip)

/** Iterations for about MEASURE_MS, from a short timed trial (also warm-up). */
function calibrate (p, buf) {
  let n = 1000
  for (;;) {
    const ns = p.run(buf, n) * n
    if (ns > 20e6 || n >= 1e8) return Math.max(1000, Math.round((n * MEASURE_MS * 1e6) / ns))
    n *= 4
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function main () {
  const t0 = Date.now()
  const loadBefore = os.loadavg()
  const results = []
  for (const req of REQUESTS) {
    const buf = Buffer.from(req.head, 'latin1')
    const iterations = {}
    const samples = {}
    for (const p of PARSERS) {
      iterations[p.name] = calibrate(p, buf)
      samples[p.name] = []
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < PARSERS.length; k++) {
        const p = PARSERS[(r + k) % PARSERS.length]
        samples[p.name].push(p.run(buf, iterations[p.name]))
      }
    }
    const medians = {}
    for (const p of PARSERS) medians[p.name] = median(samples[p.name])
    results.push({ request: req.name, bytes: buf.length, fields: req.head.split('\r\n').length - 3, iterations, medians, samples })
  }

  const fmt = (x) => (x === undefined ? '-' : x.toFixed(1))
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '-')
  const rows = [['request', 'bytes', 'fields', 'sse42 ns', 'scalar ns', 'llhttp ns', 'scalar/sse42', 'llhttp/sse42']]
  for (const r of results) {
    const m = r.medians
    rows.push([r.request, String(r.bytes), String(r.fields), fmt(m.sse42), fmt(m.scalar), fmt(m.llhttp),
      ratio(m.scalar, m.sse42), ratio(m.llhttp, m.sse42 ?? m.scalar)])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))

  const browser = results.find((r) => r.request === 'browser GET').medians
  const speedup = browser.sse42 ? browser.scalar / browser.sse42 : null
  console.log('')
  console.log(speedup
    ? `sse42 vs scalar on the browser GET: ${speedup.toFixed(2)}x faster (median of ${ROUNDS} rounds)`
    : 'sse42 skipped: this CPU has no SSE4.2')
  console.log(`ns per head, median of ${ROUNDS} rounds of ~${MEASURE_MS} ms; llhttp includes Node building the header strings`)

  const out = {
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model || 'unknown',
      cores: os.availableParallelism(),
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      llhttp: process.versions.llhttp,
      loadBefore,
      loadAfter: os.loadavg()
    },
    rounds: ROUNDS,
    measureMs: MEASURE_MS,
    sse42OverScalarBrowser: speedup,
    results,
    seconds: (Date.now() - t0) / 1000
  }
  const dir = path.join(__dirname, 'results')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'parser.json'), JSON.stringify(out, null, 2) + '\n')
  console.log(`wrote ${path.relative(process.cwd(), path.join(dir, 'parser.json'))} (${out.seconds.toFixed(1)} s)`)
}

main()
