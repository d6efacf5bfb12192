'use strict'
const { parseResponses } = require('./soak-http')
// Sanity checks around each measurement: a fast wrong answer is not a result.
// wrk only counts status >= 400 as an error and never looks at bodies, so we
// look ourselves, before and after the load:
//   1. one request through node's http client (what a real client sees);
//   2. `depth` requests pipelined in one write on a raw socket: every one must
//      be answered, in order, correctly. Its byte count per response is what
//      wrk's "MB read" must match during the load (see wrk.js).
const http = require('node:http')
const net = require('node:net')

const TIMEOUT_MS = 5000

function describe (res, expect) {
  const problems = []
  if (res.status !== expect.status) problems.push(`status ${res.status}, expected ${expect.status}`)
  if (expect.body !== undefined && res.body !== expect.body) {
    problems.push(`body ${JSON.stringify(res.body.slice(0, 60))}, expected ${JSON.stringify(expect.body)}`)
  }
  return problems
}

function httpRequest (port, c) {
  const req = c.request || {}
  return new Promise((resolve, reject) => {
    const r = http.request({
      host: '127.0.0.1', port, path: c.path, method: req.method || 'GET', headers: req.headers, agent: false
    }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => { body += d }).on('end', () => resolve({ status: res.statusCode, body }))
    })
    r.setTimeout(TIMEOUT_MS, () => r.destroy(new Error(`no response within ${TIMEOUT_MS} ms`)))
    r.once('error', reject)
    r.end(req.body)
  })
}

/** The request wrk sends (wrk.format: request line, Host, Content-Length if a body). */
function rawRequest (port, c) {
  const req = c.request || {}
  const lines = [`${req.method || 'GET'} ${c.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`]
  for (const [k, v] of Object.entries(req.headers || {})) lines.push(`${k}: ${v}`)
  if (req.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(req.body)}`)
  return lines.join('\r\n') + '\r\n\r\n' + (req.body || '')
}

function pipelined (port, c, depth) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    const got = []
    const finish = (err) => { clearTimeout(timer); sock.destroy(); err ? reject(err) : resolve(got) }
    const timer = setTimeout(() => finish(new Error(`${got.length}/${depth} pipelined responses within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
    sock.once('connect', () => sock.write(rawRequest(port, c).repeat(depth)))
    sock.on('data', (d) => {
      try {
        const { responses, rest } = parseResponses(Buffer.concat([buf, d]))
        got.push(...responses)
        buf = rest
      } catch (err) { return finish(err) }
      if (got.length >= depth) finish(got.length > depth ? new Error(`${got.length} responses to ${depth} requests`) : null)
    })
    sock.once('error', finish)
    sock.once('end', () => finish(new Error(`connection closed after ${got.length}/${depth} pipelined responses`)))
  })
}

/**
 * Returns { problems: string[], responseBytes } where responseBytes is the
 * size of one whole response (all the same, or the problems say so).
 */
async function check (port, c, depth) {
  const problems = []
  try {
    for (const p of describe(await httpRequest(port, c), c.expect)) problems.push(`http.get: ${p}`)
  } catch (err) { problems.push(`http.get: ${err.message}`) }
  let responseBytes = null
  try {
    const responses = await pipelined(port, c, depth)
    responses.forEach((res, i) => {
      for (const p of describe(res, c.expect)) problems.push(`pipelined #${i + 1}: ${p}`)
    })
    const sizes = new Set(responses.map((r) => r.bytes))
    if (sizes.size > 1) problems.push(`pipelined responses differ in size: ${[...sizes].join(', ')} bytes`)
    responseBytes = responses[0].bytes
  } catch (err) { problems.push(`pipelined: ${err.message}`) }
  return { problems: problems.slice(0, 5), responseBytes }
}

module.exports = { check }
