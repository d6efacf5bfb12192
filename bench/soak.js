'use strict'
// Soak test: salvo under sustained pipelined load while it holds many idle
// keep-alive connections. Does it keep answering quickly, keep every idle
// connection, and give its memory back?
//
//   node bench/soak.js                              60 s of load, 10,000 idle connections
//   SOAK_DURATION=20 SOAK_IDLE=2000 node bench/soak.js
//
// 1. start bench/servers/soak-salvo.js on CPU 0 with `ulimit -n` raised;
// 2. open SOAK_IDLE idle connections from a child process (its own raised
//    limit), each after one answered request; they stay idle to the end;
// 3. warm up (SOAK_WARMUP s of the same load), settle, RSS "before";
// 4. wrk -t1 -c100 -s pipeline.lua (24 deep) on CPU 1 for SOAK_DURATION s,
//    while a probe times one plain request every 100 ms on its own
//    connection and the server's RSS is sampled (peak);
// 5. settle SOAK_SETTLE s, RSS "after"; are the idle connections all still
//    open, and does each still answer a request?
// Exit 1 on any error (wrk socket errors or status >= 400, probe failures,
// idle connections lost or not answering, sanity checks, a crash) or when RSS
// after > 1.10 x before; 2 when the test could not run. Results:
// bench/results/soak.json.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { DEPTH, pipelined } = require('./cases')
const { which, pinning, pinned } = require('./lib/tools')
const { startServer, freePort, killAll } = require('./lib/spawn')
const { check } = require('./lib/check')
const { runWrk, flags } = require('./lib/wrk')
const { machine } = require('./lib/machine')
const cpu = require('./lib/cpu')
const { memory, schedstat, fdLimit, fdCount, withFdLimit, startHolder } = require('./lib/soak-proc')
const { startProbe, percentile } = require('./lib/soak-probe')

const RESULTS = path.join(__dirname, 'results', 'soak.json')
const SERVER = path.join(__dirname, 'servers', 'soak-salvo.js')
// What soak-salvo.js serves, in the shape bench/lib/check.js takes.
const HELLO = { name: 'soak-salvo', path: '/', expect: { status: 200, body: 'Hello world!' } }
const SERVER_CPU = 0
const WRK_CPU = 1
const CONNECTIONS = 100
const MAX_RSS_RATIO = 1.10
const SAMPLE_MS = 100 // RSS and scheduler sampling during the load
const SLOW_MS = 200 // probe answers slower than this are looked into
const FD_MARGIN = 1024 // fds beyond the idle connections (wrk, probe, checks, node itself)

