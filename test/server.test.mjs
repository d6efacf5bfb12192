// Basic server behaviour over real sockets: hello world, 404, request fields,
// Content-Length bodies, keep-alive / Connection: close / HTTP/1.0, server.close().

import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { connect, get, post, delay, withTimeout, IMF_FIXDATE } from './helpers/raw-client.mjs'
import { startApp, loadSalvo, bodyDigest } from './helpers/app.mjs'

const { port } = await startApp(t)

function checkCommonHeaders (t, res, bodyLength) {
  t.equal(res.headers['content-length'], String(bodyLength), 'Content-Length matches the body')
  t.match(res.headers.date, IMF_FIXDATE, 'Date is an IMF-fixdate')
  const skew = Math.abs(Date.parse(res.headers.date) - Date.now())
  t.ok(skew < 60_000, `Date is current (skew ${skew} ms)`)
  t.notOk('transfer-encoding' in res.headers, 'no Transfer-Encoding alongside Content-Length')
}

function httpGet (path, opts = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, ...opts }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  }), 10_000, `http request ${path}`)
}

t.test('hello world with node:http', async (t) => {
  const { res, body } = await httpGet('/')
  t.equal(res.statusCode, 200)
  t.equal(res.httpVersion, '1.1')
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(res.headers['content-length'], '12')
  t.match(res.headers.date, IMF_FIXDATE)
  t.equal(body.toString('latin1'), 'Hello world!')
})

t.test('hello world with a raw socket', async (t) => {
  const c = await connect(t, port)
  await c.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  const [res] = await c.readResponses(1)
  t.equal(res.statusLine, 'HTTP/1.1 200 OK')
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
  checkCommonHeaders(t, res, 12)
  t.equal(res.body.toString('latin1'), 'Hello world!')
  t.notOk(/(^|,)\s*close\s*(,|$)/i.test(res.headers.connection || ''), 'HTTP/1.1 response does not announce close')
  t.equal(c.peek().rest.length, 0, 'nothing after the response')
  // And the connection is still usable.
  await c.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  const [again] = await c.readResponses(1)
  t.equal(again.status, 200)
  t.equal(again.text, 'Hello world!')
})

t.test('a non-ASCII string body is UTF-8 with a byte Content-Length', async (t) => {
  const { port } = await startApp(t, (app) => { app.get('/u', () => 'héllo ✓ 😀') })
  const c = await connect(t, port)
  await c.write(get('/u'))
  const [res] = await c.readResponses(1)
  t.equal(res.status, 200)
  const expected = Buffer.from('héllo ✓ 😀', 'utf8')
  t.equal(res.headers['content-length'], String(expected.length))
  t.same(res.body, expected)
})

t.test('unknown path answers 404 and keeps the connection', async (t) => {
  const c = await connect(t, port)
  await c.write(get('/no/such/path'))
  const [res] = await c.readResponses(1)
  t.equal(res.status, 404)
  t.match(res.statusLine, /^HTTP\/1\.1 404 /)
  t.ok('content-length' in res.headers, '404 has Content-Length')
  t.ok('date' in res.headers, '404 has Date')
  checkCommonHeaders(t, res, res.body.length)
  await c.write(get('/'))
  const [ok] = await c.readResponses(1)
  t.equal(ok.status, 200, 'connection still serves after a 404')
  t.equal(ok.text, 'Hello world!')

  const viaHttp = await httpGet('/missing')
  t.equal(viaHttp.res.statusCode, 404)
})

t.test('a route is matched on the path, not the query string', async (t) => {
  const c = await connect(t, port)
  await c.write(get('/?a=1&b=2'))
  const [res] = await c.readResponses(1)
  t.equal(res.status, 200)
  t.equal(res.text, 'Hello world!')
  await c.write(get('/q?x=%20y'))
  const [q] = await c.readResponses(1)
  t.equal(q.text, '/q?x=%20y', 'req.url is the raw target')
})

