'use strict'
// Instructions per request of one bench case, under callgrind: deterministic
// enough to A/B a change on a noisy shared machine, which wrk is not.
//
//   npm run bench:ir -- <case> [--rounds N] [--warmup N] [--conns N] [--depth N] [--top N] [--keep]
//   npm run bench:ir -- --tfb <salvo|fastify|node> <route> [same options]
//
// The case's server (bench/cases.js) runs under `valgrind --tool=callgrind`
// with SALVO_PARSER=scalar (valgrind does not emulate the SSE4.2 string
// instructions the parser uses) and --perf-basic-prof (V8 writes
// /tmp/perf-PID.map, which names the JIT code callgrind only knows by
// address). A client here, on 127.0.0.1, sends rounds: on each of `conns`
// connections one write of `depth` pipelined requests of the case, then it
// reads all `depth` answers. After `warmup` rounds (start-up, JIT tiers) the
// counters are zeroed (callgrind_control -z), then two phases of `rounds`
// rounds are each dumped (callgrind_control -d): instructions / requests of
// each phase is the marginal cost of a request, and the two phases agreeing
// says the figure is steady. The top functions (inclusive and self) of the
// second phase follow, JS frames named from the perf map.
//
// --tfb: a TechEmpower server of npm run bench:tfb (lib/tfb-config.js) on one
// of its routes (db, queries, fortunes, ...), against a throw-away PostgreSQL
// (lib/pg.js) with the bench's pool (TFB_POOL), one request per write (as the
// bench's DB loads) on 64 connections unless told. The figures count the
// server only; PostgreSQL runs outside valgrind.
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, execFileSync } = require('node:child_process')
const { CASES } = require('./cases')
const { freePort } = require('./lib/spawn')

const ROUND_MS = 60000 // one round under valgrind: far more than it takes, still bounded
const START_MS = 300000 // valgrind start-up on a loaded 2-core machine can take minutes

function parseArgs (argv) {
  const o = { name: null, tfb: null, rounds: null, warmup: null, conns: null, depth: null, top: 25, keep: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const num = () => {
      const v = Number(argv[++i])
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} takes a positive integer`)
      return v
    }
    if (a === '--rounds') o.rounds = num()
    else if (a === '--warmup') o.warmup = num()
    else if (a === '--conns') o.conns = num()
    else if (a === '--depth') o.depth = num()
    else if (a === '--top') o.top = num()
    else if (a === '--keep') o.keep = true
    else if (a === '--tfb') o.tfb = argv[++i]
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`)
    else if (o.name === null) o.name = a
    else throw new Error(`one case only (got ${o.name} and ${a})`)
  }
  if (o.name === null) throw new Error('usage: npm run bench:ir -- <case> [--rounds N] [--warmup N] [--conns N] [--depth N] [--top N] [--keep]\n       npm run bench:ir -- --tfb <server> <route> [options]\ncases: ' + CASES.filter((c) => c.server.endsWith('.js')).map((c) => c.name).join(' '))
  // Defaults: the pipelined hello load, or for --tfb the bench's DB load (one request per write;
  // 400 warm-up rounds: after 50, V8 was still compiling the driver's code in the measured phases).
  const d = o.tfb === null ? { rounds: 200, warmup: 100, conns: 10, depth: 24 } : { rounds: 100, warmup: 400, conns: 64, depth: 1 }
  for (const k of Object.keys(d)) if (o[k] === null) o[k] = d[k]
  return o
}

/** The bytes of one request of the case (the wire form wrk sends). */
function requestBytes (c, port) {
  const r = c.request || {}
  const method = r.method || 'GET'
  const headers = { Host: '127.0.0.1:' + port, ...(r.headers || {}) }
  const body = r.body === undefined ? '' : r.body
  if (body !== '' || method === 'POST') headers['Content-Length'] = String(Buffer.byteLength(body))
  let head = `${method} ${c.path} HTTP/1.1\r\n`
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
  return Buffer.from(head + '\r\n' + body)
}

