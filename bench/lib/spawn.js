'use strict'
// Child processes: servers under test and wrk runs. Every child is tracked so
// that an interrupted benchmark leaves nothing running, and every wait has a
// deadline so a hung server or tool cannot hang the benchmark.
const net = require('node:net')
const { spawn } = require('node:child_process')

const live = new Set()
const closed = new WeakMap() // child -> Promise of { code, signal } once its stdio is drained
const MAX_LINES = 1000 // stdout lines kept per server (reports, not logs)
const MAX_STDERR = 16 * 1024

function track (child) {
  live.add(child)
  child.once('exit', () => live.delete(child))
  closed.set(child, new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))))
  return child
}

/** SIGKILLs every child still running; safe to call from process 'exit'. */
function killAll () {
  for (const child of live) child.kill('SIGKILL')
}

/**
 * Resolves once the child has exited and its output is all read (so a report
 * printed just before exit is not lost); null when `ms` passes first.
 */
function exited (child, ms) {
  let timer
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms) })
  return Promise.race([closed.get(child), timeout]).finally(() => clearTimeout(timer))
}

/**
 * Runs argv to completion and returns its stdout; rejects on failure or after
 * timeoutMs. `env`: variables added to this process's environment.
 */
async function run (argv, { timeoutMs, env }) {
  const child = track(spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: env && { ...process.env, ...env } }))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-MAX_STDERR) })
  const done = new Promise((resolve, reject) => child.once('error', reject).once('close', (code, signal) => resolve({ code, signal })))
  let timer
  const deadline = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs) })
  let result
  try { result = await Promise.race([done, deadline]) } finally { clearTimeout(timer) }
  if (result === null) {
    child.kill('SIGKILL')
    throw new Error(`${argv.join(' ')}: still running after ${timeoutMs} ms, killed`)
  }
  if (result.code !== 0) {
    throw new Error(`${argv.join(' ')}: exit ${result.code ?? result.signal}: ${stderr.trim() || stdout.trim()}`)
  }
  return stdout
}

/** The line of a crashed server's stderr that says why (Node: "Error: ..."). */
function errorLine (stderr) {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean)
  return lines.find((l) => /^\w*Error\b/.test(l)) || lines.at(-1) || '(no output)'
}

/** A port that was free a moment ago on 127.0.0.1 (the server binds it next). */
function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function canConnect (port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1')
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => resolve(false))
  })
}

/**
 * Starts a server (argv gets PORT, and `env` if given, in its environment) and
 * resolves once it accepts connections. The handle keeps the child's stdout lines, so a server
 * can report (say, GC statistics as one JSON line on SIGTERM) and stop()
 * returns those JSON lines as `reports`.
 */
async function startServer (argv, { port, cwd, env = {}, timeoutMs = 15000 }) {
  const child = track(spawn(argv[0], argv.slice(1), {
    cwd,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe']
  }))
  const lines = []
  let stderr = ''
  let partial = ''
  child.stdout.setEncoding('utf8').on('data', (d) => {
    const parts = (partial + d).split('\n')
    partial = parts.pop()
    lines.push(...parts)
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES)
  })
  child.stdout.once('end', () => { if (partial) lines.push(partial) })
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-MAX_STDERR) })
  let spawnError = null
  child.once('error', (err) => { spawnError = err })

  async function stop () {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    // 5 s lets a server print its report; after that it is hung.
    let how = await exited(child, 5000)
    if (how === null) {
      child.kill('SIGKILL')
      how = (await exited(child, 5000)) || { code: null, signal: 'SIGKILL' }
    }
    const reports = []
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try { reports.push(JSON.parse(line)) } catch {}
    }
    return { ...how, lines, reports, stderr }
  }

  const deadline = Date.now() + timeoutMs
  for (;;) {
    const gone = spawnError || child.exitCode !== null || child.signalCode !== null
    if (gone) {
      await exited(child, 1000) // let stderr drain for the message
      const why = spawnError ? spawnError.message : `exited (${child.exitCode ?? child.signalCode})`
      throw new Error(`server ${why} before accepting: ${errorLine(stderr)}`)
    }
    if (await canConnect(port)) return { port, child, lines, stop }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`server did not accept on port ${port} within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

module.exports = { run, startServer, freePort, killAll }
