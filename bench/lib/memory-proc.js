'use strict'
// The server process of one bench/memory.js run: bench/lib/memory-server.js
// under `node --expose-gc`, started through bash to raise its fd limit
// (`ulimit -n 65536`, else the hard limit). Commands go down its stdin, JSON
// replies come up its stdout; every wait has a deadline, and every child is
// SIGKILLed if memory.js exits early.
const path = require('node:path')
const { spawn } = require('node:child_process')

const SERVER_JS = path.join(__dirname, 'memory-server.js')
const START_TIMEOUT_MS = 15000
const ASK_TIMEOUT_MS = 10000
const MAX_STDERR = 16 * 1024

const live = new Set()
function killAll () { for (const c of live) c.kill('SIGKILL') }

const RAISE = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"'

/**
 * Starts the server; resolves { port, nofile, pid, ask(cmd), stop() } once it
 * listens. ask('measure') / ask('calls') resolve the server's JSON reply.
 */
function startServer ({ server, salvoDir, body, bodyBytes, headersTimeout }) {
  const argv = [process.execPath, '--expose-gc', SERVER_JS, '--server', server, '--salvo', salvoDir,
    '--body', body, '--body-bytes', String(bodyBytes), '--headers-timeout', String(headersTimeout)]
  const child = spawn('bash', ['-c', RAISE, 'bash', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] })
  live.add(child)
  let exited = null
  const exitedP = new Promise((resolve) => child.once('close', (code, signal) => {
    live.delete(child)
    exited = { code, signal }
    resolve(exited)
  }))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-MAX_STDERR) })
  child.stdin.on('error', () => {}) // EPIPE if it died: reported through `exited`

  const waiters = [] // { event, resolve, reject, timer }, in command order
  let partial = ''
  child.stdout.setEncoding('utf8').on('data', (d) => {
    const parts = (partial + d).split('\n')
    partial = parts.pop()
    for (const line of parts) {
      let msg
      try { msg = JSON.parse(line) } catch { continue }
      const i = waiters.findIndex((w) => w.event === msg.event)
      if (i < 0) continue
      const [w] = waiters.splice(i, 1)
      clearTimeout(w.timer)
      w.resolve(msg)
    }
  })
  exitedP.then(() => {
    for (const w of waiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(new Error(`${server} server exited (${exited.code ?? exited.signal}): ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no stderr'}`))
    }
  })

  function wait (event, ms) {
    return new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`${server} server has exited (${exited.code ?? exited.signal}): ${stderr.trim()}`))
      const w = { event, resolve, reject }
      w.timer = setTimeout(() => {
        const i = waiters.indexOf(w)
        if (i >= 0) waiters.splice(i, 1)
        reject(new Error(`${server} server: no "${event}" reply within ${ms} ms`))
      }, ms)
      waiters.push(w)
    })
  }

  function ask (cmd) {
    const p = wait(cmd, ASK_TIMEOUT_MS)
    if (!exited) child.stdin.write(cmd + '\n')
    return p
  }

  async function stop () {
    if (!exited) child.stdin.write('exit\n')
    let timer
    const t = new Promise((resolve) => { timer = setTimeout(() => resolve(null), 3000) })
    const how = await Promise.race([exitedP, t])
    clearTimeout(timer)
    if (how === null) {
      child.kill('SIGKILL')
      await exitedP
    }
    return { stderr }
  }

  return wait('listening', START_TIMEOUT_MS).then(
    (msg) => ({ port: msg.port, nofile: msg.nofile, pid: msg.pid, ask, stop }),
    async (err) => { child.kill('SIGKILL'); await exitedP; throw err }
  )
}

module.exports = { startServer, killAll }