t.test('request fields: method, url, path, httpVersion, headers, body', async (t) => {
  const c = await connect(t, port)
  await c.write('GET /info?x=1&y=two HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Custom-Thing: Some Value\r\nACCEPT: */*\r\n\r\n')
  const [res] = await c.readResponses(1)
  t.equal(res.status, 200)
  const info = JSON.parse(res.text)
  t.equal(info.method, 'GET')
  t.equal(info.url, '/info?x=1&y=two')
  t.equal(info.path, '/info')
  t.equal(info.httpVersion, '1.1')
  t.equal(info.headers.host, '127.0.0.1')
  t.equal(info.headers['x-custom-thing'], 'Some Value', 'names lower-cased, value kept as sent')
  t.equal(info.headers.accept, '*/*')
  t.notOk('X-Custom-Thing' in info.headers, 'no mixed-case name')
  t.equal(info.isBuffer, true, 'req.body is a Buffer without a body')
  t.equal(info.bodyLength, 0)

  await c.write('POST /info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc')
  const [p] = await c.readResponses(1)
  const pinfo = JSON.parse(p.text)
  t.equal(pinfo.method, 'POST')
  t.equal(pinfo.path, '/info')
  t.equal(pinfo.headers['content-length'], '3')
  t.equal(pinfo.bodyLength, 3)

  await c.write('GET /info HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
  const { responses } = await c.readUntilClose()
  t.equal(responses.length, 1)
  t.equal(JSON.parse(responses[0].text).httpVersion, '1.0')
})

t.test('optional whitespace around header values is not part of the value', async (t) => {
  const c = await connect(t, port)
  await c.write('GET /info HTTP/1.1\r\nHost:127.0.0.1\r\nX-A:   spaced out  \r\nX-B:\ttabbed\t\r\n\r\n')
  const [res] = await c.readResponses(1)
  const info = JSON.parse(res.text)
  t.equal(info.headers.host, '127.0.0.1')
  t.equal(info.headers['x-a'], 'spaced out')
  t.equal(info.headers['x-b'], 'tabbed')
})

t.test('POST with a Content-Length body', async (t) => {
  t.test('small body', async (t) => {
    const c = await connect(t, port)
    await c.write(post('/echo', 'hello'))
    const [res] = await c.readResponses(1)
    t.equal(res.status, 200)
    t.equal(res.text, 'len=5')
    checkCommonHeaders(t, res, 5)
    await c.write(post('/body', 'hello world'))
    const [d] = await c.readResponses(1)
    t.equal(d.text, bodyDigest(Buffer.from('hello world')))
  })

  t.test('empty bodies: Content-Length: 0 and no Content-Length', async (t) => {
    const c = await connect(t, port)
    await c.write('POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n')
    const [a] = await c.readResponses(1)
    t.equal(a.text, 'len=0')
    await c.write('POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const [b] = await c.readResponses(1)
    t.equal(b.text, bodyDigest(Buffer.alloc(0)), 'req.body is an empty Buffer')
  })

  t.test('binary body with every byte value', async (t) => {
    const body = Buffer.alloc(512)
    for (let i = 0; i < body.length; i++) body[i] = i & 0xff
    const c = await connect(t, port)
    await c.write(post('/body', body, { headers: { 'Content-Type': 'application/octet-stream' } }))
    const [res] = await c.readResponses(1)
    t.equal(res.text, bodyDigest(body))
  })

  t.test('~100 KB body in one write', async (t) => {
    const body = Buffer.alloc(100 * 1024 + 7)
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 8)) & 0xff
    const c = await connect(t, port)
    await c.write(post('/body', body))
    const [res] = await c.readResponses(1, { timeout: 20_000 })
    t.equal(res.status, 200)
    t.equal(res.text, bodyDigest(body))
    // The connection is in sync afterwards.
    await c.write(get('/'))
    const [next] = await c.readResponses(1)
    t.equal(next.text, 'Hello world!')
  })

  t.test('~100 KB body split across many writes', async (t) => {
    const body = Buffer.alloc(100 * 1024)
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 3) & 0xff
    const req = post('/body', body)
    const c = await connect(t, port)
    const headEnd = req.indexOf('\r\n\r\n') + 4
    // the head, then the body in uneven pieces, with pauses so the server sees separate reads
    await c.write(req.subarray(0, headEnd))
    await delay(5)
    const sizes = [1, 2, 1000, 4096, 16384, 3, 65536]
    let off = headEnd
    let k = 0
    const last = req.length - 1
    while (off < last) {
      const end = Math.min(last, off + sizes[k++ % sizes.length])
      await c.write(req.subarray(off, end))
      off = end
      if (k % 3 === 0) await delay(2)
    }
    await delay(20)
    t.equal(c.buf.length, 0, 'no response before the last body byte')
    await c.write(req.subarray(last))
    const [res] = await c.readResponses(1, { timeout: 20_000 })
    t.equal(res.text, bodyDigest(body))
  })

  t.test('a body split inside the head/body boundary', async (t) => {
    const body = Buffer.from('0123456789abcdef')
    const req = post('/body', body)
    const headEnd = req.indexOf('\r\n\r\n') + 4
    for (const cut of [headEnd - 3, headEnd - 2, headEnd - 1, headEnd, headEnd + 1, req.length - 1]) {
      const c = await connect(t, port)
      await c.write(req.subarray(0, cut))
      await delay(5)
      await c.write(req.subarray(cut))
      const [res] = await c.readResponses(1)
      t.equal(res.text, bodyDigest(body), `cut at ${cut}`)
      c.destroy()
    }
  })

  t.test('with node:http', async (t) => {
    const body = Buffer.from('x'.repeat(3000))
    const { res, body: out } = await httpGet('/echo', { method: 'POST', body, headers: { 'content-length': body.length } })
    t.equal(res.statusCode, 200)
    t.equal(out.toString(), 'len=3000')
  })

  t.end()
})

