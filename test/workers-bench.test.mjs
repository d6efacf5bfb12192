// npm run bench:workers's own parts (issue 12), without its minutes of load: the verdict on
// "CPU per request must not grow with the worker count" at a fixed rate (PASS, FAIL, n/a on
// hand-made figures), the /proc CPU sampling of worker threads against a real busy thread, and
// the bench itself in a tiny mode (1 round of 1 s runs at a low fixed rate) against real wrk,
// h2load and cluster() on 127.0.0.1: the shape of its output and JSON, never its numbers.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { cpuVerdict, rateArgv, MARGIN } = require('../bench/lib/workers-rate.js')
const { which } = require('../bench/lib/tools.js')
const root = fileURLToPath(new URL('..', import.meta.url))

t.test('the verdict: PASS within the margin, FAIL past it, n/a without a held rate', async (t) => {
  const one = { cpuMicrosPerRequest: 10, held: true }
  t.equal(MARGIN, 0.05, 'the margin the README states')
  const same = cpuVerdict(one, { cpuMicrosPerRequest: 10.4, held: true }, 2)
  t.equal(same.pass, true)
  t.match(same.line, /^PASS: CPU per request at a fixed rate, 2 workers vs 1: 10\.00 -> 10\.40 us \(1\.040x; must stay <= 1\.05x, 5 % noise margin\)/)
  const less = cpuVerdict(one, { cpuMicrosPerRequest: 8, held: true }, 2)
  t.equal(less.pass, true, 'less CPU per request passes')
  const grew = cpuVerdict(one, { cpuMicrosPerRequest: 10.6, held: true }, 3)
  t.equal(grew.pass, false)
  t.match(grew.line, /^FAIL: .*3 workers vs 1: .*1\.060x/)
  t.equal(cpuVerdict(one, { cpuMicrosPerRequest: 10.6, held: true }, 2, { margin: 0.1 }).pass, true, 'the margin is a parameter')
  const notHeld = cpuVerdict(one, { cpuMicrosPerRequest: 9, held: false }, 2)
  t.equal(notHeld.pass, null)
  t.match(notHeld.line, /^n\/a: .*the rate was not held/)
  t.equal(cpuVerdict(one, undefined, 2).pass, null, 'no N-worker figure')
  t.equal(cpuVerdict({ cpuMicrosPerRequest: NaN, held: true }, one, 2).pass, null, 'no 1-worker figure')
})

t.test('h2load argv: the total rate split over the clients, HTTP/1.1, 127.0.0.1', async (t) => {
  t.same(rateArgv('/usr/bin/h2load', { port: 8080, path: '/', rate: 50000, clients: 100, seconds: 5 }),
    ['/usr/bin/h2load', '--h1', '--rps=500', '-c100', '-t1', '-D5', '-N2s', 'http://127.0.0.1:8080/'])
})

t.test('worker threads are found and their CPU is read from /proc', async (t) => {
  // In a plain node process, as the bench runs (tap's --import loaders start threads of their
  // own in every worker, which come and go). A thread spins for 500 ms (wall time): its CPU shows in both
  // figures, the process's at least as large (within a tick a thread: the kernel rounds them apart).
  const script = `
    const { Worker } = require('node:worker_threads')
    const { workerTids, sampleCpu, cpuBetween, microsPerTick } = require(${JSON.stringify(path.join(root, 'bench/lib/workers-cpu.js'))})
    const src = 'const { parentPort } = require("node:worker_threads"); parentPort.once("message", () => { const end = Date.now() + 500; while (Date.now() < end); parentPort.postMessage("done") })'
    ;(async () => {
      const { result: w, tids } = await workerTids(async () => {
        const w = new Worker(src, { eval: true })
        await new Promise((resolve) => w.once('online', resolve))
        return w
      })
      const a = sampleCpu(tids)
      w.postMessage('go')
      await new Promise((resolve) => w.once('message', resolve))
      const d = cpuBetween(a, sampleCpu(tids))
      await w.terminate()
      console.log(JSON.stringify({ tids, d, tick: microsPerTick(), same: cpuBetween(a, a) }))
    })()`
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)))
  })
  const { tids, d, tick, same } = JSON.parse(out)
  t.equal(tids.length, 1, `the new thread found: ${tids}`)
  t.ok(d.workers >= 50_000, `the spinning thread's CPU is counted (${d.workers} us; at least 50,000 of 500,000 even on a busy machine)`)
  t.ok(d.process + tick * (tids.length + 1) >= d.workers, `the process figure includes it (${d.process} us)`)
  t.same(same, { process: 0, workers: 0 })
})

const wrk = which('wrk')
const h2load = which('h2load')
t.test('the bench in a tiny mode: every phase, the table and the verdict line', { skip: wrk && h2load ? false : 'needs wrk and h2load' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'salvo-workers-bench-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'workers.json')
  const env = { ...process.env, BENCH_ROUNDS: '1', BENCH_DURATION: '1', BENCH_WARMUP: '1', BENCH_RATE: '1000', BENCH_OUT: out }
  const r = await new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'bench/workers.js')], { cwd: root, env, timeout: 90_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.killed ? 'timeout' : err.code) : 0, stdout, stderr })
    })
  })
  t.equal(r.code, 0, `exit code (stderr: ${r.stderr})`)
  const text = r.stdout
  t.match(text, /nothing is pinned; the load tool shares the \d+ cores with the workers/, 'says the load tool shares the cores')
  t.match(text, /fixed rate: h2load --h1 -c100, plain keep-alive, 1000 req\/s \(BENCH_RATE\)/)
  for (const w of [1, 2]) {
    for (const phase of ['plain', 'pipelined']) {
      t.match(text, new RegExp(`round 1: ${w} worker\\(s\\), ${phase} +[\\d,]+ req/s, shares [\\d./% ]+, [\\d.]+ us CPU/request \\(workers [\\d.]+\\)`), `${w} worker(s), ${phase}`)
    }
    t.match(text, new RegExp(`round 1: ${w} worker\\(s\\), rate +[\\d,]+ req/s of 1,000, shares`), `${w} worker(s), fixed rate`)
  }
  t.match(text, /workers  load +req\/s +vs 1 worker +min share +CPU us\/request +vs 1 worker +workers us\/request/, 'the table header')
  t.match(text, /^(PASS|FAIL|n\/a): CPU per request at a fixed rate, 2 workers vs 1: /m, 'the verdict line')
  const json = JSON.parse(readFileSync(out, 'utf8'))
  t.same(Object.keys(json.summary).sort(), ['1/pipelined', '1/plain', '1/rate', '2/pipelined', '2/plain', '2/rate'])
  t.equal(json.config.rate, 1000)
  t.equal(json.config.margin, MARGIN)
  t.equal(json.summary['2/rate'].workers, 2)
  t.type(json.summary['1/rate'].cpuMicrosPerRequest, 'number')
  t.type(json.verdict.line, 'string')
})
