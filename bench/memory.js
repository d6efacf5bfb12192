'use strict'
// Memory held by a server under three hostile-but-cheap clients (issue items
// 5, 6 and 9), salvo against node:http with the same client in the same run.
// Each scenario runs in its own fresh server process per server; the server
// measures its own RSS after forced GCs and answers it on its stdin/stdout
// pipe (bench/lib/memory-server.js), so the measurement adds no connection.
//
//   pipeline  (item 5) one connection pipelines ~200 GET /big (100 KiB answer
//             each, ~6,000 bytes of requests) and never reads
//   hang      (item 6) 4,000 connections each send one GET to a handler whose
//             promise never settles, then the clients destroy their sockets
//   idle      (item 9) 4,000 connections each send the one byte "G" of a
//             request head and stay open, idle
//
// Usage: node bench/memory.js [--salvo DIR] [--only pipeline,hang,idle]
//   [--servers salvo,node-http] [--count 4000] [--requests 200] [--wait 2000]
//   [--body string|buffer] [--body-bytes 102400] [--headers-timeout 60000]
//   [--out bench/results/memory.json]
// --salvo DIR: the salvo build to measure (DIR/dist/index.js and its
// build/Release/salvo.node), default this repository; the client is always
// this one, so two builds are measured with the same client.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { startServer, killAll } = require('./lib/memory-proc')
const client = require('./lib/memory-client')

const ROOT = path.join(__dirname, '..')
const SCENARIOS = {
  pipeline: { item: 5, run: client.pipelineNoRead, big: true, what: 'pipelined GET /big, never read' },
  hang: { item: 6, run: client.hungRequests, big: false, what: 'never-settling async handler, client left' },
  idle: { item: 9, run: client.oneByteIdle, big: false, what: 'one byte "G" of a head, idle' }
}
const SERVERS = ['salvo', 'node-http']
const RUN_BUDGET_MS = 170000 // the whole run: scenarios not started by then are skipped
const FD_MARGIN = 256 // fds besides the measured connections (stdio, pipes, libuv, listen)

function parseArgs (argv) {
  const o = {
    salvo: ROOT,
    only: Object.keys(SCENARIOS),
    servers: SERVERS,
    count: 4000,
    requests: 200,
    wait: 2000,
    body: 'string',
    bodyBytes: 100 * 1024,
    headersTimeout: 60000,
    out: path.join(ROOT, 'bench', 'results', 'memory.json')
  }
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    const int = (name, lo, hi) => {
      const n = Number(v())
      if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${name} must be an integer in [${lo}, ${hi}]`)
      return n
    }
    if (a === '--salvo') o.salvo = path.resolve(v())
    else if (a === '--only') o.only = v().split(',').filter(Boolean)
    else if (a === '--servers') o.servers = v().split(',').filter(Boolean)
    else if (a === '--count') o.count = int('--count', 1, 20000)
    else if (a === '--requests') o.requests = int('--requests', 1, 10000)
    else if (a === '--wait') o.wait = int('--wait', 0, 30000)
    else if (a === '--body') o.body = v()
    else if (a === '--body-bytes') o.bodyBytes = int('--body-bytes', 1, 16 * 1024 * 1024)
    else if (a === '--headers-timeout') o.headersTimeout = int('--headers-timeout', 1, 3600000)
    else if (a === '--out') o.out = path.resolve(v())
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'))
      process.exit(0)
    } else throw new Error(`unknown option ${a} (--help)`)
  }
  for (const s of o.only) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s} (${Object.keys(SCENARIOS).join(', ')})`)
  for (const s of o.servers) if (!SERVERS.includes(s)) throw new Error(`unknown server ${s} (${SERVERS.join(', ')})`)
  if (!['string', 'buffer'].includes(o.body)) throw new Error('--body is string or buffer')
  return o
}

/** Soft RLIMIT_NOFILE of this process, from /proc (node has no getrlimit). */
function nofile () {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null
  } catch { return null }
}

