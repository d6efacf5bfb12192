'use strict'
// Running wrk and reading its report. Output format of wrk 4.x (src/wrk.c):
//     2400000 requests in 10.00s, 210.00MB read
//     Socket errors: connect 0, read 0, write 0, timeout 0      (only if any)
//     Non-2xx or 3xx responses: 12                              (only if any; status >= 400)
//   Requests/sec: 240000.00
const { run } = require('./spawn')
const { pinned } = require('./tools')

// "MB read" has 3 significant digits (wrk's format_binary), and bytes of the
// responses in flight when wrk stops count while the responses do not: 2% is
// above both, below a changed header or body in a ~100-byte response.
const SIZE_TOLERANCE = 0.02
const BINARY = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 }

/** wrk argv for one load against 127.0.0.1 (the only target, by design). */
function wrkArgv (wrk, load, { port, path, seconds, threads, connections }) {
  const argv = [wrk, `-t${threads}`, `-c${connections}`, `-d${seconds}s`, ...load.flags, `http://127.0.0.1:${port}${path}`]
  if (load.scriptArgs.length) argv.push('--', ...load.scriptArgs)
  return argv
}

function parseWrk (text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text)
  const total = /^\s*(\d+) requests in ([\d.]+)(\w+), ([\d.]+)([KMGTP]?)B read/m.exec(text)
  if (!rps || !total) throw new Error(`unexpected wrk output:\n${text}`)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text) || [0, 0, 0, 0, 0]
  const status = /Non-2xx or 3xx responses: (\d+)/.exec(text)
  return {
    rps: Number(rps[1]),
    requests: Number(total[1]),
    bytes: Math.round(Number(total[4]) * BINARY[total[5]]),
    errors: {
      connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]),
      status: status ? Number(status[1]) : 0
    }
  }
}

/**
 * Problems with one wrk result, given the response size the sanity check saw.
 * With `tolerateTimeouts` (peer cases: node:http starves some pipelined
 * connections past 2 s), wrk timeouts are not a problem; the report lists
 * them apart (result.errors.timeout).
 */
function flags (result, responseBytes, { tolerateTimeouts = false } = {}) {
  const out = []
  const e = result.errors
  if (!result.requests) out.push('no responses')
  if (e.status) out.push(`${e.status} responses with status >= 400`)
  const kinds = tolerateTimeouts ? ['connect', 'read', 'write'] : ['connect', 'read', 'write', 'timeout']
  const sock = kinds.filter((k) => e[k]).map((k) => `${k} ${e[k]}`)
  // wrk's "timeout" counts batches not fully answered within its 2 s --timeout:
  // a starved connection, which matters as much as a dropped one.
  if (sock.length) out.push(`socket errors: ${sock.join(', ')}${e.timeout && !tolerateTimeouts ? " (timeout: batches not answered within wrk's 2 s)" : ''}`)
  if (result.requests && responseBytes) {
    const perResponse = result.bytes / result.requests
    if (Math.abs(perResponse - responseBytes) > responseBytes * SIZE_TOLERANCE) {
      out.push(`${perResponse.toFixed(1)} bytes per response under load, ${responseBytes} when checked`)
    }
  }
  return out
}

/** Runs wrk pinned to `cpu`; hard deadline well past the requested duration. */
async function runWrk (tools, load, opts) {
  const argv = pinned(tools.pin, opts.cpu, wrkArgv(tools.wrk, load, opts))
  const text = await run(argv, { timeoutMs: (opts.seconds + 15) * 1000 })
  return parseWrk(text)
}

module.exports = { runWrk, parseWrk, flags, wrkArgv }