/** One keep-alive connection that counts complete answers (Content-Length framing only). */
function connection (port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    const st = { port, sock, buf: Buffer.alloc(0), answers: 0, statuses: new Map(), first: null, waiter: null, error: null, closed: false }
    sock.on('data', (d) => {
      st.buf = st.buf.length === 0 ? d : Buffer.concat([st.buf, d])
      for (;;) {
        const end = st.buf.indexOf('\r\n\r\n')
        if (end === -1) break
        const head = st.buf.subarray(0, end).toString('latin1')
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
        if (m === null) { st.error = new Error('an answer without Content-Length: ' + head.split('\r\n')[0]); break }
        const total = end + 4 + Number(m[1])
        if (st.buf.length < total) break
        const status = head.slice(9, 12)
        st.statuses.set(status, (st.statuses.get(status) || 0) + 1)
        if (st.first === null) st.first = st.buf.subarray(0, total).toString('latin1')
        st.buf = st.buf.subarray(total)
        st.answers++
      }
      if (st.waiter !== null) st.waiter()
    })
    sock.on('error', (err) => { st.error = err; if (st.waiter !== null) st.waiter() })
    sock.on('close', () => {
      st.closed = true
      const seen = JSON.stringify(Object.fromEntries(st.statuses))
      st.error = st.error || new Error(`the server closed a connection after ${st.answers} answers (statuses ${seen}; unparsed: ${JSON.stringify(st.buf.subarray(0, 200).toString('latin1'))})`)
      if (st.waiter !== null) st.waiter()
    })
    sock.once('connect', () => resolve(st))
    sock.once('error', reject)
  })
}

let reopened = 0

/** A new connection in place of an idly closed one, keeping its counts. */
async function reopen (old) {
  const st = await connection(old.port)
  reopened++
  st.answers = old.answers
  st.statuses = old.statuses
  st.first = old.first
  return st
}

/** Resolves once the connection has `n` answers in all; rejects on error or after ms. */
function awaitAnswers (st, n, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { st.waiter = null; reject(new Error(`round timed out (${st.answers}/${n} answers)`)) }, ms)
    const check = () => {
      if (st.error !== null) { clearTimeout(timer); st.waiter = null; reject(st.error) } else if (st.answers >= n) { clearTimeout(timer); st.waiter = null; resolve() }
    }
    st.waiter = check
    check()
  })
}

/**
 * `count` rounds on every connection; each connection writes its next batch as soon as its
 * answers are in (as wrk's pipeline.lua does), so none sits idle past the server's
 * keep-alive timeout while a slow case (the logger under valgrind) answers the others.
 */
async function rounds (conns, batch, depth, count) {
  await Promise.all(conns.map(async (_, i) => {
    for (let r = 0; r < count; r++) {
      // Closed with every answer in: the server's keep-alive timeout, which a
      // callgrind_control call (it stops the process for seconds) can outlast.
      if (conns[i].closed && conns[i].buf.length === 0) conns[i] = await reopen(conns[i])
      const st = conns[i]
      st.sock.write(batch)
      await awaitAnswers(st, st.answers + depth, ROUND_MS)
    }
  }))
}

function control (pid, flag) {
  execFileSync('callgrind_control', [flag, String(pid)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 })
}

/** Ir of a callgrind dump: its `summary:` or `totals:` line. */
function totalIr (file) {
  const text = fs.readFileSync(file, 'utf8')
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(text)
  if (m === null) throw new Error('no totals in ' + file)
  return Number(m[1])
}

/** JIT code ranges of V8's perf map, sorted, for naming callgrind's address-only functions. */
function readPerfMap (pid) {
  const file = `/tmp/perf-${pid}.map`
  if (!fs.existsSync(file)) return null
  const ranges = []
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line)
    if (m !== null) ranges.push([parseInt(m[1], 16), parseInt(m[2], 16), m[3]])
  }
  ranges.sort((a, b) => a[0] - b[0])
  return { file, ranges }
}

function nameOf (map, addr) {
  const r = map.ranges
  let lo = 0
  let hi = r.length - 1
  let hit = -1
  while (lo <= hi) { // the last range starting at or before addr
    const mid = (lo + hi) >> 1
    if (r[mid][0] <= addr) { hit = mid; lo = mid + 1 } else hi = mid - 1
  }
  // A later entry for the same address wins (V8 reuses code space): the sort is stable, so `hit` is the newest.
  if (hit >= 0 && addr < r[hit][0] + r[hit][1]) return r[hit][2]
  return null
}

/**
 * Rewrites a callgrind dump so that address-only function names (JIT code)
 * carry their perf-map names: `fn=(id) 0x...` becomes `fn=(id) JS name`.
 * Several addresses of one JS function then share its name, and
 * callgrind_annotate adds them up.
 */
