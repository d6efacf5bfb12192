'use strict'
// Invariant 3 at the kernel's level: during the load, count the server's read
// and write system calls with `strace -c` (counts, not times, so a noisy
// machine does not change them). Prints writes per read and requests per read.
//
//   node bench/syscalls.js [seconds=4] [--route PATH] [--depth N] [--max X]
//   npm run bench:syscalls                           the sync hello route '/', 24 deep
//   npm run bench:syscalls -- --route /async         async hello (any route of servers/salvo.js)
//   SYSCALLS_ROUTE=/immediate SYSCALLS_DEPTH=1 npm run bench:syscalls
//
// --route (env SYSCALLS_ROUTE): the path loaded, default '/'; --depth (env
// SYSCALLS_DEPTH): requests per write, default 24 (1: one request per write,
// keep-alive); --max: the writes/read above which the exit code is 1, default
// 1 on '/' (one write per read batch) and 1.05 elsewhere (the async routes'
// bar). The route must answer 200 (and the body bench/cases.js expects of it,
// if a salvo case loads it) before and after the load.
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { freePort } = require('./lib/spawn')
const { check } = require('./lib/check')
const { CASES } = require('./cases')

function parseArgs (argv, env) {
  const opts = { seconds: 4, route: env.SYSCALLS_ROUTE || '/', depth: Number(env.SYSCALLS_DEPTH || 24), max: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    if (a === '--route' || a.startsWith('--route=')) opts.route = value()
    else if (a === '--depth' || a.startsWith('--depth=')) opts.depth = Number(value())
    else if (a === '--max' || a.startsWith('--max=')) opts.max = Number(value())
    else if (/^\d+$/.test(a)) opts.seconds = Number(a)
    else throw new Error(`unknown argument '${a}'; usage: node bench/syscalls.js [seconds] [--route PATH] [--depth N] [--max X]`)
  }
  if (!opts.route.startsWith('/')) throw new Error(`--route must start with '/', got '${opts.route}'`)
  if (!Number.isInteger(opts.depth) || opts.depth < 1) throw new Error('--depth must be a positive integer')
  if (!(opts.seconds >= 1)) throw new Error('seconds must be >= 1')
  if (opts.max === null) opts.max = opts.route === '/' ? 1 : 1.05
  if (!(opts.max > 0)) throw new Error('--max must be a positive number')
  return opts
}

const run = (cmd, args) => new Promise((resolve) => {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  p.stdout.on('data', (d) => { out += d })
  p.stderr.on('data', (d) => { out += d })
  p.on('close', () => resolve(out))
})

/** What the route must answer: a salvo case's expectation when one loads it (plain GET), else 200. */
function expectation (route) {
  const c = CASES.find((x) => x.server === 'servers/salvo.js' && x.path === route && !x.request)
  return { path: route, expect: c ? c.expect : { status: 200 } }
}

async function main () {
  const opts = parseArgs(process.argv.slice(2), process.env)
  for (const tool of ['strace', 'wrk']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      console.error(`${tool} not found: install it with 'apt-get install -y ${tool}'`)
      process.exit(1)
    }
  }
  const port = await freePort()
  const server = spawn(process.execPath, [path.join(__dirname, 'servers/salvo.js')], {
    env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit']
  })
  const stop = () => { if (server.exitCode === null) server.kill('SIGKILL') }
  process.on('exit', stop)
  try {
    await new Promise((resolve, reject) => {
      server.stdout.once('data', resolve)
      server.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)))
    })
    const c = expectation(opts.route)
    const before = await check(port, c, opts.depth)
    if (before.problems.length) throw new Error(`${opts.route}: ${before.problems.join('; ')}`)
    const url = `http://127.0.0.1:${port}${opts.route}`
    const lua = path.join(__dirname, 'pipeline.lua')
    const wrk = (secs) => run('wrk', ['-t1', '-c100', `-d${secs}s`, '-s', lua, url, '--', String(opts.depth)])
    await wrk(2) // warm up
    const out = path.join(os.tmpdir(), `salvo-strace-${process.pid}.txt`)
    const strace = spawn('strace', ['-c', '-f', '-p', String(server.pid), '-o', out], { stdio: 'ignore' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const load = await wrk(opts.seconds)
    strace.kill('SIGINT')
    await new Promise((resolve) => strace.on('close', resolve))
    const after = await check(port, c, opts.depth)
    const table = fs.readFileSync(out, 'utf8')
    fs.rmSync(out, { force: true })
    const calls = (name) => Number((new RegExp(`^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(?:\\d+\\s+)?${name}$`, 'm').exec(table) || [])[1] || 0)
    const reads = calls('read')
    const writes = calls('write') + calls('writev')
    const requests = Number((/(\d+) requests in/.exec(load) || [])[1] || 0)
    const errors = /Socket errors:.*|Non-2xx.*/g
    console.log(table.trim())
    const shape = opts.depth === 1 ? 'one request per write (keep-alive)' : `${opts.depth}-deep pipelines`
    console.log(`\nroute ${opts.route}, under strace, ${opts.seconds} s of wrk -t1 -c100, ${shape}: ${requests} requests, ${reads} reads, ${writes} writes`)
    for (const e of load.match(errors) || []) console.log(`wrk: ${e.trim()}`)
    if (after.problems.length) console.log(`after the load: ${after.problems.join('; ')}`)
    const ratio = reads ? writes / reads : Infinity
    const ok = reads > 0 && ratio <= opts.max && !after.problems.length
    console.log(`writes per read: ${ratio.toFixed(4)} (bar: <= ${opts.max}) ${ok ? 'PASS' : 'FAIL'}, requests per read: ${(requests / reads).toFixed(1)}`)
    process.exitCode = ok ? 0 : 1
  } finally {
    stop()
  }
}

main().catch((err) => { console.error(err.message); process.exit(2) })