function gitDescribe (dir) {
  const head = spawnSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8', timeout: 5000 })
  if (head.status !== 0) return null
  const dirty = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no', '--', 'src', 'native'], { encoding: 'utf8', timeout: 5000 })
  return { commit: head.stdout.trim(), dirty: dirty.status === 0 ? dirty.stdout.trim() !== '' : null }
}

const MiB = 1024 * 1024
const fmt = (n, d = 1) => (n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d))

function summarize (scenario, server, r) {
  const growth = r.after.rss - r.before.rss
  const slabs = (m) => (m && m.stats && typeof m.stats.slabs === 'number' ? m.stats.slabs : null)
  return {
    scenario,
    item: SCENARIOS[scenario].item,
    server,
    connections: r.connections,
    requests: r.requests,
    requestBytes: r.requestBytes,
    rssGrowthBytes: growth,
    rssGrowthMiB: growth / MiB,
    rssGrowthNoGcMiB: (r.after.rssBeforeGc - r.before.rssBeforeGc) / MiB,
    perConnectionKiB: r.connections > 0 ? growth / 1024 / r.connections : null,
    handlerCalls: r.after.calls - r.before.calls,
    slabs: slabs(r.after),
    slabsBefore: slabs(r.before),
    heapUsedGrowthMiB: (r.after.heapUsed - r.before.heapUsed) / MiB,
    externalGrowthMiB: (r.after.external - r.before.external) / MiB,
    arrayBuffersGrowthMiB: (r.after.arrayBuffers - r.before.arrayBuffers) / MiB,
    serverConnections: r.after.connections,
    serverFds: r.after.fds,
    afterClientsLeft: r.afterClose
      ? {
          rssGrowthMiB: (r.afterClose.rss - r.before.rss) / MiB,
          slabs: slabs(r.afterClose),
          serverConnections: r.afterClose.connections,
          serverFds: r.afterClose.fds
        }
      : null,
    lost: r.lost,
    failed: r.failed,
    unexpected: r.unexpected,
    notes: r.notes,
    before: r.before,
    after: r.after,
    afterClose: r.afterClose
  }
}

function table (rows) {
  const head = ['scenario', 'server', 'conns/reqs', 'RSS growth MiB', 'per conn KiB', 'no GC MiB', 'handler calls', 'slabs', 'server conns', 'after clients left: MiB', 'slabs']
  const body = rows.map((x) => [
    `${x.scenario} (item ${x.item})`,
    x.server,
    `${x.connections}/${x.requests}`,
    fmt(x.rssGrowthMiB),
    fmt(x.perConnectionKiB),
    fmt(x.rssGrowthNoGcMiB),
    String(x.handlerCalls),
    x.slabs === null ? '-' : String(x.slabs),
    x.serverConnections === null || x.serverConnections === undefined ? '-' : String(x.serverConnections),
    x.afterClientsLeft ? fmt(x.afterClientsLeft.rssGrowthMiB) : '(is "RSS growth")',
    x.afterClientsLeft && x.afterClientsLeft.slabs !== null ? String(x.afterClientsLeft.slabs) : '-'
  ])
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)))
  const line = (r) => '| ' + r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |'
  return [line(head), '|' + w.map((n, i) => (i < 2 ? ':' : '-') + '-'.repeat(n) + (i < 2 ? '-' : ':')).join('|') + '|', ...body.map(line)].join('\n')
}