function nameJit (file, map) {
  const out = file + '.named'
  const text = fs.readFileSync(file, 'utf8')
  const ids = new Map()
  const named = text.replace(/^((?:c?fn)=\((\d+)\))(?: (0x[0-9a-fA-F]+))?$/gm, (all, lead, id, addr) => {
    if (addr === undefined) return ids.has(id) ? lead : all
    const name = nameOf(map, parseInt(addr, 16))
    if (name === null) return all
    ids.set(id, true)
    return `${lead} ${name.replace(/\s+/g, '_')}`
  })
  fs.writeFileSync(out, named)
  return out
}

function annotate (file, inclusive, top) {
  const args = ['--threshold=100', inclusive ? '--inclusive=yes' : '--inclusive=no', file]
  const text = execFileSync('callgrind_annotate', args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120000 })
  const lines = text.split('\n')
  const start = lines.findIndex((l) => /file:function/.test(l))
  return lines.slice(start + 1).filter((l) => l.trim() !== '').slice(0, top)
}

/** A case of bench/cases.js: its server file, with its node options. */
function benchCase (name) {
  const c = CASES.find((x) => x.name === name)
  if (c === undefined) throw new Error(`no case ${name} in bench/cases.js`)
  if (!c.server.endsWith('.js')) throw new Error(`${name} is not a node server`)
  return { c, env: {}, stop: async () => {}, argvOf: (opts) => [process.execPath, ...opts, ...(c.nodeArgs || []), path.join(__dirname, c.server)] }
}

/** A TechEmpower server and route of npm run bench:tfb, with a PostgreSQL started for it. */
async function tfbCase (serverName, routeName) {
  const { SERVERS, ROUTES, readTfbConfig } = require('./lib/tfb-config')
  const { startPostgres } = require('./lib/pg')
  const s = SERVERS.find((x) => x.name === serverName)
  if (s === undefined) throw new Error(`--tfb: no server ${serverName}; known: ${SERVERS.map((x) => x.name).join(' ')}`)
  const r = ROUTES.find((x) => x.name === routeName)
  if (r === undefined) throw new Error(`--tfb: no route ${routeName}; known: ${ROUTES.map((x) => x.name).join(' ')}`)
  const { pool } = readTfbConfig(process.env, [])
  const db = await startPostgres()
  process.on('exit', () => db.killSync())
  console.log(`tfb ${s.name} ${r.path}: PostgreSQL on ${db.port}, pool ${pool}`)
  return {
    c: { name: `tfb-${s.name}-${r.name}`, path: r.path, expect: { status: 200 } },
    env: { DATABASE_URL: db.url, TFB_POOL: String(pool) },
    stop: () => db.stop(),
    argvOf: (opts) => [s.argv[0], ...opts, ...s.argv.slice(1)]
  }
}

