// Framing: requests arriving in pieces (one byte per write, split at every offset),
// Content-Length bodies across writes, and malformed requests (400 + close).

import t from 'tap'
import { connect, get, post, delay } from './helpers/raw-client.mjs'
import { startApp, bodyDigest } from './helpers/app.mjs'

const { port } = await startApp(t)

/** Let the bytes written so far reach the server as their own read. */
const settle = () => delay(1)

t.test('a request sent one byte per write', async (t) => {
  const c = await connect(t, port)
  const req = get('/q?i=7', { headers: { 'X-Padding': 'abc' } })
  for (let i = 0; i < req.length - 1; i++) {
    await c.write(req.subarray(i, i + 1))
    await settle()
  }
  await delay(20)
  t.equal(c.buf.length, 0, 'nothing answered before the last byte')
  t.equal(c.ended, false, 'connection open before the last byte')
  await c.write(req.subarray(req.length - 1))
  const [res] = await c.readResponses(1)
  t.equal(res.status, 200)
  t.equal(res.text, '/q?i=7')

  // and a second one on the same connection, with setImmediate between bytes
  const req2 = get('/')
  for (let i = 0; i < req2.length; i++) {
    await c.write(req2.subarray(i, i + 1))
    await new Promise(setImmediate)
  }
  const [res2] = await c.readResponses(1)
  t.equal(res2.text, 'Hello world!')
})

t.test('a POST with a body sent one byte per write', async (t) => {
  const c = await connect(t, port)
  const body = Buffer.from('one\r\nbyte\0at a time\xff')
  const req = post('/body', body)
  for (let i = 0; i < req.length; i++) {
    await c.write(req.subarray(i, i + 1))
    await settle()
  }
  const [res] = await c.readResponses(1)
  t.equal(res.text, bodyDigest(body))
})

t.test('two pipelined GETs split in two writes at every offset', async (t) => {
  const pair = Buffer.concat([get('/q?a=1'), get('/q?b=2')])
  const c = await connect(t, port)
  const failures = []
  for (let cut = 1; cut < pair.length; cut++) {
    await c.write(pair.subarray(0, cut))
    await settle()
    await c.write(pair.subarray(cut))
    const rs = await c.readResponses(2)
    const got = rs.map((r) => `${r.status} ${r.text}`)
    if (got[0] !== '200 /q?a=1' || got[1] !== '200 /q?b=2') failures.push({ cut, got })
  }
  t.same(failures, [], `every one of ${pair.length - 1} cuts answered correctly`)
  t.equal(c.peek().rest.length, 0)
})

t.test('two pipelined requests split at every offset, each cut on a fresh connection', async (t) => {
  const pair = Buffer.concat([get('/n/3'), get('/n/4')])
  const failures = []
  for (let cut = 1; cut < pair.length; cut++) {
    const c = await connect(t, port)
    await c.write(pair.subarray(0, cut))
    await settle()
    await c.write(pair.subarray(cut))
    const rs = await c.readResponses(2)
    const got = rs.map((r) => r.text)
    if (got[0] !== 'n=3' || got[1] !== 'n=4') failures.push({ cut, got })
    c.destroy()
  }
  t.same(failures, [])
})

t.test('a POST with a body then a GET, split at every offset', async (t) => {
  const body = Buffer.from('GET /q?inside=body HTTP/1.1\r\n\r\n')
  const pair = Buffer.concat([post('/body', body), get('/q?after=post')])
  const c = await connect(t, port)
  const failures = []
  for (let cut = 1; cut < pair.length; cut++) {
    await c.write(pair.subarray(0, cut))
    await settle()
    await c.write(pair.subarray(cut))
    const rs = await c.readResponses(2)
    const got = rs.map((r) => r.text)
    if (got[0] !== bodyDigest(body) || got[1] !== '/q?after=post') failures.push({ cut, got })
  }
  t.same(failures, [], `every one of ${pair.length - 1} cuts answered correctly`)
})

t.test('a request split in three writes, with the splits in the CRLFs', async (t) => {
  const req = get('/q?three=1', { headers: { 'X-A': 'a', 'X-B': 'b' } })
  const crlfs = []
  for (let i = req.indexOf('\r\n'); i >= 0; i = req.indexOf('\r\n', i + 1)) crlfs.push(i)
  const c = await connect(t, port)
  for (const a of crlfs) {
    for (const b of [a + 1, a + 2]) {
      if (b >= req.length) continue
      await c.write(req.subarray(0, a + 1)) // ... \r | \n ...
      await settle()
      await c.write(req.subarray(a + 1, b + 1))
      await settle()
      if (b + 1 < req.length) await c.write(req.subarray(b + 1))
      const [res] = await c.readResponses(1)
      t.equal(res.text, '/q?three=1', `splits after ${a + 1} and ${b + 1}`)
    }
  }
})

// ---------------------------------------------------------------- malformed