async function main () {
  const o = parseArgs(process.argv)
  const t0 = Date.now()
  if (!fs.existsSync(path.join(o.salvo, 'dist', 'index.js'))) throw new Error(`${o.salvo}/dist/index.js not found (npm run build:ts there)`)
  if (!fs.existsSync(path.join(o.salvo, 'build', 'Release', 'salvo.node'))) throw new Error(`${o.salvo}/build/Release/salvo.node not found (npx node-gyp rebuild there)`)
  const notes = []
  // The client (this process) holds up to `count` sockets at once in the idle
  // scenario; its limit cannot be raised from inside node.
  const mine = nofile()
  let count = o.count
  if (mine !== null && mine < count + FD_MARGIN) {
    count = Math.max(1, mine - FD_MARGIN)
    notes.push(`client fd limit ${mine}: --count reduced from ${o.count} to ${count} (raise ulimit -n to measure ${o.count})`)
  }
  const salvo = gitDescribe(o.salvo)
  console.log(`salvo: ${o.salvo}${salvo ? ` (${salvo.commit.slice(0, 12)}${salvo.dirty ? ', src/native modified' : ''})` : ''}; node ${process.version}; ${os.availableParallelism()} CPUs; load ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`)
  console.log(`count ${count}, pipelined requests ${o.requests}, wait ${o.wait} ms, /big body ${o.bodyBytes} B ${o.body}, headersTimeout ${o.headersTimeout} ms`)

  const rows = []
  const loadBefore = os.loadavg()
  for (const scenario of o.only) {
    for (const server of o.servers) {
      if (Date.now() - t0 > RUN_BUDGET_MS) {
        notes.push(`${scenario}/${server}: skipped, the run passed its ${RUN_BUDGET_MS / 1000} s budget`)
        continue
      }
      const started = Date.now()
      const srv = await startServer({
        server: server === 'node-http' ? 'node' : 'salvo',
        salvoDir: o.salvo,
        body: o.body,
        bodyBytes: o.bodyBytes,
        headersTimeout: o.headersTimeout
      })
      try {
        let n = count
        if (scenario !== 'pipeline' && srv.nofile !== null && srv.nofile < n + FD_MARGIN) {
          n = Math.max(1, srv.nofile - FD_MARGIN)
          notes.push(`${scenario}/${server}: server fd limit ${srv.nofile}, ${n} connections instead of ${count}`)
        }
        await client.warmUp(srv, { big: SCENARIOS[scenario].big })
        const r = await SCENARIOS[scenario].run(srv, { count: n, requests: o.requests, waitMs: o.wait })
        const row = summarize(scenario, server, r)
        row.seconds = (Date.now() - started) / 1000
        rows.push(row)
        const failed = Object.entries(r.failed || {})
        if (failed.length) notes.push(`${scenario}/${server}: failed connections ${failed.map(([k, v]) => `${k} x${v}`).join(', ')}`)
        for (const note of r.notes) notes.push(`${scenario}/${server}: ${note}`)
        console.log(`  ${scenario}/${server}: ${fmt(row.rssGrowthMiB)} MiB, ${row.handlerCalls} handler calls (${row.seconds.toFixed(1)} s)`)
      } catch (err) {
        notes.push(`${scenario}/${server}: failed: ${err.message}`)
        console.log(`  ${scenario}/${server}: failed: ${err.message}`)
      } finally {
        await srv.stop()
      }
    }
  }

  console.log('\n' + table(rows))
  console.log('\nRSS growth: the server\'s RSS after forced GCs, measured by itself, minus the same before the client')
  console.log(`(after a warm-up); taken ${o.wait} ms after the client finished sending. "after clients left": the same`)
  console.log(`${o.wait} ms after the client destroyed its sockets. "no GC": the same growth read just before the forced`)
  console.log('GCs (garbage included). slabs: live 64 KiB read buffers (salvo\'s stats()). server conns: connections the')
  console.log('server still has open (salvo stats().connections; node:http server._connections).')
  if (notes.length) console.log('\nNotes:\n' + notes.map((n) => '- ' + n).join('\n'))

  const out = {
    when: new Date().toISOString(),
    seconds: (Date.now() - t0) / 1000,
    salvoDir: o.salvo,
    salvo,
    machine: { cpu: os.cpus()[0]?.model || 'unknown', cores: os.availableParallelism(), kernel: `${os.type()} ${os.release()}`, node: process.version, loadBefore, loadAfter: os.loadavg() },
    options: { ...o, count },
    rows,
    notes
  }
  fs.mkdirSync(path.dirname(o.out), { recursive: true })
  fs.writeFileSync(o.out, JSON.stringify(out, null, 2) + '\n')
  console.log(`\nwrote ${path.relative(process.cwd(), o.out) || o.out} (${out.seconds.toFixed(1)} s)`)
  if (rows.length < o.only.length * o.servers.length) process.exitCode = 1
}

process.on('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130) })
main().catch((err) => {
  console.error(err.message)
  killAll()
  process.exit(1)
})
