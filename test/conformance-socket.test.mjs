// HTTP/1.1 request conformance over real sockets on 127.0.0.1 against a salvo
// App (the framing rules case by case are in conformance.test.mjs): what
// only a connection shows: the status line sent, that the server closes after
// an error response, and that nothing after a `Connection: close` or HTTP/1.0
// request is answered.

import t from 'tap'
import { connect, delay } from './helpers/raw-client.mjs'
import { startApp, bodyDigest } from './helpers/app.mjs'
import { H, CHUNKED, get, chunked, fields } from './helpers/request-text.mjs'

// ---------------------------------------------------------------------------
// Over real sockets: the status line, the close after an error, and nothing
// answered after the last response of a connection.

t.test('over sockets', async (t) => {
  const { port } = await startApp(t)

  /** Send `bytes` in one write; the server must answer and then close. */
  async function exchange (t, bytes) {
    const c = await connect(t, port)
    await c.write(Buffer.from(bytes, 'latin1'))
    return c.readUntilClose()
  }

  const ERRORS = [
    [400, 'Bad Request', 'GET / HTTP/1.1\nHost: a\n\n'],
    [400, 'Bad Request', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`],
    [400, 'Bad Request', `POST /echo HTTP/1.1\r\n${H}Content-Length: 1\r\n${CHUNKED}\r\n0\r\n\r\n`],
    [413, 'Payload Too Large', `POST /echo HTTP/1.1\r\n${H}Content-Length: 1048577\r\n\r\n`],
    [417, 'Expectation Failed', `POST /echo HTTP/1.1\r\n${H}Expect: something\r\nContent-Length: 1\r\n\r\nx`],
    [431, 'Request Header Fields Too Large', `GET / HTTP/1.1\r\n${H}${fields(2000)}\r\n`],
    [431, 'Request Header Fields Too Large', `GET / HTTP/1.1\r\n${H}X-Big: ${'x'.repeat(17000)}\r\n\r\n`],
    [501, 'Not Implemented', `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`],
    [505, 'HTTP Version Not Supported', `GET / HTTP/2.0\r\n${H}\r\n`]
  ]
  for (const [status, reason, bytes] of ERRORS) {
    t.test(`${status} for ${JSON.stringify(bytes.slice(0, 70))}, then close; a request behind it is not answered`, async (t) => {
      const { responses, rest } = await exchange(t, bytes + get('/'))
      t.equal(responses.length, 1, 'one response')
      const res = responses[0]
      t.equal(res.statusLine, `HTTP/1.1 ${status} ${reason}`)
      t.match(res.headers.connection ?? '', /close/i, 'announces Connection: close')
      t.equal(rest.length, 0, 'nothing after it')
    })
  }

  t.test('an error after good pipelined requests: their answers, then the error, then close', async (t) => {
    const { responses } = await exchange(t, get('/n/1') + get('/n/2') + 'GET / HTTP/1.1\nHost: a\n\n' + get('/n/3'))
    t.same(responses.map((r) => r.status), [200, 200, 400])
    t.same(responses.slice(0, 2).map((r) => r.text), ['n=1', 'n=2'])
  })

  t.test('Connection: close: one answer, the next request in the same write is not answered', async (t) => {
    const { responses } = await exchange(t, get('/n/1', 'Connection: close\r\n') + get('/n/2'))
    t.same(responses.map((r) => [r.status, r.text]), [[200, 'n=1']])
    t.match(responses[0].headers.connection, /close/i)
  })

  t.test('HTTP/1.0: one answer, then close, even with requests queued behind it', async (t) => {
    const { responses } = await exchange(t, 'GET /n/1 HTTP/1.0\r\n\r\n' + get('/n/2') + get('/n/3'))
    t.same(responses.map((r) => [r.status, r.text]), [[200, 'n=1']])
    t.notOk(/keep-alive/i.test(responses[0].headers.connection ?? ''), 'does not announce keep-alive')
  })

  t.test('HTTP/1.0 keep-alive: the connection stays open', async (t) => {
    const c = await connect(t, port)
    await c.write('GET /n/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /n/2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
    const rs = await c.readResponses(2)
    t.same(rs.map((r) => r.text), ['n=1', 'n=2'])
    t.match(rs[0].headers.connection, /keep-alive/i, 'announces keep-alive')
    await c.write('GET /n/3 HTTP/1.0\r\n\r\n')
    const { responses } = await c.readUntilClose()
    t.same(responses.map((r) => r.text), ['n=3'], 'and closes after a 1.0 request without keep-alive')
  })

  t.test('a chunked body reaches the handler decoded', async (t) => {
    const c = await connect(t, port)
    await c.write(`POST /body HTTP/1.1\r\n${H}${CHUNKED}\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n` + get('/n/7'))
    const rs = await c.readResponses(2)
    t.equal(rs[0].text, bodyDigest(Buffer.from('hello world')))
    t.equal(rs[1].text, 'n=7')
  })

  t.test('a body arriving in pieces after the head', async (t) => {
    const c = await connect(t, port)
    await c.write(`POST /body HTTP/1.1\r\n${H}${CHUNKED}\r\n3\r\nabc\r`)
    await delay(20)
    await c.write('\n0\r\n')
    await delay(20)
    await c.write('\r\n')
    const [res] = await c.readResponses(1)
    t.equal(res.text, bodyDigest(Buffer.from('abc')))
  })

  for (const [name, bytes] of [
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n'],
    ['two Host lines', `GET / HTTP/1.1\r\n${H}${H}\r\n`],
    ['an empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n'],
    ['an invalid Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n']
  ]) {
    t.test(`400 for ${name} (RFC 9112 3.2), then close`, async (t) => {
      const { responses } = await exchange(t, bytes + get('/'))
      t.same(responses.map((r) => r.statusLine), ['HTTP/1.1 400 Bad Request'])
    })
  }

  t.test('Expect: 100-continue gets a 100 (Continue) before the body is sent (RFC 9110 10.1.1)', async (t) => {
    const c = await connect(t, port)
    await c.write(`POST /echo HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`)
    const [interim] = await c.readResponses(1)
    t.equal(interim.statusLine, 'HTTP/1.1 100 Continue', 'the interim response arrives without the body')
    await c.write('hello')
    const [res] = await c.readResponses(1)
    t.equal(res.status, 200)
    t.equal(res.text, 'len=5')
  })

  t.test('Expect: 100-continue with a final status known from the head: that status, no 100', async (t) => {
    const { responses } = await exchange(t, `POST /echo HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 1048577\r\n\r\n`)
    t.same(responses.map((r) => r.status), [413])
  })

  t.test('no 100 (Continue) for an HTTP/1.0 request (RFC 9110 10.1.1 "MUST ignore", 15.2 "MUST NOT send a 1xx response to an HTTP/1.0 client")', async (t) => {
    const c = await connect(t, port)
    await c.write('POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n')
    // A wrong 100 would be sent as soon as the head is read; if this delay
    // is too short on a slow machine the check can only pass wrongly, never
    // fail wrongly.
    await delay(50)
    await c.write('hello')
    const { responses } = await c.readUntilClose()
    t.equal(responses.at(-1)?.status, 200, 'the final response')
    t.same(responses.map((r) => r.status), [200], 'and nothing before it')
  })
})