async function expect400AndClose (t, raw, what) {
  const c = await connect(t, port)
  await c.write(raw)
  const { responses, rest } = await c.readUntilClose()
  t.equal(responses.length, 1, `${what}: exactly one response`)
  const res = responses[0]
  t.equal(res?.status, 400, `${what}: 400`)
  t.match(res?.statusLine, /^HTTP\/1\.1 400 /, `${what}: HTTP/1.1 status line`)
  t.ok(res && 'content-length' in res.headers, `${what}: 400 has Content-Length`)
  t.ok(res && 'date' in res.headers, `${what}: 400 has Date`)
  t.equal(rest.length, 0, `${what}: nothing after the 400`)
  return res
}

const MALFORMED = {
  'header line without a colon': 'GET / HTTP/1.1\r\nBad Header\r\n\r\n',
  'bare LF line endings': 'GET / HTTP/1.1\nHost: 127.0.0.1\n\n',
  'bare LF after the request line': 'GET / HTTP/1.1\nHost: 127.0.0.1\r\n\r\n',
  'bad character in the method': 'G(T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  'method with a slash': 'GE/T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  'whitespace between field name and colon': 'GET / HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n',
  'obs-fold': 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n b\r\n\r\n',
  'bad character in a field name': 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX(A): a\r\n\r\n',
  'NUL in a field value': 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\0b\r\n\r\n',
  'garbage version': 'GET / HTTX/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  'missing version': 'GET /\r\nHost: 127.0.0.1\r\n\r\n',
  'control character in the target': 'GET /a\x01b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  'non-numeric Content-Length': 'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n',
  'negative Content-Length': 'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n',
  'differing duplicate Content-Length': 'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
  'a line that is not a request': 'hello there\r\n\r\n'
}

t.test('malformed requests answer 400 and the server closes', async (t) => {
  for (const [what, raw] of Object.entries(MALFORMED)) {
    await t.test(what, async (t) => { await expect400AndClose(t, Buffer.from(raw, 'latin1'), what) })
  }
})

t.test('Host is required in HTTP/1.1 and must not repeat (RFC 9112 3.2: MUST answer 400)', async (t) => {
  t.test('HTTP/1.1 without Host', (t) => expect400AndClose(t, Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'no Host'))
  t.test('two Host lines', (t) => expect400AndClose(t, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'), 'two Host lines'))
  t.test('HTTP/1.0 without Host is answered', async (t) => {
    const c = await connect(t, port)
    await c.write('GET / HTTP/1.0\r\n\r\n')
    const { responses } = await c.readUntilClose()
    t.same(responses.map((r) => r.status), [200])
  })
  t.end()
})

t.test('malformed request after good ones in the same write: good ones first', async (t) => {
  for (const [what, raw] of Object.entries({
    'no colon': 'GET / HTTP/1.1\r\nBad Header\r\n\r\n',
    'bare LF': 'GET / HTTP/1.1\nHost: 127.0.0.1\n\n',
    'bad method': 'G@T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
  })) {
    const c = await connect(t, port)
    await c.write(Buffer.concat([get('/q?i=0'), post('/echo', 'abc'), get('/q?i=2'), Buffer.from(raw, 'latin1'), get('/q?i=never')]))
    const { responses, rest } = await c.readUntilClose()
    t.same(responses.map((r) => `${r.status} ${r.status === 400 ? '' : r.text}`),
      ['200 /q?i=0', '200 len=3', '200 /q?i=2', '400 '], `${what}: three answers, then 400, then close`)
    t.equal(rest.length, 0, `${what}: nothing after the 400`)
  }
})

t.test('malformed request after a good exchange on a keep-alive connection', async (t) => {
  const c = await connect(t, port)
  await c.write(get('/'))
  const [ok] = await c.readResponses(1)
  t.equal(ok.status, 200)
  await c.write('GET / HTTP/1.1\r\nBad Header\r\n\r\n')
  const { responses } = await c.readUntilClose()
  t.same(responses.map((r) => r.status), [400])
})

t.test('malformed request arriving in pieces still answers 400 and closes', async (t) => {
  const c = await connect(t, port)
  const raw = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n')
  // The server may answer as soon as it sees the bad line, before the head is complete,
  // so stop writing once it has closed.
  for (let i = 0; i < raw.length && !c.ended; i += 5) {
    try { await c.write(raw.subarray(i, i + 5)) } catch { break }
    await settle()
  }
  const { responses } = await c.readUntilClose()
  t.same(responses.map((r) => r.status), [400])
})

t.test('a 400 while the client is still sending does not leave the connection open', async (t) => {
  // The head is bad; the client keeps writing pipelined requests in later writes.
  const c = await connect(t, port)
  await c.write('G(T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  for (let i = 0; i < 3 && !c.ended; i++) {
    try { await c.write(get(`/q?late=${i}`)) } catch { break }
    await settle()
  }
  const { responses } = await c.readUntilClose()
  t.ok(responses.length <= 1, 'at most the 400')
  if (responses.length === 1) t.equal(responses[0].status, 400)
})