function intEnv (name, fallback, min) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`)
  return n
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const mb = (kb) => Number.isFinite(kb) ? (kb / 1024).toFixed(1) + ' MB' : '-'
const ms = (x) => x === null || x === undefined ? '-' : x.toFixed(2) + ' ms'
const pct = (x) => x === null ? '-' : Math.round(x * 100) + '%'
const reasons = (r) => Object.entries(r).map(([k, v]) => `${v} x ${k}`).join(', ')

/** Asks the server for a memoryUsage() line (SIGUSR2); null if none within 2 s. */
async function serverReport (server) {
  const seen = server.lines.length
  try { server.child.kill('SIGUSR2') } catch { return null }
  const deadline = Date.now() + 2000
  while (Date.now() < deadline) {
    for (const line of server.lines.slice(seen)) {
      if (!line.startsWith('{')) continue
      try {
        const msg = JSON.parse(line)
        if (msg.report === 'SIGUSR2') return msg
      } catch {}
    }
    await sleep(20)
  }
  return null
}

/** RSS and the server's own report at one point of the run. */
async function snapshot (server, label, log) {
  const mem = memory(server.child.pid)
  const report = await serverReport(server)
  const m = report?.memory
  const s = report?.stats
  log(`  RSS ${label}: ${mb(mem?.rssKb)}` +
    (m ? ` (heap ${mb(m.heapUsed / 1024)} of ${mb(m.heapTotal / 1024)}, external ${mb(m.external / 1024)}, arrayBuffers ${mb(m.arrayBuffers / 1024)})` : '') +
    (s ? `, ${s.connections} connections, ${s.slabs} slabs, ${s.requests.toLocaleString('en-US')} requests` : '') +
    (report?.loopDelay ? `; event-loop delay since the last report max ${ms(report.loopDelay.maxMs)}` : ''))
  return { label, at: new Date().toISOString(), rssKb: mem?.rssKb ?? null, hwmKb: mem?.hwmKb ?? null, fds: fdCount(server.child.pid), report }
}

/**
 * Which build was soaked: the addon and dist/ change under a working tree
 * (a rebuild mid-run is a different server), so record their times and the commit.
 */
function buildInfo () {
  const root = path.join(__dirname, '..')
  const mtime = (f) => { try { return fs.statSync(path.join(root, f)).mtime.toISOString() } catch { return null } }
  let commit = null
  let dirty = null
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', timeout: 5000 }).trim()
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'native'], { cwd: root, encoding: 'utf8', timeout: 5000 }).trim() !== ''
  } catch {}
  return { commit, dirty, addon: mtime('build/Release/salvo.node'), dist: mtime('dist/index.js') }
}

/**
 * What the server did while slow probe requests waited, from the scheduler
 * samples [tMs, rssKb, runMs, waitMs] around [from, to] (ms since the load
 * started): ran, waited for a CPU (starved by other processes), or slept
 * (idle in epoll with a request pending: the server's own doing).
 */
function attribute (samples, from, to) {
  let a = null
  let b = null
  for (const x of samples) {
    if (x[0] <= from) a = x
    if (x[0] >= to) { b = x; break }
  }
  if (!a || !b || b[0] === a[0]) return null
  const span = b[0] - a[0]
  const run = b[2] - a[2]
  const wait = b[3] - a[3]
  return { spanMs: span, ranMs: Math.round(run), waitedMs: Math.round(wait), sleptMs: Math.max(0, Math.round(span - run - wait)) }
}

function alive (child) {
  return child.exitCode === null && child.signalCode === null
}

async function main () {
  const config = {
    duration: intEnv('SOAK_DURATION', 60, 1),
    idle: intEnv('SOAK_IDLE', 10000, 0),
    warmup: intEnv('SOAK_WARMUP', 5, 0),
    settle: intEnv('SOAK_SETTLE', 5, 0),
    connections: CONNECTIONS,
    depth: DEPTH,
    probeIntervalMs: 100,
    maxRssRatio: MAX_RSS_RATIO,
    serverCpu: SERVER_CPU,
    wrkCpu: WRK_CPU
  }
  const log = console.log
  const wrk = which('wrk')
  if (!wrk) {
    console.error("wrk not found: install it with 'apt-get install -y wrk' (Debian/Ubuntu)")
    process.exit(2)
  }
  const pin = pinning([SERVER_CPU, WRK_CPU])
  if (pin.warning) console.warn(`warning: ${pin.warning}`)
  const tools = { wrk, pin }
  const info = machine(wrk)
  log(`${info.cpu}, ${info.cores} cores, ${info.kernel}, node ${info.node}, ${info.wrk}`)
  log(`note: a shared ${info.cores}-core machine. The server is pinned to CPU ${SERVER_CPU} and wrk to CPU ${WRK_CPU};` +
    ' the idle-connection holder, the latency probe and this script are not pinned and share the CPUs with them,' +
    ' so probe latencies include waiting for a CPU, and other tenants add noise.')
  info.busyBefore = await cpu.busyFor(500)
  log(`load average ${info.loadBefore.map((x) => x.toFixed(2)).join(' ')}; CPU busy before start: ${info.busyBefore.map((x, i) => `cpu${i} ${pct(x)}`).join(', ')}`)
  if (info.busyBefore.some((x) => x > 0.1)) console.warn('warning: other processes are using the CPUs; expect noise')
  log(`soak: ${config.idle.toLocaleString('en-US')} idle connections, wrk -t1 -c${CONNECTIONS} pipelined x${DEPTH} for ${config.duration} s` +
    ` (after ${config.warmup} s warm-up), probe every ${config.probeIntervalMs} ms`)

  const errors = [] // each a line of text: any makes the exit code 1
  const build = buildInfo()
  log(`salvo ${build.commit ?? '?'}${build.dirty ? ' (src/native modified)' : ''}, addon built ${build.addon ?? '?'}, dist built ${build.dist ?? '?'}`)
  const out = { date: new Date().toISOString(), machine: info, build, pinned: Boolean(pin.taskset), config, errors }
  let server = null
  let holder = null
  const fdWanted = Math.max(65536, config.idle + FD_MARGIN)
  cleanups.push(() => holder?.kill())

  try {
    // 1. server
    const port = await freePort()
    out.port = port
    server = await startServer(pinned(pin, SERVER_CPU, withFdLimit(fdWanted, [process.execPath, SERVER])), { port, cwd: __dirname })
    const pid = server.child.pid
    out.server = { pid, fdLimit: fdLimit(pid) }
    log(`server pid ${pid} on 127.0.0.1:${port}, fd limit ${out.server.fdLimit}`)
    if (!(out.server.fdLimit >= config.idle + FD_MARGIN)) {
      throw new Error(`server fd limit ${out.server.fdLimit} < ${config.idle + FD_MARGIN} needed for ${config.idle} idle connections`)
    }
    const first = await check(port, HELLO, DEPTH)
    out.checkBefore = first
    if (first.problems.length) throw new Error(`sanity check failed: ${first.problems.join('; ')}`)
    out.snapshots = [await snapshot(server, 'at start', log)]

    // 2. idle connections
    if (config.idle > 0) {
      holder = startHolder(withFdLimit(fdWanted, []), { port, count: config.idle, body: HELLO.expect.body })
      const t = Date.now()
      const opened = await holder.next('opened', 180000)
      out.idle = { holderPid: holder.child.pid, holderFdLimit: fdLimit(holder.child.pid), opened }
      log(`idle: ${opened.open.toLocaleString('en-US')}/${opened.requested.toLocaleString('en-US')} connections open and answered in ${((Date.now() - t) / 1000).toFixed(1)} s` +
        ` (holder fd limit ${out.idle.holderFdLimit})`)
      if (opened.failed.count) {
        errors.push(`idle connections: ${opened.failed.count} of ${opened.requested} could not be opened (${reasons(opened.failed.reasons)})`)
      }
      const s = await snapshot(server, 'with idle connections', log)
      out.snapshots.push(s)
      const start = out.snapshots[0].rssKb
      if (opened.open && s.rssKb && start) {
        out.idle.rssPerConnectionBytes = Math.round((s.rssKb - start) * 1024 / opened.open)
        log(`  ${out.idle.rssPerConnectionBytes} bytes of server RSS per idle connection`)
      }
    }

    // 3. warm-up (JIT, slab pool, output arena reach their working size), settle, "before"
    const opts = { port, path: HELLO.path, threads: 1, connections: CONNECTIONS, cpu: WRK_CPU }
    if (config.warmup) {
      const w = await runWrk(tools, pipelined(), { ...opts, seconds: config.warmup })
      log(`warm-up: ${Math.round(w.rps).toLocaleString('en-US')} req/s for ${config.warmup} s`)
      out.warmup = w
      await sleep(config.settle * 1000)
    }
    const before = await snapshot(server, 'before the load', log)
    out.snapshots.push(before)

    // 4. the load, the probe, RSS samples
    log(`load: ${config.duration} s ...`)
    const samples = [] // [ms since the load started, rssKb, runMs, waitMs]
    let serverGone = false
    const loadStart = Date.now()
    const sample = () => {
      const m = memory(pid)
      const sch = schedstat(pid)
      if (!m || !sch) { serverGone = true; return }
      samples.push([Date.now() - loadStart, m.rssKb, Math.round(sch.runMs * 10) / 10, Math.round(sch.waitMs * 10) / 10])
    }
    sample()
    const sampler = setInterval(sample, SAMPLE_MS)
    const probe = startProbe({ port, expect: HELLO.expect, intervalMs: config.probeIntervalMs })
    const [t0, p0] = [cpu.sample(), cpu.processTicks(pid)]
    let result = null
    try {
      result = await runWrk(tools, pipelined(), { ...opts, seconds: config.duration })
    } catch (err) {
      errors.push(`wrk: ${err.message}`)
    }
    const [t1, p1] = [cpu.sample(), cpu.processTicks(pid)]
    const probed = await probe.stop()
    clearInterval(sampler)
    sample()
    if (result) {
      const span = t0 && t1 ? t1[SERVER_CPU].total - t0[SERVER_CPU].total : 0
      result.cpu = pin.taskset
        ? { server: cpu.busy(t0, t1, SERVER_CPU), wrk: cpu.busy(t0, t1, WRK_CPU), serverProcess: span > 0 ? (p1 - p0) / span : null }
        : null
      result.flags = flags(result, first.responseBytes)
      out.load = result
      log(`  wrk: ${Math.round(result.rps).toLocaleString('en-US')} req/s, ${result.requests.toLocaleString('en-US')} requests` +
        (result.cpu ? `, cpu${SERVER_CPU} ${pct(result.cpu.server)} (server process ${pct(result.cpu.serverProcess)}), cpu${WRK_CPU} ${pct(result.cpu.wrk)}` : ''))
      for (const f of result.flags) errors.push(`wrk: ${f}`)
    }
    const lat = probed.latencies
    out.probe = {
      ...probed,
      latencies: undefined,
      times: undefined,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.length ? Math.max(...lat) : null,
      latenciesMs: lat.map((x) => Math.round(x * 1000) / 1000),
      sentAtMs: probed.times
    }
    // Slow answers and unanswered requests: was the server starved of CPU, or idle?
    const slow = lat.map((x, i) => ({ sentAtMs: probed.times[i], ms: x })).filter((x) => x.ms > SLOW_MS)
    for (const f of probed.failures.examples) if (f.sentAtMs !== undefined) slow.push({ sentAtMs: f.sentAtMs, ms: f.atMs - f.sentAtMs, failed: f.why })
    out.probe.slow = slow.sort((a, b) => a.sentAtMs - b.sentAtMs).map((x) => ({ ...x, ms: Math.round(x.ms), server: attribute(samples, x.sentAtMs, x.sentAtMs + x.ms) }))
    if (slow.length) {
      const sum = (k) => out.probe.slow.reduce((acc, x) => acc + (x.server?.[k] || 0), 0)
      const span = sum('spanMs')
      const share = (k) => span ? `${Math.round(100 * sum(k) / span)}%` : '-'
      log(`  probe: ${slow.length} request(s) slower than ${SLOW_MS} ms (at ${out.probe.slow.map((x) => `${(x.sentAtMs / 1000).toFixed(1)} s: ${x.ms} ms`).join(', ')});` +
        ` over those windows the server ran ${share('ranMs')}, waited for a CPU ${share('waitedMs')}, slept ${share('sleptMs')} of the time`)
    }
    log(`  probe: ${probed.answered}/${probed.sent} answered, p50 ${ms(out.probe.p50)}, p99 ${ms(out.probe.p99)}, max ${ms(out.probe.max)}` +
      (probed.late ? `, ${probed.late} ticks skipped (previous request still pending)` : '') +
      (probed.connects > 1 ? `, ${probed.connects} connections` : ''))
    if (probed.failures.count) errors.push(`probe: ${probed.failures.count} failure(s): ${reasons(probed.failures.reasons)}`)
    const peakKb = Math.max(before.rssKb || 0, ...samples.map((x) => x[1]))
    out.samples = { columns: ['ms since the load started', 'server RSS kB', 'server ran ms', 'server waited for a CPU ms'], rows: samples }
    if (samples.length > 1) {
      const [a, b] = [samples[0], samples.at(-1)]
      out.load && (out.load.server = { ranMs: b[2] - a[2], waitedMs: b[3] - a[3], spanMs: b[0] - a[0] })
      log(`  server main thread during the load: on a CPU ${pct((b[2] - a[2]) / (b[0] - a[0]))}, waiting for one ${pct((b[3] - a[3]) / (b[0] - a[0]))}`)
    }
    if (serverGone || !alive(server.child)) throw new Error('server died during the load')

    // 5. settle, "after", the idle connections
    await sleep(config.settle * 1000)
    const after = await snapshot(server, `${config.settle} s after the load`, log)
    out.snapshots.push(after)
    out.rss = {
      beforeKb: before.rssKb,
      peakKb: Math.max(peakKb, after.rssKb || 0),
      afterKb: after.rssKb,
      hwmKb: after.hwmKb,
      ratio: before.rssKb && after.rssKb ? after.rssKb / before.rssKb : null
    }
    if (holder) {
      holder.send('status')
      const status = await holder.next('status', 10000)
      holder.send('verify')
      const verified = await holder.next('verified', 180000)
      out.idle.status = status
      out.idle.verified = verified
      log(`idle: ${status.open.toLocaleString('en-US')} still open at the end, ${status.lost.count} closed by the server during the run;` +
        ` ${verified.ok.toLocaleString('en-US')}/${verified.checked.toLocaleString('en-US')} answered one more request (${(verified.ms / 1000).toFixed(1)} s)`)
      if (status.lost.count) {
        errors.push(`idle connections lost: ${status.lost.count} (${reasons(status.lost.reasons)}; first at ${status.lost.first} ms, last at ${status.lost.last} ms of the holder's life)`)
      }
      if (verified.failed.count) errors.push(`idle connections not answering at the end: ${verified.failed.count} (${reasons(verified.failed.reasons)})`)
      out.snapshots.push(await snapshot(server, 'after the idle check', log))
    }
    const last = await check(port, HELLO, DEPTH)
    out.checkAfter = last
    for (const p of last.problems) errors.push(`check after the load: ${p}`)
  } catch (err) {
    errors.push(err.message)
    out.failed = err.message
  } finally {
    if (holder) await holder.stop()
    if (server) {
      const crashed = !alive(server.child)
      const stopped = await server.stop()
      out.server = { ...out.server, exit: { code: stopped.code, signal: stopped.signal }, reports: stopped.reports }
      if (crashed) {
        out.server.stderr = stopped.stderr
        errors.push(`server crashed: exit ${stopped.code ?? stopped.signal}: ${stopped.stderr.trim().split('\n').slice(-3).join(' | ') || '(no stderr)'}`)
      }
    }
  }
  info.loadAfter = os.loadavg()
  const rebuilt = buildInfo()
  if (rebuilt.addon !== build.addon || rebuilt.dist !== build.dist) {
    out.buildAfter = rebuilt
    console.warn('warning: the addon or dist/ was rebuilt during the run; the server started before the rebuild kept the old code')
  }

  // Summary
  const r = out.rss
  log('')
  log('soak summary')
  if (r) {
    log(`  RSS before ${mb(r.beforeKb)}, peak ${mb(r.peakKb)}, after ${mb(r.afterKb)}: after/before ${r.ratio?.toFixed(3) ?? '-'} (limit ${MAX_RSS_RATIO.toFixed(2)})`)
  }
  if (out.probe) log(`  probe latency p50 ${ms(out.probe.p50)}, p99 ${ms(out.probe.p99)}, max ${ms(out.probe.max)}`)
  if (out.load) log(`  wrk ${Math.round(out.load.rps).toLocaleString('en-US')} req/s pipelined with ${config.idle.toLocaleString('en-US')} idle connections open`)
  log(`  load average after: ${info.loadAfter.map((x) => x.toFixed(2)).join(' ')}`)
  const rssBad = r && r.ratio !== null && r.ratio > MAX_RSS_RATIO
  if (rssBad) errors.push(`RSS grew: after/before ${r.ratio.toFixed(3)} > ${MAX_RSS_RATIO.toFixed(2)}`)
  if (errors.length) {
    log('ERRORS:')
    for (const e of errors) log(`  ${e}`)
  } else {
    log('  errors: none')
  }
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true })
  fs.writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n')
  log(`wrote ${path.relative(process.cwd(), RESULTS)}`)
  process.exitCode = out.failed && !out.load ? 2 : errors.length ? 1 : 0
}

// Never leave a server, wrk or the idle holder running behind us.
const cleanups = [killAll]
const cleanup = () => { for (const f of cleanups) f() }
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130) })

main().catch((err) => {
  console.error(err.message)
  process.exit(2)
})
