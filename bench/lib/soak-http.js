'use strict'
// Minimal HTTP/1.1 client pieces shared by the bench's sanity check, the soak
// test's probe and its idle-connection holder: the request (what wrk sends) and the framing
// of the answers: Content-Length, or chunked transfer coding (streamed answers); a response
// with neither is reported.

/** GET `path` with only a Host header, like wrk.format(). */
function request (port, path = '/') {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1')
}

/**
 * End of a chunked body that starts at `off` in buf: { stop, body } with stop
 * just past the last chunk's trailer section, or null when buf ends first.
 * Throws on a malformed chunk-size line.
 */
function chunkedEnd (buf, off) {
  const parts = []
  for (;;) {
    const eol = buf.indexOf('\r\n', off)
    if (eol < 0) return null
    const line = buf.toString('latin1', off, eol)
    const m = /^([0-9a-fA-F]+)(;.*)?$/.exec(line)
    if (!m) throw new Error(`bad chunk-size line: ${JSON.stringify(line.slice(0, 40))}`)
    const size = parseInt(m[1], 16)
    if (size === 0) {
      // Trailer fields, if any, then an empty line.
      let t = eol + 2
      for (;;) {
        const e = buf.indexOf('\r\n', t)
        if (e < 0) return null
        if (e === t) return { stop: e + 2, body: Buffer.concat(parts).toString('utf8') }
        t = e + 2
      }
    }
    const dataEnd = eol + 2 + size
    if (dataEnd + 2 > buf.length) return null
    if (buf[dataEnd] !== 13 || buf[dataEnd + 1] !== 10) throw new Error('chunk data not followed by CRLF')
    parts.push(buf.subarray(eol + 2, dataEnd))
    off = dataEnd + 2
  }
}

/**
 * Splits complete responses off the front of buf: { responses: [{ status,
 * body, close, bytes }], rest }; `bytes` is the whole response as sent (head
 * and framed body). Throws on a response it cannot frame.
 */
function parseResponses (buf) {
  const responses = []
  let off = 0
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off)
    if (end < 0) break
    const head = buf.toString('latin1', off, end)
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1])
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head)
    const chunked = /\r\ntransfer-encoding: *chunked/i.test(head)
    if (!status || (!cl && !chunked)) throw new Error(`unframed response: ${JSON.stringify(head.slice(0, 120))}`)
    let stop
    let body
    if (chunked) {
      const c = chunkedEnd(buf, end + 4)
      if (!c) break
      stop = c.stop
      body = c.body
    } else {
      stop = end + 4 + Number(cl[1])
      if (stop > buf.length) break
      body = buf.toString('utf8', end + 4, stop)
    }
    responses.push({ status, body, close: /\r\nconnection: *close/i.test(head), bytes: stop - off })
    off = stop
  }
  return { responses, rest: off ? buf.subarray(off) : buf }
}

/** Why a response is not the hello-world answer, or null. */
function wrongAnswer (res, expect) {
  if (res.status !== expect.status) return `status ${res.status}`
  if (expect.body !== undefined && res.body !== expect.body) return `body ${JSON.stringify(res.body.slice(0, 40))}`
  if (res.close) return 'Connection: close'
  return null
}

module.exports = { request, parseResponses, wrongAnswer }
