// Helpers for the security regression tests (test/security-*.test.mjs).
// Everything is black-box: real sockets on 127.0.0.1, app.inject(), server.stats(),
// and child processes where a crash of the server process is the failure under test.

import net from 'node:net'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { loadSalvo } from './app.mjs'
import { withTimeout, delay, parseOneResponse, ResponseParseError } from './raw-client.mjs'

export { withTimeout, delay }

const here = path.dirname(fileURLToPath(import.meta.url))
/** Absolute path of dist/index.js, for child processes. */
export const DIST = path.resolve(here, '..', '..', 'dist', 'index.js')

export const salvo = () => loadSalvo()

/**
 * new App(options), setup(app), listen on 127.0.0.1:0; a teardown closes it (bounded).
 * Resolves { app, server, port }.
 */
export async function start (t, options, setup) {
  const { App } = salvo()
  const app = options === undefined ? new App() : new App(options)
  if (setup) await setup(app)
  const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
  t.teardown(() => withTimeout(Promise.resolve().then(() => server.close({ timeout: 500 })), 5000, 'close').catch(() => {}))
  return { app, server, port: server.port }
}

/** Wait until cond() is truthy (polled every 10 ms); reject after `ms`. Resolves cond()'s value. */
export async function pollUntil (cond, ms, what = 'condition') {
  const t0 = Date.now()
  for (;;) {
    const v = cond()
    if (v) return v
    if (Date.now() - t0 > ms) throw new Error(`${what}: not met within ${ms} ms`)
    await delay(10)
  }
}

/** Like pollUntil, but resolves false instead of rejecting. */
export async function eventually (cond, ms) {
  try { await pollUntil(cond, ms); return true } catch { return false }
}

/** A promise the test opens later. */
export function gate () {
  let open
  const p = new Promise((resolve) => { open = resolve })
  return { p, open }
}

/** A plain net socket to 127.0.0.1:port (teardown destroys it). */
export function rawSocket (t, port, opts = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', ...opts })
    s.once('error', reject)
    s.once('connect', () => { s.removeListener('error', reject); s.on('error', () => {}); s.setNoDelay(true); resolve(s) })
    t.teardown(() => s.destroy())
  }), 5000, `connect to ${port}`)
}

/** Resolve when `socket` emits 'close' (true), or false after `ms`. */
export function closedWithin (socket, ms) {
  if (socket.destroyed && socket.closed) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.removeListener('close', on); resolve(false) }, ms)
    const on = () => { clearTimeout(timer); resolve(true) }
    socket.once('close', on)
  })
}

/**
 * Incremental response reader for big pipelined answers: parses and drops each
 * complete response as it arrives (keeps only what onResponse returns).
 * `await r.wait(n, ms)` resolves the first n kept values; rejects on timeout,
 * a parse error or the socket ending first.
 */
export function streamReader (socket, onResponse = (r) => r) {
  let buf = Buffer.alloc(0)
  const kept = []
  let ended = false
  let error = null
  let waiter = null
  const poke = () => { if (waiter) waiter() }
  socket.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    try {
      for (;;) {
        const r = parseOneResponse(buf, false)
        if (!r) break
        buf = buf.subarray(r.used)
        kept.push(onResponse(r.response))
      }
    } catch (err) {
      error = err
    }
    poke()
  })
  socket.on('end', () => { ended = true; poke() })
  socket.on('close', () => { ended = true; poke() })
  return {
    kept,
    get pending () { return buf.length },
    wait (n, ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiter = null; reject(new Error(`got ${kept.length} of ${n} responses within ${ms} ms`)) }, ms)
        const check = () => {
          if (error) { clearTimeout(timer); waiter = null; reject(error instanceof ResponseParseError ? error : new Error(String(error))); return }
          if (kept.length >= n) { clearTimeout(timer); waiter = null; resolve(kept.slice(0, n)); return }
          if (ended) { clearTimeout(timer); waiter = null; reject(new Error(`connection ended after ${kept.length} of ${n} responses`)) }
        }
        waiter = check
        check()
      })
    }
  }
}

/**
 * Run an ES module `source` in a child node process. `import.meta`-free: the source
 * gets `DIST` (absolute path of dist/index.js) as a global constant via a prologue.
 * The child should print one line `PORT <n>` when it listens. Resolves a handle:
 *   { port, child, exited (promise of { code, signal }), output(), kill() }
 */
export async function runChild (t, source, { timeout = 10_000 } = {}) {
  const prologue = `import { createRequire } from 'node:module'\nconst require = createRequire(${JSON.stringify(DIST)})\nconst DIST = ${JSON.stringify(DIST)}\n`
  const child = spawn(process.execPath, ['--input-type=module', '-e', prologue + source], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env }
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  let exitInfo = null
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { exitInfo = { code, signal }; resolve(exitInfo) }))
  const kill = () => { if (exitInfo === null) child.kill('SIGKILL') }
  t.teardown(kill)
  const port = await withTimeout(new Promise((resolve, reject) => {
    const check = () => {
      const m = /^PORT (\d+)$/m.exec(out)
      if (m) resolve(Number(m[1]))
    }
    child.stdout.on('data', check)
    exited.then((e) => reject(new Error(`child exited before listening (${JSON.stringify(e)}): ${err.slice(0, 2000)}`)))
  }), timeout, 'child listening').catch((e) => { kill(); throw e })
  return {
    port,
    child,
    exited,
    get exitInfo () { return exitInfo },
    output: () => ({ stdout: out, stderr: err }),
    kill
  }
}

/** Capture a synchronous throw (returns the error, or undefined). */
export function thrown (fn) {
  try { fn() } catch (e) { return e }
  return undefined
}

/**
 * Resolve what `fn()` throws or rejects with (null when it neither throws nor
 * rejects within `ms`, or resolves). `onValue` sees a resolved value (e.g. to close a server).
 */
export async function failureOf (fn, ms = 5000, onValue = () => {}) {
  let p
  try { p = fn() } catch (e) { return e }
  try {
    const v = await withTimeout(Promise.resolve(p), ms, 'call')
    onValue(v)
    return null
  } catch (e) {
    if (e && /timed out after/.test(e.message) && e.code === undefined) return null
    return e
  }
}
