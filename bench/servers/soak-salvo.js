'use strict'
// The soak test's server (bench/soak.js): salvo hello world that can say what
// it holds. It prints `listening PORT`, then one JSON line
//   {"report": WHY, "memory": process.memoryUsage(), "stats": server.stats(),
//    "loopDelay": { maxMs, p99Ms, meanMs } since the previous report}
// on SIGTERM (then exits), on SIGUSR2, and on a `mem` line on stdin (when
// stdin is a pipe). bench/lib/spawn.js starts servers with stdin ignored, so
// soak.js asks with SIGUSR2 during the run and gets the last report on SIGTERM.
const { App } = require('./load-salvo')
const { monitorEventLoopDelay } = require('node:perf_hooks')

let server = null
// Event-loop delay (a 10 ms timer's lateness): a stalled loop shows here.
const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()

function report (why) {
  let stats = null
  try { stats = server ? server.stats() : null } catch {}
  const loopDelay = { maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6, meanMs: delay.mean / 1e6 }
  delay.reset()
  process.stdout.write(JSON.stringify({ report: why, memory: process.memoryUsage(), stats, loopDelay }) + '\n')
}

new App({ keepAliveTimeout: 600_000 }) // the soak holds idle connections on purpose
  .get('/', () => 'Hello world!')
  .listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  .then((s) => {
    server = s
    console.log('listening ' + s.port)
  }, (err) => {
    console.error(err)
    process.exit(1)
  })

process.on('SIGTERM', () => {
  report('SIGTERM')
  // Exit once stdout is flushed (it is a pipe: asynchronous).
  process.stdout.write('', () => process.exit(0))
})
process.on('SIGUSR2', () => report('SIGUSR2'))

if (!process.stdin.isTTY) {
  let buf = ''
  process.stdin.setEncoding('utf8').on('data', (d) => {
    buf += d
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) {
      const cmd = buf.slice(0, nl).trim()
      buf = buf.slice(nl + 1)
      if (cmd === 'mem') report('stdin')
    }
  }).on('error', () => {})
  process.stdin.unref?.() // an ignored or closed stdin must not keep us alive, nor an open one
}

// Started by a soak run that was SIGKILLed, we would outlive it: when our
// parent is gone (we were re-parented), stop. One getppid() a second.
const parent = process.ppid
setInterval(() => { if (process.ppid !== parent) process.exit(0) }, 1000).unref()
