'use strict'
// Process helpers for the soak test: memory and fd limits from /proc, argv
// that raises the fd limit before exec, and the idle-connection holder child.
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')

/** { rssKb, hwmKb } of a process from /proc/PID/status, or null when it is gone. */
function memory (pid) {
  let text
  try { text = fs.readFileSync(`/proc/${pid}/status`, 'utf8') } catch { return null }
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN)
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') }
}

/**
 * Scheduler times of a process's main thread (/proc/PID/schedstat), in ms:
 * { runMs: on a CPU, waitMs: runnable but waiting for one }, or null. A
 * server that stalls while waitMs grows was starved of CPU (other
 * processes); one that stalls while neither grows was idle: its own fault.
 */
function schedstat (pid) {
  try {
    const [run, wait] = fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number)
    return { runMs: run / 1e6, waitMs: wait / 1e6 }
  } catch { return null }
}

/** Soft "Max open files" of a process (/proc/PID/limits), or null. */
function fdLimit (pid) {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'))
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null
  } catch { return null }
}

/** Open fds of a process (entries of /proc/PID/fd), or null. */
function fdCount (pid) {
  try { return fs.readdirSync(`/proc/${pid}/fd`).length } catch { return null }
}

/**
 * argv run through bash with `ulimit -n n` first (or, when n is above the
 * hard limit and we may not raise it, the hard limit), then exec'd: same pid,
 * so signals and /proc/PID refer to the program itself. The callers check the
 * limit they got with fdLimit().
 */
function withFdLimit (n, argv) {
  const script = `ulimit -n ${n} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`
  return ['bash', '-c', script, ...argv]
}

/**
 * Starts bench/lib/soak-idle.js (argv prefix: pinning, fd limit) and returns
 * { child, next(event, ms), send(cmd), stop() }: next resolves with the next
 * JSON line whose event is `event`, rejecting after ms or if the child exits.
 */
function startHolder (prefix, { port, count, body }) {
  const argv = [...prefix, process.execPath, path.join(__dirname, 'soak-idle.js')]
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, SOAK_IDLE_PORT: String(port), SOAK_IDLE_COUNT: String(count), SOAK_IDLE_BODY: body },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const events = []
  const waiters = []
  let stderr = ''
  let partial = ''
  let exit = null
  child.stdin.on('error', () => {}) // EPIPE once it is gone: the exit says why
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-8192) })
  child.stdout.setEncoding('utf8').on('data', (d) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop()
    for (const line of lines) {
      let msg
      try { msg = JSON.parse(line) } catch { continue }
      events.push(msg)
      wake()
    }
  })
  child.once('error', (err) => { exit = exit || `could not start: ${err.message}`; wake() })
  child.once('exit', (code, signal) => { exit = exit || `exited (${code ?? signal})`; wake() })

  function wake () {
    for (const w of [...waiters]) w()
  }

  function next (event, ms) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = events.findIndex((e) => e.event === event || e.event === 'error')
        if (i >= 0) {
          const [msg] = events.splice(i, 1)
          done()
          return msg.event === 'error' ? reject(new Error(`idle holder: ${msg.message}`)) : resolve(msg)
        }
        if (exit) {
          done()
          reject(new Error(`idle holder ${exit}: ${stderr.trim().split('\n').pop() || '(no output)'}`))
        }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`idle holder: no '${event}' within ${ms} ms`)) }, ms)
      const done = () => {
        clearTimeout(timer)
        const i = waiters.indexOf(check)
        if (i >= 0) waiters.splice(i, 1)
      }
      waiters.push(check)
      check()
    })
  }

  const send = (cmd) => { if (!exit) child.stdin.write(cmd + '\n') }

  /** Closes its stdin (it closes its connections and exits); SIGKILL after 5 s. */
  async function stop () {
    if (exit) return
    child.stdin.end()
    const gone = new Promise((resolve) => child.once('exit', resolve))
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await gone
    clearTimeout(timer)
  }

  /** For process 'exit': no waiting. */
  const kill = () => { if (!exit) child.kill('SIGKILL') }

  return { child, next, send, stop, kill }
}

module.exports = { memory, schedstat, fdLimit, fdCount, withFdLimit, startHolder }