async function main () {
  const o = parseArgs(process.argv.slice(2))
  const { c, argvOf, env, stop } = o.tfb === null ? benchCase(o.name) : await tfbCase(o.tfb, o.name)
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'salvo-ir-'))
  tmpDir = dir
  keepDir = o.keep
  const outFile = path.join(dir, 'callgrind.out')
  const argv = [
    '--tool=callgrind', `--callgrind-out-file=${outFile}`, '--vgdb=yes',
    ...argvOf(['--perf-basic-prof'])
  ]
  const server = spawn('valgrind', argv, {
    cwd: __dirname,
    env: { ...process.env, ...env, PORT: String(port), SALVO_PARSER: 'scalar' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  server.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8192) })
  serverStderr = () => stderr
  const kill = () => {
    if (server.exitCode === null) server.kill('SIGKILL')
    fs.rmSync(`/tmp/perf-${server.pid}.map`, { force: true })
  }
  process.on('exit', kill)
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not listen in time: ' + stderr)), START_MS)
    let out = ''
    server.stdout.on('data', (d) => {
      out += d
      if (/listening (\d+|on http)/.test(out)) { clearTimeout(timer); resolve() }
    })
    server.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${stderr}`)) })
  })
  await listening
  const pid = server.pid
  const batch = Buffer.concat(Array.from({ length: o.depth }, () => requestBytes(c, port)))
  const conns = []
  for (let i = 0; i < o.conns; i++) conns.push(await connection(port))
  const perRound = o.conns * o.depth
  await rounds(conns, batch, o.depth, o.warmup)
  const check = conns[0]
  if (c.expect !== undefined) {
    const want = String(c.expect.status)
    const body = check.first.slice(check.first.indexOf('\r\n\r\n') + 4)
    if (!check.first.startsWith('HTTP/1.1 ' + want) || (c.expect.body !== undefined && body !== c.expect.body)) {
      throw new Error(`unexpected answer: ${JSON.stringify(check.first)}`)
    }
  }
  control(pid, '-z')
  const figures = []
  for (let phase = 0; phase < 2; phase++) {
    await rounds(conns, batch, o.depth, o.rounds)
    control(pid, '-d')
  }
  const statuses = {}
  for (const st of conns) for (const [k, v] of st.statuses) statuses[k] = (statuses[k] || 0) + v
  for (const st of conns) st.sock.destroy()
  const map = readPerfMap(pid)
  server.kill('SIGKILL')
  await new Promise((resolve) => server.once('close', resolve))
  const dumps = fs.readdirSync(dir).filter((f) => /^callgrind\.out\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
  if (dumps.length < 2) throw new Error('expected two dumps, got ' + dumps.join(', '))
  for (const d of dumps.slice(0, 2)) figures.push(totalIr(path.join(dir, d)) / (o.rounds * perRound))
  console.log(`${o.name}: ${o.conns} conns x ${o.depth} pipelined, ${o.warmup} warm-up rounds, 2 phases of ${o.rounds} rounds (${o.rounds * perRound} requests each); answers ${JSON.stringify(statuses)}`)
  if (reopened) console.log(`(${reopened} connection(s) reopened after an idle close)`)
  console.log(`Ir/request: ${figures.map((f) => f.toFixed(0)).join(', ')}  (mean ${((figures[0] + figures[1]) / 2).toFixed(0)})`)
  let last = path.join(dir, dumps[1])
  if (map !== null) last = nameJit(last, map)
  else console.log('(no perf map: JS frames are addresses)')
  const scale = o.rounds * perRound
  // The totals count every thread: V8's background GC (concurrent marking, sweeping) lands in
  // one phase or the other. The main thread's share (`main` inclusive) varies less.
  const mainLine = annotate(last, true, 40).find((l) => /\?\?\?:main \[/.test(l))
  if (mainLine !== undefined) console.log(`main thread, phase 2: ${(Number(mainLine.trim().split(/\s+/)[0].replace(/,/g, '')) / scale).toFixed(0)} Ir/request`)
  for (const inclusive of [true, false]) {
    console.log(`\ntop functions, ${inclusive ? 'inclusive' : 'self'} (Ir per request, phase 2):`)
    let shown = 0
    for (const l of annotate(last, inclusive, o.top + 12)) {
      const m = /^\s*([\d,]+)\s+(\([^)]*\))?\s*(.*)$/.exec(l)
      if (m === null) continue
      const ir = Number(m[1].replace(/,/g, '')) / scale
      // The frames that were on the stack at the zeroing (main, the event loop) show the whole total as their
      // own cost in a dump after callgrind_control -z: not a function's self cost, left out.
      if (!inclusive && ir > 0.9 * figures[1]) continue
      // Inclusive: the frames above the addon's read callback (main, the event loop, V8's call entry) say nothing.
      if (inclusive && /(libc_start|below main|ld-linux|node::|uv_run|uv__io_poll|uv__stream_io|uv__read|Builtins_JSEntry|Builtins_Call(Function)?_ReceiverIsAny|v8::Function::Call|Execution::Call|anonymous namespace.::Invoke)/.test(m[3])) continue
      if (shown++ === o.top) break
      console.log(`${ir.toFixed(0).padStart(8)}  ${m[3].slice(0, 150)}`)
    }
  }
  if (o.keep) console.log('\ndumps kept in ' + dir)
  else fs.rmSync(dir, { recursive: true, force: true })
  if (map !== null) fs.rmSync(map.file, { force: true })
  await stop()
}

let tmpDir = null
process.on('exit', () => { if (tmpDir !== null && !keepDir) fs.rmSync(tmpDir, { recursive: true, force: true }) })
let keepDir = false

let serverStderr = () => ''

main().catch((err) => {
  console.error(err.message)
  const tail = serverStderr().split('\n').filter((l) => !/^==\d+==/.test(l)).join('\n').trim()
  if (tail !== '') console.error('server stderr:\n' + tail.slice(-4000))
  process.exit(1)
})