t.test('keep-alive: several sequential requests on one connection', async (t) => {
  const c = await connect(t, port)
  for (let i = 0; i < 10; i++) {
    if (i % 2) await c.write(get(`/q?seq=${i}`))
    else await c.write(post('/echo', 'x'.repeat(i)))
    const [res] = await c.readResponses(1)
    t.equal(res.status, 200)
    t.equal(res.text, i % 2 ? `/q?seq=${i}` : `len=${i}`)
    t.notOk(/close/i.test(res.headers.connection || ''), 'not closing')
  }
  t.equal(c.ended, false, 'the connection is still open')
})

t.test('Connection: close', async (t) => {
  t.test('the response says close and the server closes after it', async (t) => {
    const c = await connect(t, port)
    await c.write(get('/', { headers: { Connection: 'close' } }))
    const { responses, rest } = await c.readUntilClose()
    t.equal(responses.length, 1)
    t.equal(responses[0].status, 200)
    t.equal(responses[0].text, 'Hello world!')
    t.match(responses[0].headers.connection, /^close$/i)
    t.equal(rest.length, 0, 'nothing after the response')
  })

  t.test('the option is case-insensitive', async (t) => {
    const c = await connect(t, port)
    await c.write(get('/', { headers: { Connection: 'Close' } }))
    const { responses } = await c.readUntilClose()
    t.equal(responses.length, 1)
    t.match(responses[0].headers.connection, /^close$/i)
  })

  t.test('requests pipelined after it are not answered', async (t) => {
    const c = await connect(t, port)
    await c.write(Buffer.concat([get('/q?i=0'), get('/q?i=1', { headers: { Connection: 'close' } }), get('/q?i=2')]))
    const { responses, rest } = await c.readUntilClose()
    t.same(responses.map((r) => `${r.status} ${r.text}`), ['200 /q?i=0', '200 /q?i=1'])
    t.match(responses[1]?.headers.connection, /^close$/i)
    t.equal(rest.length, 0)
  })

  t.test('after a POST body', async (t) => {
    const c = await connect(t, port)
    await c.write(post('/echo', 'abcd', { headers: { Connection: 'close' } }))
    const { responses } = await c.readUntilClose()
    t.equal(responses.length, 1)
    t.equal(responses[0].text, 'len=4')
  })
  t.end()
})

t.test('a client that half-closes after its requests still gets the answers', async (t) => {
  const c = await connect(t, port)
  await c.write(Buffer.concat([get('/q?h=1'), get('/q?h=2')]))
  c.socket.end() // FIN from the client; its read side stays open
  const { responses, rest } = await c.readUntilClose()
  t.same(responses.map((r) => `${r.status} ${r.text}`), ['200 /q?h=1', '200 /q?h=2'])
  t.equal(rest.length, 0)
})

