'use strict'
// Minimal HTTP/1.1 client pieces shared by the bench's sanity check, the soak
// test's probe and its idle-connection holder: the request (what wrk sends) and Content-Length
// framing of the answers (salvo always sends one; anything else is reported).

/** GET `path` with only a Host header, like wrk.format(). */
function request (port, path = '/') {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1')
}

/**
 * Splits complete responses off the front of buf: { responses: [{ status,
 * body, close }], rest }. Throws on a response it cannot frame.
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
    if (!status || !cl) throw new Error(`unframed response: ${JSON.stringify(head.slice(0, 120))}`)
    const stop = end + 4 + Number(cl[1])
    if (stop > buf.length) break
    responses.push({
      status,
      body: buf.toString('utf8', end + 4, stop),
      close: /\r\nconnection: *close/i.test(head),
      bytes: stop - off
    })
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
