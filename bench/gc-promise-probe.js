'use strict'
// The GC probe of issue 10: why young objects get promoted on /fortunes.
//
//   node bench/gc-promise-probe.js            shapes only (no database), about 50 s
//   node bench/gc-promise-probe.js --driver   and 3 rounds of the `postgres` driver alone
//
// Each shape runs in its own `node --trace-gc-nvp` child on CPU 0: 128 async loops, each
// creating a promise, putting it in a FIFO that a setImmediate "server" resolves with 12 rows,
// awaiting it, then sleeping 15 ms (about 8,000 promises/s, the rate of the /fortunes runs).
// It prints the mean bytes promoted per scavenge and the mark-compacts (second half of the run).
//   control: the promise carries its own resolve function  (p.resolve = resolve)
//   closure: it carries a closure made in the scope that captured resolve
//            (p.resolve = (x) => resolve(x)): the shape of postgres.js 3.4's Query;
//            4.x stores its resolve functions themselves (the control shape)
//   wrapped: the same closure, on an object that holds the promise instead
// `--driver` runs the same loop over the real driver (bench/lib/pg.js starts PostgreSQL, CPU 1),
// no HTTP server at all, with --trace-opt: it also counts the aborted TurboFan compiles of
// the driver's Query constructor, and prints whether every round stayed under 100 KB.
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { pinning, pinned } = require('./lib/tools')

const LOOPS = 128
const SECONDS = Number(process.env.PROBE_SECONDS || 8)
// The probe on CPU 0, PostgreSQL on CPU 1; unpinned (with a warning) without taskset or a second CPU.
const pin = pinning([0, 1])

if (process.argv[2] === '--child') {
  child(process.argv[3]).catch((err) => { console.error(err); process.exit(1) })
} else {
  main().catch((err) => { console.error(err); process.exit(1) })
}

async function child (shape) {
  const end = Date.now() + SECONDS * 1000
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  let next
  if (shape === 'driver') {
    const postgres = require('./lib/pg').loadDriver()
    const sql = postgres(process.env.DATABASE_URL, { max: 1, idle_timeout: 0, onnotice: () => {}, fetch_types: false })
    next = () => sql`SELECT id, message FROM fortune`
  } else {
    const fifo = []
    let timer = null
    const serve = () => {
      timer = null
      for (const r of fifo.splice(0, fifo.length)) {
        const rows = []
        for (let i = 0; i < 12; i++) rows.push({ id: i, message: `fortune ${i} ${Math.random()}`.slice(0, 30) })
        r.resolve(rows)
      }
    }
    const queue = (r) => { fifo.push(r); if (timer === null) timer = setImmediate(serve) }
    // Written out one by one on purpose: the closure has to be made in the scope that captured
    // resolve (a shared helper would move it to another scope and change the shape measured).
    next = {
      control: () => { let resolve; const p = new Promise((a) => { resolve = a }); p.resolve = resolve; queue(p); return p },
      closure: () => { let resolve; const p = new Promise((a) => { resolve = a }); p.resolve = (x) => resolve(x); queue(p); return p },
      wrapped: () => { let resolve; const p = new Promise((a) => { resolve = a }); queue({ p, resolve: (x) => resolve(x) }); return p },
    }[shape]
    if (next === undefined) throw new Error(`unknown shape ${shape}`)
  }
  let n = 0
  const loop = async () => { while (Date.now() < end) { await next(); n++; await sleep(15) } }
  await Promise.all(Array.from({ length: LOOPS }, loop))
  console.log(`probe: ${n} promises`)
  process.exit(0)
}

function run (flags, shape, env = process.env) {
  const [cmd, ...args] = pinned(pin, 0, [process.execPath, '--trace-gc-nvp', ...flags, __filename, '--child', shape])
  const out = execFileSync(cmd, args,
    { env, encoding: 'latin1', maxBuffer: 1 << 30, cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] })
  const lines = out.split('\n')
  const half = lines.slice(Math.floor(lines.length / 2))
  let scavenges = 0, promoted = 0, mc = 0
  for (const l of half) {
    if (/ gc=mc /.test(l)) mc++
    const m = / gc=s .* promoted=(\d+)/.exec(l)
    if (m) { scavenges++; promoted += Number(m[1]) }
  }
  const aborted = lines.filter((l) => /aborted optimizing .*<JSFunction Query /.test(l)).length
  const count = (lines.find((l) => l.startsWith('probe:')) || 'probe: ? promises').slice(7)
  return { count, scavenges, promotedKB: scavenges ? promoted / scavenges / 1024 : NaN, mc, aborted }
}

async function main () {
  const fmt = (r) => `${r.count}, ${r.scavenges} scavenges, ${r.promotedKB.toFixed(0)} KB promoted per scavenge, ${r.mc} mark-compacts`
  console.log(`node ${process.version}, V8 ${process.versions.v8}; ${LOOPS} loops, ${SECONDS} s per run, ${pin.warning ?? 'CPU 0'}`)
  for (const flags of [['--jitless'], []]) {
    for (const shape of ['control', 'closure', 'wrapped']) {
      console.log(`${(flags.join(' ') || 'default').padEnd(9)} ${shape.padEnd(8)} ${fmt(run(flags, shape))}`)
    }
  }
  if (!process.argv.includes('--driver')) return
  const { startPostgres } = require('./lib/pg.js')
  const db = await startPostgres({ prefix: pinned(pin, 1, []) })
  try {
    let worst = 0
    for (let round = 1; round <= 3; round++) {
      const r = run(['--trace-opt'], 'driver', { ...process.env, DATABASE_URL: db.url })
      worst = Math.max(worst, r.promotedKB)
      console.log(`driver    round ${round}  ${fmt(r)}; Query compiles aborted: ${r.aborted}`)
    }
    console.log(`driver: ${worst < 100 ? 'no round' : 'a round'} promoted 100 KB or more per scavenge (worst ${worst.toFixed(0)} KB)`)
  } finally {
    await db.stop()
  }
}