t.test('HTTP/1.0', async (t) => {
  t.test('closes after the response', async (t) => {
    const c = await connect(t, port)
    await c.write('GET / HTTP/1.0\r\n\r\n')
    const { responses, rest } = await c.readUntilClose()
    t.equal(responses.length, 1)
    const res = responses[0]
    t.match(res.statusLine, /^HTTP\/1\.1 200 /, 'answered as HTTP/1.1')
    t.equal(res.text, 'Hello world!')
    checkCommonHeaders(t, res, 12)
    t.notOk(/keep-alive/i.test(res.headers.connection || ''), 'does not announce keep-alive')
    t.equal(rest.length, 0)
  })

  t.test('requests pipelined after a 1.0 request are not answered', async (t) => {
    const c = await connect(t, port)
    await c.write(Buffer.concat([get('/q?i=0', { version: '1.0' }), get('/q?i=1')]))
    const { responses } = await c.readUntilClose()
    t.same(responses.map((r) => `${r.status} ${r.text}`), ['200 /q?i=0'])
  })

  t.test('with Connection: keep-alive stays open', async (t) => {
    const c = await connect(t, port)
    for (let i = 0; i < 3; i++) {
      await c.write(get(`/q?k=${i}`, { version: '1.0', headers: { Connection: 'keep-alive' } }))
      const [res] = await c.readResponses(1)
      t.match(res.statusLine, /^HTTP\/1\.1 200 /)
      t.equal(res.text, `/q?k=${i}`)
      t.match(res.headers.connection, /^keep-alive$/i, 'response says keep-alive')
      checkCommonHeaders(t, res, res.body.length)
    }
    t.equal(c.ended, false)
    // A 1.0 request without keep-alive on the same connection ends it.
    await c.write(get('/q?k=last', { version: '1.0' }))
    const { responses } = await c.readUntilClose()
    t.same(responses.map((r) => `${r.status} ${r.text}`), ['200 /q?k=last'])
  })

  t.test('with Connection: Keep-Alive (case-insensitive)', async (t) => {
    const c = await connect(t, port)
    await c.write(get('/', { version: '1.0', headers: { Connection: 'Keep-Alive' } }))
    const [res] = await c.readResponses(1)
    t.match(res.headers.connection, /^keep-alive$/i)
    await c.write(get('/', { version: '1.0', headers: { Connection: 'keep-alive' } }))
    const [res2] = await c.readResponses(1)
    t.equal(res2.text, 'Hello world!')
  })

  t.test('close wins over keep-alive in the same request (RFC 9112 9.3)', async (t) => {
    const cases = {
      'Connection: close, keep-alive': 'GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n',
      'Connection: keep-alive, close': 'GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n',
      'Connection: close then Connection: keep-alive': 'GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n'
    }
    for (const [what, raw] of Object.entries(cases)) {
      t.test(what, async (t) => {
        const c = await connect(t, port)
        await c.write(raw)
        const { responses } = await c.readUntilClose()
        t.same(responses.map((r) => r.status), [200])
        t.notOk(/keep-alive/i.test(responses[0]?.headers.connection || ''), 'response does not say keep-alive')
      })
    }
    t.end()
  })

  t.test('POST with a body over HTTP/1.0', async (t) => {
    const c = await connect(t, port)
    await c.write(post('/body', 'ten bytes!', { version: '1.0' }))
    const { responses } = await c.readUntilClose()
    t.equal(responses.length, 1)
    t.equal(responses[0].text, bodyDigest(Buffer.from('ten bytes!')))
  })
  t.end()
})

function connectRefused (port) {
  return withTimeout(new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' })
    s.once('connect', () => { s.destroy(); resolve(false) })
    s.once('error', (err) => resolve(err.code === 'ECONNREFUSED' ? true : err.code))
  }), 10_000, 'connect after close')
}

t.test('server.close()', async (t) => {
  const { App } = loadSalvo()

  t.test('resolves and the port no longer accepts', async (t) => {
    const app = new App()
    app.get('/', () => 'Hello world!')
    const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
    const p = server.port
    // It serves before close.
    const c = await connect(t, p)
    await c.write(get('/', { headers: { Connection: 'close' } }))
    const { responses } = await c.readUntilClose()
    t.equal(responses[0]?.text, 'Hello world!')

    await withTimeout(Promise.resolve(server.close()), 10_000, 'server.close()')
    t.pass('close() resolved')
    t.equal(await connectRefused(p), true, 'connection refused after close')
  })

  t.test('resolves with an idle keep-alive connection open, which is closed', async (t) => {
    const app = new App()
    app.get('/', () => 'Hello world!')
    const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
    const p = server.port
    const c = await connect(t, p)
    await c.write(get('/'))
    const [res] = await c.readResponses(1)
    t.equal(res.text, 'Hello world!')
    await withTimeout(Promise.resolve(server.close()), 10_000, 'server.close() with an idle connection')
    t.pass('close() resolved')
    t.equal(await c.closedWithin(10_000), true, 'the idle connection was closed by the server')
    t.equal(await connectRefused(p), true, 'connection refused after close')
  })

  t.test('a second app can listen on the same port afterwards', async (t) => {
    const app = new App()
    app.get('/', () => 'one')
    const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
    const p = server.port
    await withTimeout(Promise.resolve(server.close()), 10_000, 'server.close()')
    const app2 = new App()
    app2.get('/', () => 'two')
    const server2 = await withTimeout(app2.listen({ port: p, host: '127.0.0.1' }), 10_000, 'listen again')
    t.teardown(() => withTimeout(Promise.resolve(server2.close()), 10_000, 'close').catch(() => {}))
    t.equal(server2.port, p)
    const c = await connect(t, p)
    await c.write(get('/'))
    const [res] = await c.readResponses(1)
    t.equal(res.text, 'two')
  })
  t.end()
})
